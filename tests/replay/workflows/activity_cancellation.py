"""Cancelling an activity handle, for each cancellation type and activity behaviour.

The activity is sync and runs in the worker's thread pool; ``STARTED`` and
``RELEASE`` are the facts a test synchronises on (no sleeps).
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

from replay import activity, workflow
from replay.exceptions import ActivityError, CancelledError

STARTED = threading.Event()
"""Set once the activity runs."""
RELEASE = threading.Event()
"""Set by the test to let the ``finishes`` activity return."""
ENDED: list[str] = []
"""How each attempt left ``cancel_target``: ``returned`` or the exception's type name
(with `` at shutdown`` when ``activity.is_worker_shutdown()`` said so)."""
LEFT = threading.Event()
"""Set when an attempt of ``cancel_target`` has left it."""


def reset() -> None:
    STARTED.clear()
    RELEASE.clear()
    ENDED.clear()
    LEFT.clear()


@activity.defn
def cancel_target(behaviour: str) -> str:
    """``finishes``: never looks at cancellation, returns once released;
    ``observes``: heartbeats and lets the cancellation out;
    ``ignores``: heartbeats, catches the cancellation and returns anyway."""
    STARTED.set()
    try:
        outcome = _behave(behaviour)
    except BaseException as exc:
        ENDED.append(type(exc).__name__ + (" at shutdown" if activity.is_worker_shutdown()
                                           else ""))
        raise
    else:
        ENDED.append("returned")
        return outcome
    finally:
        LEFT.set()


def _behave(behaviour: str) -> str:
    if behaviour == "finishes":
        RELEASE.wait(30)
        return "done"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            activity.heartbeat()
        except CancelledError:
            if behaviour == "ignores":
                return "done anyway"
            raise
        time.sleep(0.005)  # the activity's heartbeat cadence
    return "never cancelled"


@workflow.defn
class CancelActivityHandleWorkflow:
    """Starts ``cancel_target``, cancels its handle on a signal, reports what await gave."""

    def __init__(self) -> None:
        self.go = False

    @workflow.run
    async def run(self, behaviour: str, cancellation_type: str) -> str:
        handle = workflow.start_activity(
            cancel_target, behaviour, start_to_close_timeout=timedelta(seconds=60),
            cancellation_type=workflow.ActivityCancellationType(cancellation_type))
        await workflow.wait_condition(lambda: self.go)
        handle.cancel()
        try:
            return f"result: {await handle}"
        except ActivityError as err:
            return f"ActivityError({type(err.cause).__name__})"

    @workflow.signal
    def cancel_it(self) -> None:
        self.go = True


@workflow.defn
class CancelAwaitingTaskWorkflow:
    """Cancels a task that awaits an activity: the task sees ActivityError, not the run."""

    @workflow.run
    async def run(self) -> str:
        task = asyncio.ensure_future(workflow.execute_activity(
            "long", start_to_close_timeout=timedelta(seconds=10)))
        await asyncio.sleep(1)
        task.cancel()
        try:
            await task
        except ActivityError as err:
            return f"ActivityError({type(err.cause).__name__})"
        except asyncio.CancelledError:
            return "asyncio.CancelledError"
        return "finished"


@workflow.defn
class CatchActivityCancelWorkflow:
    """Catches the ActivityError a run cancellation leads to and finishes normally."""

    @workflow.run
    async def run(self) -> str:
        try:
            await workflow.execute_activity("long", start_to_close_timeout=timedelta(seconds=10))
        except ActivityError as err:
            return f"caught ActivityError({type(err.cause).__name__})"
        return "finished"


@workflow.defn
class CancelAtOnceWorkflow:
    """Cancels an activity handle in the step that started it (before it ever ran)."""

    @workflow.run
    async def run(self) -> str:
        handle = workflow.start_activity("long",
                                         start_to_close_timeout=timedelta(seconds=10))
        handle.cancel()
        try:
            return f"result: {await handle}"
        except ActivityError as err:
            return f"ActivityError({type(err.cause).__name__})"
