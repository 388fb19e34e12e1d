"""A workflow of sequential activity steps, for the PostgreSQL demo and multi-host tests."""

import asyncio
from datetime import timedelta

from replay import activity, workflow
from replay.common import RetryPolicy


@activity.defn
async def step(i: int) -> int:
    """One step: a little work, then i squared."""
    await asyncio.sleep(0.05)
    return i * i


@workflow.defn
class StepsWorkflow:
    """``n`` activities one after another; returns the sum of their results."""

    @workflow.run
    async def run(self, n: int) -> int:
        total = 0
        for i in range(n):
            total += await workflow.execute_activity(
                step, i, start_to_close_timeout=timedelta(seconds=2),
                retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=50)))
        return total
