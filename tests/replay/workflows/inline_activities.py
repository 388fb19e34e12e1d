"""Activities that finish without waiting (run inside the worker's pass), that wait
first, and that raise what a plain async activity's deadline raises."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from replay import activity, workflow
from replay.common import RetryPolicy
from replay.exceptions import ActivityError

TIMEOUT = timedelta(seconds=30)


@activity.defn
async def at_once(i: int) -> dict[str, Any]:
    """Returns without awaiting anything."""
    task = asyncio.current_task()
    return {"value": i * i, "own_task": task is not None and
            task.get_name().startswith("activity:")}


@activity.defn
async def waits_first(i: int) -> dict[str, Any]:
    """Awaits the loop twice (a bare yield, then a future) before it returns."""
    await asyncio.sleep(0)
    fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(fut.set_result, i + 1)
    info = activity.info()
    return {"value": await fut, "token": bool(info.task_token), "attempt": info.attempt}


@activity.defn
async def raises_timeout_error() -> None:
    """Raises the builtin TimeoutError itself (as an expired deadline would)."""
    raise TimeoutError("gave up")


@workflow.defn
class InlineActivities:
    @workflow.run
    async def run(self) -> dict[str, Any]:
        first = await workflow.execute_activity(at_once, 3, start_to_close_timeout=TIMEOUT)
        waited = await workflow.execute_activity(waits_first, 4,
                                                 start_to_close_timeout=TIMEOUT)
        try:
            await workflow.execute_activity(raises_timeout_error,
                                            start_to_close_timeout=TIMEOUT,
                                            retry_policy=RetryPolicy(maximum_attempts=1))
            timed_out = "no error"
        except ActivityError as err:
            cause = err.__cause__
            timed_out = f"{type(cause).__name__}:{getattr(cause, 'type', None)}"
        return {"first": first, "waited": waited, "timed_out": timed_out}
