"""An activity completed from outside its worker, and the workflows that run it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from replay import activity, workflow
from replay.common import RetryPolicy
from replay.exceptions import ActivityError

TOKENS: list[bytes] = []
"""The task token of each attempt of ``charge`` (in-process tests read them)."""


@activity.defn
async def charge(amount: int) -> str:
    TOKENS.append(activity.info().task_token)
    activity.raise_complete_async()


@dataclass
class Options:
    attempts: int = 1
    start_to_close: float = 30.0
    heartbeat: float | None = None


@workflow.defn
class Payment:
    @workflow.run
    async def run(self, options: Options) -> str:
        try:
            return await workflow.execute_activity(
                charge, 5, activity_id="charge-1",
                start_to_close_timeout=timedelta(seconds=options.start_to_close),
                heartbeat_timeout=(timedelta(seconds=options.heartbeat)
                                   if options.heartbeat else None),
                retry_policy=RetryPolicy(maximum_attempts=options.attempts,
                                         initial_interval=timedelta(milliseconds=10)))
        except ActivityError as err:
            return f"activity error: {type(err.cause).__name__}: {err.cause}"


@workflow.defn
class CancelsPayment:
    def __init__(self) -> None:
        self.cancel = False

    @workflow.signal
    def stop(self) -> None:
        self.cancel = True

    @workflow.run
    async def run(self) -> str:
        handle = workflow.start_activity(charge, 5, start_to_close_timeout=timedelta(seconds=30))
        await workflow.wait_condition(lambda: self.cancel)
        handle.cancel()
        await workflow.wait_condition(lambda: False)
        return "never"
