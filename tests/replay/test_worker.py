"""Worker: lifecycle, the sticky cache and eviction, timers, sharing a task queue."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import replay._worker._worker as worker_module
from fixtures.workload import samples
from fixtures.workload.samples import CounterWorkflow, SleepWorkflow, StepsWorkflow, Tally
from replay._replay._replayer import replay_events
from replay._worker._cache import StickyCache
from replay.history import History
from replay.testing import WorkflowDriver
from replay.worker import Worker

from .workers.harness import QUEUE, bounded, kinds, running, sqlite_client, wait_until


@pytest.fixture(autouse=True)
def _reset() -> None:
    samples.reset()


@pytest.fixture
def replays(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run ids the worker rebuilt by replaying their history (cache misses)."""
    seen: list[str] = []
    original = replay_events

    def counting(inst: Any, events: Any) -> Any:
        seen.append(inst.run_id)
        return original(inst, events)

    monkeypatch.setattr(worker_module, "replay_events", counting)
    return seen


async def test_async_with_worker_runs_a_workflow_to_completion(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client) as worker:
        handle = await client.start_workflow(CounterWorkflow.run, 5, id="c1", task_queue=QUEUE)
        await handle.signal(CounterWorkflow.add, 2)
        await handle.signal(CounterWorkflow.finish)
        assert await bounded(handle.result()) == Tally(7, ["add:2"])
        assert worker in client.local_workers
    assert worker not in client.local_workers
    history = await handle.fetch_history()
    assert kinds(history.events)[-1] == "WorkflowCompleted"


async def test_run_and_shutdown(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    worker = Worker(client, task_queue=QUEUE, workflows=[SleepWorkflow])
    task = asyncio.create_task(worker.run())
    handle = await client.start_workflow(SleepWorkflow.run, 0.01, id="s", task_queue=QUEUE)
    assert await bounded(handle.result()) == "slept True"
    await bounded(worker.shutdown())
    await bounded(task)
    assert task.done() and task.exception() is None
    # After shutdown nothing processes the queue: the worker left no task behind and
    # is no longer known to the client, so a new run stays untouched.
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert worker not in client.local_workers
    late = await client.start_workflow(SleepWorkflow.run, 0.01, id="late", task_queue=QUEUE)
    assert (await late.describe()).history_length == 1


async def test_sticky_cache_costs_one_activation_per_signal(
        tmp_path: Path, replays: list[str]) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client) as worker:
        handle = await client.start_workflow(CounterWorkflow.run, 0, id="c", task_queue=QUEUE)
        run_id = handle.result_run_id
        assert run_id is not None
        await wait_until(lambda: run_id in worker.cache)
        inst = worker.cache.get(run_id)
        assert replays == [run_id]  # built once, from its WorkflowStarted
        for n in range(1, 6):
            await handle.signal(CounterWorkflow.add, n)
            await wait_until(lambda n=n: kinds(client.store.read(run_id)).count(
                "WorkflowTaskCompleted") == n + 1)
            assert worker.cache.get(run_id) is inst
        await handle.signal(CounterWorkflow.finish)
        assert (await bounded(handle.result())).total == 15
    assert replays == [run_id], "a cached run must never be rebuilt by replay"
    # one activation (one WorkflowTaskCompleted) per signal, plus the first and the last
    events = kinds(client.store.read(run_id))
    assert events.count("WorkflowTaskCompleted") == 6  # the closing activation ends in
    assert events[-2:] == ["SignalReceived", "WorkflowCompleted"]  # the terminal event


def test_sticky_cache_evicts_the_least_recently_used() -> None:
    a, b, c = (WorkflowDriver(CounterWorkflow, 0, run_id=r).instance for r in "abc")
    cache = StickyCache(2)
    for run in (a, b):
        cache.remember(run)
    cache.remember(a)  # a is now the most recently used
    cache.remember(c)
    assert list(cache) == ["a", "c"] and "b" not in cache and len(cache) == 2
    assert cache.get("a") is a and list(cache) == ["a", "c"]  # get keeps the order
    assert cache.take("a") is a and list(cache) == ["c"]
    cache.drop("c")
    cache.drop("c")
    assert cache.take("c") is None and len(cache) == 0


