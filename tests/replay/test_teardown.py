"""replay/_core/_teardown.py: an instance that is done with finishes its tasks now.

Fanout's update handler waits on a timer and its ``finally`` awaits: left to the
garbage collector, such a coroutine is reported as "coroutine ignored
GeneratorExit" in whatever code runs when it is collected. Discarding the
instance (the driver's ``close()`` and ``recover()``, the worker's sticky cache,
the debugger) cancels it and runs that cleanup at once.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.workload.samples import CounterWorkflow
from replay._worker._cache import StickyCache
from replay.client import WorkflowUpdateStage
from replay.testing import WorkflowDriver

from .cli_workflows.fanout import Fanout
from .workers.harness import bounded, running, sqlite_client, wait_until


@pytest.fixture
def unraisable(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What the garbage collector reports as ignored while the test runs (collected
    first, so that nothing of an earlier test is counted)."""
    gc.collect()
    seen: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook",
                        lambda u: seen.append(f"{u.exc_type.__name__}: {u.exc_value}"))
    yield seen


def waiting_handler() -> WorkflowDriver:
    """A Fanout run whose update handler waits on its timer (cleanup that awaits)."""
    d = WorkflowDriver(Fanout, [], run_id="run-fanout")
    d.step()
    d.update("label", "first", update_id="u1")
    d.step()
    assert d.open_timers() and not d.instance.closed
    return d


def test_without_a_discard_the_collector_reports_the_handler(unraisable: list[str]) -> None:
    # the counterpart of the tests below: what discarding prevents
    d = waiting_handler()
    del d
    gc.collect()
    assert any("GeneratorExit" in u for u in unraisable)


def test_closing_the_driver_runs_the_handlers_cleanup_now(unraisable: list[str]) -> None:
    with waiting_handler() as d:
        inst = d.instance
    assert inst.loop.is_closed() and not asyncio.all_tasks(inst.loop)
    assert inst.workflow.labels == []  # cancelled in its sleep: the append never ran
    del d, inst
    gc.collect()
    assert unraisable == []


def test_discarding_twice_is_harmless() -> None:
    d = waiting_handler()
    d.close()
    d.close()
    assert d.instance.loop.is_closed()


def test_recovering_discards_the_crashed_instance(unraisable: list[str]) -> None:
    d = waiting_handler()
    crashed = d.instance
    d.recover()
    assert crashed.loop.is_closed() and d.instance is not crashed
    assert not d.instance.loop.is_closed() and d.open_timers()  # the rebuilt run waits
    del crashed
    gc.collect()
    assert unraisable == []
    d.close()


def test_instances_that_leave_the_cache_and_stay_out_are_discarded(
        unraisable: list[str]) -> None:
    drivers = [WorkflowDriver(CounterWorkflow, 0, run_id=r) for r in "abcd"]
    for driver in drivers:
        driver.step()  # each run now waits for its signals
    a, b, c, d = (driver.instance for driver in drivers)
    cache = StickyCache(2)
    for inst in (a, b, c):
        cache.remember(inst)  # evicts a
    assert cache.take("b") is b
    cache.remember(b)  # taken and put back within the pass: kept
    cache.drop("c")
    cache.remember(d)
    assert not a.loop.is_closed()  # nothing is discarded before the pass ends
    cache.discard_departed()
    assert [i.loop.is_closed() for i in (a, b, c, d)] == [True, False, True, False]
    cache.clear()
    assert b.loop.is_closed() and d.loop.is_closed() and len(cache) == 0
    del drivers, a, b, c, d
    gc.collect()
    assert unraisable == []


async def test_a_worker_discards_the_run_it_evicts(tmp_path: Path,
                                                   unraisable: list[str]) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client, workflows=[Fanout], activities=[],
                       max_cached_workflows=1) as worker:
        first = await client.start_workflow(Fanout.run, [], id="first", task_queue="tests")
        await bounded(first.start_update(Fanout.label, "x",
                                         wait_for_stage=WorkflowUpdateStage.ACCEPTED))
        # the update is durable before the worker settles its commit: wait for the latter
        await wait_until(lambda: first.result_run_id in worker.cache)
        held = worker.cache.get(str(first.result_run_id))
        assert held is not None and not held.loop.is_closed()
        second = await client.start_workflow(Fanout.run, [], id="second", task_queue="tests")
        await wait_until(lambda: second.result_run_id in worker.cache)
        assert list(worker.cache) == [second.result_run_id]
        assert held.loop.is_closed()  # evicted, and its handler's cleanup has run
        del held
        gc.collect()
        assert unraisable == []
    client.close()
