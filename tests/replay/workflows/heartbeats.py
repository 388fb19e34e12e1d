"""Activities that heartbeat (or go silent), and a workflow reporting how they ended."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from replay import activity, workflow
from replay.common import RetryPolicy
from replay.exceptions import ActivityError


@activity.defn
async def goes_silent() -> str:
    await asyncio.sleep(30)  # never heartbeats
    return "unreachable"


@activity.defn
async def keeps_beating() -> str:
    for i in range(10):
        activity.heartbeat(i)
        await asyncio.sleep(0.02)
    return "done"


@workflow.defn
class HeartbeatWorkflow:
    @workflow.run
    async def run(self, name: str, queue: str, schedule_to_start: float) -> dict[str, Any]:
        try:
            value = await workflow.execute_activity(
                name, task_queue=queue,
                start_to_close_timeout=timedelta(seconds=5),
                heartbeat_timeout=timedelta(milliseconds=100),
                schedule_to_start_timeout=timedelta(seconds=schedule_to_start),
                retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=10),
                                         maximum_attempts=2))
        except ActivityError as err:
            cause = err.cause
            return {"error": type(cause).__name__, "type": getattr(cause, "type", None)}
        return {"value": value}
