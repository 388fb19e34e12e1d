"""cron_schedule on client starts: the first run waits for the next matching time, each
run's end starts the next, cancelling or terminating ends the chain (replay._core._cron,
_core/_chain_effects.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from replay.client import Client, WorkflowFailureError
from replay.exceptions import InvalidCronError, TerminatedError
from replay.history import MemoryStore, RunInfo, Store, TimerStarted, WorkflowStarted
from replay.testing import WorkflowEnvironment
from replay.worker import Replayer

from .test_schedules import open_store
from .workflows.crons import FailingTickWorkflow, SlowTickWorkflow, TickWorkflow

QUEUE = "cron"
START = datetime(2030, 1, 1, 0, 3, tzinfo=UTC)


async def _runs(client: Client, workflow_id: str) -> list[tuple[str, datetime]]:
    """(status, start time) of the workflow id's runs, oldest first."""
    out = [(r.status.value, r.start_time) async for r in client.list_workflows()
           if r.id == workflow_id]
    return sorted(out, key=lambda r: r[1])


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return open_store(request.param, request, tmp_path)


async def test_each_run_starts_at_the_next_matching_time_and_the_chain_carries_on(
        store: Store) -> None:
    async with await WorkflowEnvironment.start_time_skipping(store=store,
                                                              start_time=START) as env:
        with env.auto_time_skipping_disabled():
            async with env.worker(task_queue=QUEUE, workflows=[TickWorkflow]):
                handle = await env.client.start_workflow(
                    TickWorkflow.run, "tick", id="ticker", task_queue=QUEUE,
                    cron_schedule="*/10 * * * *")
                first_run = handle.result_run_id
                await env.sleep(timedelta(minutes=35))  # to 00:38
                runs = await _runs(env.client, "ticker")
                assert [s for s, _ in runs] == ["completed"] * 3 + ["running"]
                results = []
                for r in [r async for r in env.client.list_workflows() if r.id == "ticker"]:
                    if r.status.value == "completed":
                        results.append(await env.client.get_workflow_handle(
                            "ticker", run_id=r.run_id).result(follow_runs=False))
                assert sorted(results) == [
                    f"tick at 2030-01-01T00:{m}:00+00:00 cron=*/10 * * * *"
                    for m in (10, 20, 30)]
                # the first run waited on a durable timer before its code ran
                assert first_run is not None
                events = env.store.read(first_run)
                started = events[0]
                assert isinstance(started, WorkflowStarted)
                assert started.cron_schedule == "*/10 * * * *"
                timer = next(e for e in events if isinstance(e, TimerStarted))
                assert timer.fire_at == datetime(2030, 1, 1, 0, 10, tzinfo=UTC)
                # every run's history replays
                for r in [r async for r in env.client.list_workflows() if r.id == "ticker"]:
                    if r.status.value == "completed":
                        history = await env.client.get_workflow_handle(
                            "ticker", run_id=r.run_id).fetch_history()
                        await Replayer(workflows=[TickWorkflow]).replay_workflow(history)
                # result() follows the chain (as the familiar engine does): it waits on
                following = asyncio.ensure_future(handle.result())
                await env.sleep(timedelta(minutes=10))  # to 00:48: 00:40 completed too
                assert not following.done()
                # terminating the open run ends the chain, and with it the wait
                await env.client.get_workflow_handle("ticker").terminate(reason="enough")
                with pytest.raises(WorkflowFailureError) as ended:
                    await asyncio.wait_for(following, 10)
                assert isinstance(ended.value.cause, TerminatedError)
                await env.sleep(timedelta(minutes=30))
                runs = await _runs(env.client, "ticker")
                assert [s for s, _ in runs] == ["completed"] * 4 + ["terminated"]


