"""Heartbeat and schedule-to-start timeouts of activities."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from replay.history import ActivityScheduled
from replay.worker import Worker
from tests.replay.workers.harness import bounded, sqlite_client, wait_until
from tests.replay.workflows.heartbeats import HeartbeatWorkflow, goes_silent, keeps_beating

ACTIVITIES = [goes_silent, keeps_beating]
LATE = timedelta(seconds=0.05)  # the schedule-to-start timeout of the late activity


async def test_an_activity_that_stops_heartbeating_times_out_and_is_retried(
        tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with Worker(client, task_queue="hb", workflows=[HeartbeatWorkflow],
                      activities=ACTIVITIES):
        handle = await client.start_workflow(HeartbeatWorkflow.run,
                                             args=["goes_silent", "hb", 60.0],
                                             id="silent", task_queue="hb")
        assert await bounded(handle.result()) == {"error": "TimeoutError", "type": "heartbeat"}
    events = client.store.read(handle.result_run_id or "")
    [timed_out] = [e for e in events if type(e).__name__ == "ActivityTimedOut"]
    assert timed_out.timeout_type == "heartbeat"  # type: ignore[attr-defined]
    assert timed_out.attempt == 2  # type: ignore[attr-defined]  # retried once, then final
    client.close()


async def test_an_activity_that_heartbeats_runs_past_its_heartbeat_timeout(
        tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with Worker(client, task_queue="hb", workflows=[HeartbeatWorkflow],
                      activities=ACTIVITIES):
        handle = await client.start_workflow(HeartbeatWorkflow.run,
                                             args=["keeps_beating", "hb", 60.0],
                                             id="beating", task_queue="hb")
        assert await bounded(handle.result()) == {"value": "done"}  # ran ~0.2 s > 0.1 s
    client.close()


async def test_an_activity_picked_up_after_its_schedule_to_start_timeout_times_out(
        tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with Worker(client, task_queue="wf", workflows=[HeartbeatWorkflow]):
        handle = await client.start_workflow(HeartbeatWorkflow.run,
                                             args=["keeps_beating", "late-queue",
                                                   LATE.total_seconds()],
                                             id="late", task_queue="wf")
        # no worker polls "late-queue" until the activity is scheduled and its
        # schedule-to-start timeout has passed
        await wait_until(lambda: any(isinstance(e, ActivityScheduled) for e in
                                     client.store.read(str(handle.result_run_id))), 120)
        [scheduled] = [e for e in client.store.read(str(handle.result_run_id))
                       if isinstance(e, ActivityScheduled)]
        await wait_until(lambda: client.clock.now() > scheduled.time + LATE, 120)
        async with Worker(client, task_queue="late-queue", activities=ACTIVITIES):
            report = await bounded(handle.result())
    assert report == {"error": "TimeoutError", "type": "schedule_to_start"}
    client.close()