async def test_eviction_then_replay_continues_correctly(
        tmp_path: Path, replays: list[str]) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client, max_cached_workflows=1) as worker:
        a = await client.start_workflow(CounterWorkflow.run, 100, id="a", task_queue=QUEUE)
        await wait_until(lambda: a.result_run_id in worker.cache)
        b = await client.start_workflow(CounterWorkflow.run, 200, id="b", task_queue=QUEUE)
        await wait_until(lambda: b.result_run_id in worker.cache)
        assert list(worker.cache) == [b.result_run_id]  # a was evicted
        await a.signal(CounterWorkflow.add, 1)
        await wait_until(lambda: a.result_run_id in worker.cache)
        assert list(worker.cache) == [a.result_run_id]
        assert replays.count(str(a.result_run_id)) == 2  # built, evicted, rebuilt by replay
        # one message at a time: a signal landing while the run's activation is being
        # committed makes that commit conflict, and the run is rebuilt once more
        await b.signal(CounterWorkflow.add, 2)
        await wait_until(lambda: b.result_run_id in worker.cache)
        await a.signal(CounterWorkflow.finish)
        assert await bounded(a.result()) == Tally(101, ["add:1"])
        await b.signal(CounterWorkflow.finish)
        assert await bounded(b.result()) == Tally(202, ["add:2"])
    assert replays.count(str(b.result_run_id)) == 2


async def test_timers_fire(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        handles = [await client.start_workflow(SleepWorkflow.run, 0.05, id=f"t{i}",
                                               task_queue=QUEUE) for i in range(3)]
        for h in handles:
            assert await bounded(h.result()) == "slept True"
    events = client.store.read(handles[0].result_run_id or "")
    assert kinds(events) == ["WorkflowStarted", "TimerStarted", "WorkflowTaskCompleted",
                             "TimerFired", "WorkflowCompleted"]
    fired = events[3]
    assert fired.time - events[0].time >= timedelta(seconds=0.05)


async def test_two_workers_in_one_process_share_a_task_queue(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    w1 = Worker(client, task_queue=QUEUE, workflows=samples.ALL_WORKFLOWS,
                activities=samples.ALL_ACTIVITIES, identity="w1", max_concurrent_activities=1)
    w2 = Worker(client, task_queue=QUEUE, workflows=samples.ALL_WORKFLOWS,
                activities=samples.ALL_ACTIVITIES, identity="w2", max_concurrent_activities=1)
    owners: set[str] = set()
    async with w1, w2:
        handles = [await client.start_workflow(samples.ActivityWorkflow.run,
                                               args=["sleepy", [0.1], 1, 5.0], id=f"p{i}",
                                               task_queue=QUEUE) for i in range(4)]

        async def watch() -> None:
            while not all(h.is_done() for h in handles):
                for h in handles:
                    task = client.store.get_activity_task(h.result_run_id, 2)  # type: ignore
                    if task is not None:
                        owners.add(task.lease_owner)
                await asyncio.sleep(0.01)

        watcher = asyncio.create_task(watch())
        for h in handles:
            assert await bounded(h.result()) == "woke"
        await bounded(watcher)
    # each worker runs one activity at a time, so both must have run some
    assert owners == {"w1", "w2"}
    for h in handles:
        history = await h.fetch_history()
        assert kinds(history.events).count("ActivityCompleted") == 1


async def test_steps_workflow_result_and_history_validate(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(StepsWorkflow.run, args=[5, 5.0], id="steps",
                                        task_queue=QUEUE)
        assert await bounded(h.result()) == sum(i * i for i in range(5))
    history: History = await h.fetch_history()
    assert kinds(history.events).count("ActivityScheduled") == 5
    assert kinds(history.events).count("ActivityCompleted") == 5