async def test_a_failed_run_is_followed_by_the_next_and_cancel_stops_the_chain() -> None:
    async with await WorkflowEnvironment.start_time_skipping(start_time=START) as env:
        with env.auto_time_skipping_disabled():
            async with env.worker(task_queue=QUEUE, workflows=[FailingTickWorkflow]):
                handle = await env.client.start_workflow(
                    FailingTickWorkflow.run, id="failer", task_queue=QUEUE,
                    cron_schedule="@hourly")
                await env.sleep(timedelta(hours=2, minutes=30))
                runs = await _runs(env.client, "failer")
                assert [s for s, _ in runs] == ["failed", "failed", "running"]
                assert [t for _, t in runs] == [START, START.replace(hour=1, minute=0),
                                                START.replace(hour=2, minute=0)]
                with pytest.raises(WorkflowFailureError):
                    await env.client.get_workflow_handle(
                        "failer", run_id=handle.result_run_id).result(follow_runs=False)
                await env.client.get_workflow_handle("failer").cancel()
                await env.sleep(timedelta(hours=3))
                runs = await _runs(env.client, "failer")
                assert [s for s, _ in runs] == ["failed", "failed", "canceled"]


async def test_a_run_that_outlasts_its_slot_is_followed_at_the_next_time_after_its_end(
        ) -> None:
    async with await WorkflowEnvironment.start_time_skipping(start_time=START) as env:
        with env.auto_time_skipping_disabled():
            async with env.worker(task_queue=QUEUE, workflows=[SlowTickWorkflow]):
                await env.client.start_workflow(SlowTickWorkflow.run, 25, id="slow",
                                                task_queue=QUEUE,
                                                cron_schedule="*/10 * * * *")
                await env.sleep(timedelta(minutes=60))
                began = []
                for r in [r async for r in env.client.list_workflows() if r.id == "slow"]:
                    if r.status.value == "completed":
                        began.append(await env.client.get_workflow_handle_for(
                            SlowTickWorkflow.run, "slow", run_id=r.run_id
                        ).result(follow_runs=False))
                # 00:10 runs to 00:35, so the next slot is 00:40 (00:20 and 00:30 are missed)
                assert began == [datetime(2030, 1, 1, 0, 10, tzinfo=UTC)]
                runs = await _runs(env.client, "slow")
                assert runs == [("completed", START),
                                ("running", datetime(2030, 1, 1, 0, 35, tzinfo=UTC))]


@pytest.mark.parametrize(("expression", "column"), [
    ("* * *", 6), ("61 * * * *", 1), ("* 24 * * *", 3), ("*/0 * * * *", 3),
    ("* * * * MON-XYZ", 13), ("@often", 1), ("* * 31 2 *", 5), ("* * * * * *", 11),
])
async def test_an_invalid_expression_is_refused_with_its_column_and_nothing_is_written(
        expression: str, column: int) -> None:
    client = Client(MemoryStore())
    with pytest.raises(InvalidCronError) as info:
        await client.start_workflow(TickWorkflow.run, "x", id="bad", task_queue=QUEUE,
                                    cron_schedule=expression)
    assert info.value.position == column
    assert f"column {column}" in str(info.value)
    assert info.value.code == "RPL-SC01"
    assert [r async for r in client.list_workflows()] == []
    client.close()


class _CountingStore(MemoryStore):
    """A MemoryStore that counts its ``latest_run`` calls."""

    latest_runs = 0

    def latest_run(self, workflow_id: str) -> RunInfo | None:
        self.latest_runs += 1
        return super().latest_run(workflow_id)


async def test_a_run_started_without_a_cron_schedule_is_not_looked_for_a_successor() -> None:
    store = _CountingStore()
    env = await WorkflowEnvironment.start_time_skipping(store=store, start_time=START)
    async with env, env.worker(task_queue=QUEUE, workflows=[TickWorkflow]):
        handle = await env.client.start_workflow(TickWorkflow.run, "tick", id="plain",
                                                 task_queue=QUEUE)
        before = store.latest_runs
        result = await asyncio.wait_for(handle.result(), 10)
        assert result.startswith("tick at ")
        # the handle started the run without a cron schedule: its end starts no
        # next run, so the result reads no newest run of the id to follow
        assert store.latest_runs == before
