"""Workflows started with cron_schedule (tests/replay/test_cron.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from replay import workflow
from replay.exceptions import ApplicationError


@workflow.defn
class TickWorkflow:
    """Returns when its code began and the cron schedule it was started with."""

    @workflow.run
    async def run(self, label: str) -> str:
        info = workflow.info()
        return f"{label} at {workflow.now().isoformat()} cron={info.cron_schedule}"


@workflow.defn
class FailingTickWorkflow:
    """Fails every run: the chain carries on regardless."""

    @workflow.run
    async def run(self) -> str:
        raise ApplicationError(f"failed at {workflow.now().isoformat()}", non_retryable=True)


@workflow.defn
class SlowTickWorkflow:
    """Sleeps for ``minutes`` after its cron time, then returns when it began."""

    @workflow.run
    async def run(self, minutes: int) -> datetime:
        began = workflow.now()
        await asyncio.sleep(minutes * 60)
        return began
