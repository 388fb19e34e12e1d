"""Fanout after an incompatible change: it schedules one more activity after the fanout."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from replay import workflow

from .fanout import double, fetch_all


@workflow.defn(name="Fanout")
class Fanout:
    def __init__(self) -> None:
        self.total = 0
        self.labels: list[str] = []

    @workflow.run
    async def run(self, numbers: list[int]) -> int:
        self.total = sum(await fetch_all(numbers))
        self.total += await workflow.execute_activity(  # cmd: changed
            double, self.total, start_to_close_timeout=timedelta(seconds=10))
        await workflow.wait_condition(lambda: bool(self.labels))
        return self.total

    @workflow.update
    async def label(self, text: str) -> int:
        try:
            await asyncio.sleep(5)
        finally:
            await asyncio.sleep(0)
        self.labels.append(text)
        return len(self.labels)
