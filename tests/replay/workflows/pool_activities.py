"""Sync activities for the process-pool tests (module level, so a pool process imports them)."""

from __future__ import annotations

import os
import time
from datetime import timedelta

from replay import activity, workflow
from replay.exceptions import ActivityError


@activity.defn
def where(label: str) -> list[str]:
    info = activity.info()
    return [label, str(os.getpid()), info.activity_type, str(info.attempt),
            str(info.heartbeat_timeout)]


@activity.defn
def beat_until_cancelled(steps: int) -> str:
    for step in range(steps):
        activity.heartbeat(f"step-{step}")  # raises CancelledError once cancelled
        time.sleep(0.05)  # the work of one step
    return "finished"


@workflow.defn
class Where:
    @workflow.run
    async def run(self) -> list[str]:
        return await workflow.execute_activity(where, "pool",
                                               start_to_close_timeout=timedelta(seconds=60),
                                               heartbeat_timeout=timedelta(seconds=30))


@workflow.defn
class Cancels:
    def __init__(self) -> None:
        self.stop = False

    @workflow.signal
    def cancel_it(self) -> None:
        self.stop = True

    @workflow.run
    async def run(self) -> str:
        handle = workflow.start_activity(
            beat_until_cancelled, 400, start_to_close_timeout=timedelta(seconds=60),
            heartbeat_timeout=timedelta(seconds=30),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
        await workflow.wait_condition(lambda: self.stop)
        handle.cancel()
        try:
            return await handle
        except ActivityError as err:
            return f"activity error: {type(err.cause).__name__}"
