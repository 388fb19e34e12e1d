"""WorkflowEnvironment: in-process client and workers, time skipping, test doubles."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from replay.history import MemoryStore, SqliteStore
from replay.testing import WorkflowEnvironment

from .testing_samples import (
    LongSleepWorkflow,
    ReminderWorkflow,
    fetch_price_double,
)
from .workers.harness import kinds, wait_until

QUEUE = "testing-env"
START = datetime(2030, 1, 1, tzinfo=UTC)


async def test_a_thirty_day_sleep_finishes_at_once_with_a_test_double() -> None:
    began = time.monotonic()
    async with await WorkflowEnvironment.start_time_skipping(start_time=START) as env:
        assert isinstance(env.client.store, MemoryStore)
        async with env.worker(task_queue=QUEUE, workflows=[LongSleepWorkflow],
                              activities=[fetch_price_double]):
            result = await asyncio.wait_for(
                env.client.execute_workflow(LongSleepWorkflow.run, 30, id="long",
                                            task_queue=QUEUE), 20)
        assert result == "30 days, price 40"  # the double answered, not the real service
        assert env.now() >= START + timedelta(days=30)
        assert env.skips >= 1
    assert time.monotonic() - began < 20  # a sanity bound only: 30 days did not pass


async def test_sleep_advances_time_by_hand_firing_each_timer_on_the_way() -> None:
    async with await WorkflowEnvironment.start_time_skipping(start_time=START) as env, \
            env.worker(task_queue=QUEUE, workflows=[ReminderWorkflow]):
        with env.auto_time_skipping_disabled():
            handle = await env.client.start_workflow(ReminderWorkflow.run, id="r",
                                                     task_queue=QUEUE)
            await env.sleep(timedelta(minutes=30))
            assert await handle.query(ReminderWorkflow.count) == 0
            await env.sleep(timedelta(hours=3))
            assert env.now() == START + timedelta(hours=3, minutes=30)
            assert await handle.query(ReminderWorkflow.count) == 3
            assert env.skips == 0
            await handle.signal(ReminderWorkflow.stop)
            await env.sleep(timedelta(hours=1))
        assert await asyncio.wait_for(handle.result(), 10) == 4
        fired = [e.time for e in (await handle.fetch_history()).events
                 if type(e).__name__ == "TimerFired"]
        assert fired == [START + timedelta(hours=h) for h in (1, 2, 3, 4)]


async def test_no_skipping_while_disabled() -> None:
    async with await WorkflowEnvironment.start_time_skipping(start_time=START) as env, \
            env.worker(task_queue=QUEUE, workflows=[ReminderWorkflow]) as worker:
        with env.auto_time_skipping_disabled():
            handle = await env.client.start_workflow(ReminderWorkflow.run, id="r",
                                                     task_queue=QUEUE)
            # the run waits on its hourly timer and the worker has found nothing else
            # to do, twice: with skipping on, the clock would have moved by now
            await wait_until(lambda: "TimerStarted" in kinds(
                env.client.store.read(str(handle.result_run_id))), 120)
            quiet = worker.quiet_passes
            await wait_until(lambda: worker.quiet_passes >= quiet + 2, 120)
            assert env.now() == START
            assert await handle.query(ReminderWorkflow.count) == 0
        # skipping is back on: the hourly timer fires at once
        await wait_until(lambda: env.now() > START, 120)

        async def reminded() -> None:
            while await handle.query(ReminderWorkflow.count) < 1:
                await asyncio.sleep(0.01)
        await asyncio.wait_for(reminded(), 120)
        await handle.signal(ReminderWorkflow.stop)
        assert await asyncio.wait_for(handle.result(), 10) >= 1


async def test_sqlite_environment_uses_a_temporary_file_removed_on_shutdown() -> None:
    env = await WorkflowEnvironment.start_time_skipping(sqlite=True, start_time=START)
    store = env.client.store
    assert isinstance(store, SqliteStore)
    path = Path(store.path)
    async with env.worker(task_queue=QUEUE, workflows=[LongSleepWorkflow],
                          activities=[fetch_price_double]):
        result = await asyncio.wait_for(env.client.execute_workflow(
            LongSleepWorkflow.run, 2, id="s", task_queue=QUEUE), 20)
    assert result == "2 days, price 40"
    assert path.exists()
    await env.shutdown()
    assert not path.exists()
    await env.shutdown()  # idempotent


async def test_sqlite_environment_at_a_given_path_keeps_the_file(tmp_path: Path) -> None:
    db = tmp_path / "env.db"
    async with await WorkflowEnvironment.start_time_skipping(path=db) as env:
        assert isinstance(env.client.store, SqliteStore)
    assert db.exists()


async def test_local_environment_runs_on_real_time() -> None:
    async with await WorkflowEnvironment.start_local() as env:
        assert not env.supports_time_skipping
        before = env.now()
        await env.sleep(0.05)
        assert env.now() - before >= timedelta(seconds=0.04)


async def test_shutdown_stops_workers_left_running() -> None:
    env = await WorkflowEnvironment.start_time_skipping()
    worker = env.worker(task_queue=QUEUE, workflows=[ReminderWorkflow])
    task = asyncio.create_task(worker.run())
    await wait_until(lambda: worker in env.client.local_workers, 120)
    await asyncio.wait_for(env.shutdown(), 10)
    assert task.done()


@pytest.mark.parametrize("sqlite", [False, True])
async def test_the_real_activity_is_not_called_when_a_double_replaces_it(sqlite: bool) -> None:
    async with await WorkflowEnvironment.start_time_skipping(sqlite=sqlite) as env:
        async with env.worker(task_queue=QUEUE, workflows=[LongSleepWorkflow],
                              activities=[fetch_price_double]):
            handle = await env.client.start_workflow(LongSleepWorkflow.run, 1, id="d",
                                                     task_queue=QUEUE)
            assert (await asyncio.wait_for(handle.result(), 20)).endswith("price 40")
        kinds = [type(e).__name__ for e in (await handle.fetch_history()).events]
        assert "ActivityFailed" not in kinds and "ActivityCompleted" in kinds
