"""A workflow whose first task records a timer (the eager-start tests look for it)."""

from __future__ import annotations

import asyncio

from replay import workflow


@workflow.defn
class Naps:
    @workflow.run
    async def run(self, seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "rested"
