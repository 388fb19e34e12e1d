"""Cancelling an activity: the familiar outcome for each cancellation type, with a real worker.

Cancelling an activity handle never cancels the run: awaiting the handle raises
ActivityError caused by CancelledError, or (WAIT_CANCELLATION_COMPLETED) gives the
activity's own outcome, which may be its result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from replay.client import Client, WorkflowHandle
from replay.history import JsonValue, MemoryStore, StoreUnavailableError
from replay.testing import WorkflowDriver, WorkflowEnvironment
from replay.worker import Replayer, Worker

from .workflows import activity_cancellation as w

QUEUE = "activity-cancellation"
CANCELLED = "ActivityError(CancelledError)"
TRY, WAIT, ABANDON = "try_cancel", "wait_cancellation_completed", "abandon"
REQUESTED_THEN_DONE = ["SignalReceived", "ActivityCancelRequested", "WorkflowCompleted"]
WAITED = ["SignalReceived", "ActivityCancelRequested", "WorkflowTaskCompleted"]

# cancellation type, activity behaviour -> what `await handle` gives, events after the signal
TABLE = [
    (TRY, "finishes", CANCELLED, REQUESTED_THEN_DONE),
    (TRY, "observes", CANCELLED, REQUESTED_THEN_DONE),
    (TRY, "ignores", CANCELLED, REQUESTED_THEN_DONE),
    (WAIT, "finishes", "result: done", [*WAITED, "ActivityCompleted", "WorkflowCompleted"]),
    (WAIT, "observes", CANCELLED, [*WAITED, "ActivityCanceled", "WorkflowCompleted"]),
    (WAIT, "ignores", "result: done anyway",
     [*WAITED, "ActivityCompleted", "WorkflowCompleted"]),
    (ABANDON, "finishes", CANCELLED, ["SignalReceived", "WorkflowCompleted"]),
    (ABANDON, "observes", CANCELLED, ["SignalReceived", "WorkflowCompleted"]),
    (ABANDON, "ignores", CANCELLED, ["SignalReceived", "WorkflowCompleted"]),
]


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    w.reset()
    yield
    w.RELEASE.set()  # never leave a thread of the pool waiting


async def _until_recorded(handle: WorkflowHandle[Any, Any], kind: str) -> None:
    async for event in handle.fetch_history_events(wait_new_event=True):
        if type(event).__name__ == kind:
            return
    raise AssertionError(f"the run ended without a {kind}")


@pytest.mark.parametrize(("cancellation_type", "behaviour", "outcome", "events"), TABLE,
                         ids=[f"{t}-{b}" for t, b, _, _ in TABLE])
async def test_cancelling_an_activity_handle(cancellation_type: str, behaviour: str,
                                             outcome: str, events: list[str]) -> None:
    async with await WorkflowEnvironment.start_time_skipping() as env, env.worker(
            task_queue=QUEUE, workflows=[w.CancelActivityHandleWorkflow],
            activities=[w.cancel_target]):
        h = await env.client.start_workflow(
            w.CancelActivityHandleWorkflow.run, args=[behaviour, cancellation_type],
            id=f"cancel-{cancellation_type}-{behaviour}", task_queue=QUEUE)
        assert await asyncio.to_thread(w.STARTED.wait, 10)
        await h.signal(w.CancelActivityHandleWorkflow.cancel_it)
        if behaviour == "finishes" and cancellation_type == WAIT:
            # the activity returns only after the workflow asked for its cancellation
            await asyncio.wait_for(_until_recorded(h, "ActivityCancelRequested"), 10)
            w.RELEASE.set()
        result = await asyncio.wait_for(h.result(), 20)
        history = await h.fetch_history()
        recorded = [type(e).__name__ for e in history.events]
        status = (await h.describe()).status
    assert result == outcome
    assert recorded[recorded.index("SignalReceived"):] == events
    assert status.name == "COMPLETED"  # cancelling an activity never cancels the run
    replayed = Replayer(workflows=[w.CancelActivityHandleWorkflow]).replay_sync(history)
    assert replayed.replay_failure is None


def test_cancelling_a_task_that_awaits_an_activity_raises_activity_error_in_it() -> None:
    d = WorkflowDriver(w.CancelAwaitingTaskWorkflow)
    d.step()
    d.fire_next_timer()
    d.step()
    assert [type(e).__name__ for e in d.events[-3:]] == [
        "TimerFired", "ActivityCancelRequested", "WorkflowCompleted"]
    assert d.instance.result_payload == CANCELLED


def test_a_run_cancelled_while_awaiting_an_activity_ends_cancelled() -> None:
    # the cancellation reaches the activity, whose ActivityError ends the run CANCELED
    from .workflows.api_samples import CancellableWorkflow

    d = WorkflowDriver(CancellableWorkflow)
    d.step()
    d.cancel("asked")
    d.step()
    assert [type(e).__name__ for e in d.events[-3:]] == [
        "CancelRequested", "ActivityCancelRequested", "WorkflowCanceled"]


def test_a_run_cancelled_while_awaiting_an_activity_may_catch_it() -> None:
    d = WorkflowDriver(w.CatchActivityCancelWorkflow)
    d.step()
    d.cancel("asked")
    d.step()
    assert [type(e).__name__ for e in d.events[-3:]] == [
        "CancelRequested", "ActivityCancelRequested", "WorkflowCompleted"]
    assert d.instance.result_payload == f"caught {CANCELLED}"


def test_cancelling_a_handle_before_it_ran_still_requests_the_cancellation() -> None:
    d = WorkflowDriver(w.CancelAtOnceWorkflow)
    d.step()
    assert [type(e).__name__ for e in d.events[1:]] == [
        "ActivityScheduled", "ActivityCancelRequested", "WorkflowCompleted"]
    assert d.instance.result_payload == CANCELLED



class _HeartbeatsLost(MemoryStore):
    """A store where every heartbeat fails as a passing fault (the attempt goes on), so
    nothing but the worker itself can tell a running sync activity to stop."""

    def heartbeat_activity(self, run_id: str, scheduled_event_id: int, owner: str,
                           details: list[JsonValue], now: datetime, lease_for: timedelta
                           ) -> bool:
        raise StoreUnavailableError("this store loses every heartbeat", reason="TEST")


async def test_a_worker_shutdown_cancels_a_sync_activity_still_running() -> None:
    """With no graceful time left, a stopping worker cancels its running attempts: a sync
    activity learns it at its next heartbeat (CancelledError) even when no heartbeat
    reaches the store, instead of running on for a worker that is gone. Its outcome is
    not recorded: its task is handed back, and the next worker runs the attempt again."""
    client = Client(_HeartbeatsLost())
    try:
        async with Worker(client, task_queue=QUEUE, workflows=[w.CancelActivityHandleWorkflow],
                          activities=[w.cancel_target]):
            h = await client.start_workflow(
                w.CancelActivityHandleWorkflow.run, args=["observes", TRY],
                id="shutdown-observes", task_queue=QUEUE)
            assert await asyncio.to_thread(w.STARTED.wait, 10)
        assert await asyncio.to_thread(w.LEFT.wait, 10)
        history = await h.fetch_history()
        description = await h.describe()
    finally:
        client.close()
    assert w.ENDED == ["CancelledError at shutdown"]
    recorded = {type(e).__name__ for e in history.events}
    assert "ActivityScheduled" in recorded
    assert not recorded & {"ActivityCompleted", "ActivityFailed", "ActivityCanceled"}
    assert description.status is not None and description.status.name == "RUNNING"
    # handed back as unrun (a worker's stop does not use up an attempt of the retry policy)
    assert [(p.activity_type, p.attempt) for p in description.pending_activities] == [
        ("cancel_target", 0)]
