"""A workflow and activities that log, for the logging tests (also run by ``replay worker``
in a subprocess)."""

from __future__ import annotations

from datetime import timedelta

from replay import activity, workflow
from replay.common import RetryPolicy


@activity.defn
async def shout(text: str) -> str:
    """Logs at INFO; fails its first attempt (so a failed attempt is logged at WARNING)."""
    activity.logger.info("shouting %s", text)
    if activity.info().attempt == 1:
        raise RuntimeError("first attempts always fail here")
    return text.upper()


@workflow.defn
class LoggingGreeter:
    """Logs before and after one activity."""

    @workflow.run
    async def run(self, name: str) -> str:
        workflow.logger.info("greeting %s", name)
        loud = await workflow.execute_activity(
            shout, name, start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=10)))
        workflow.logger.info("greeted %s", loud)
        return loud
