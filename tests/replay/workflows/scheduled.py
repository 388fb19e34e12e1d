"""Workflows that schedules start (tests/replay/test_schedules.py)."""

from __future__ import annotations

import asyncio

from replay import workflow
from replay.exceptions import ApplicationError


@workflow.defn
class ReportWorkflow:
    """Returns its label and when it ran, at once."""

    @workflow.run
    async def run(self, label: str) -> str:
        return f"{label}@{workflow.now().isoformat()}"


@workflow.defn
class LongJobWorkflow:
    """Runs for ``minutes`` of workflow time (cancellable while it waits)."""

    @workflow.run
    async def run(self, minutes: int) -> int:
        await asyncio.sleep(minutes * 60)
        return minutes


@workflow.defn
class BrokenJobWorkflow:
    """Fails at once."""

    @workflow.run
    async def run(self) -> None:
        raise ApplicationError("the job broke", non_retryable=True)
