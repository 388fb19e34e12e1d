"""A workflow that calls ``breakpoint()``: pdb must work during a replay."""

from __future__ import annotations

import asyncio

from replay import workflow


@workflow.defn(name="Pausing")
class Pausing:
    def __init__(self) -> None:
        self.ticks = 0

    @workflow.run
    async def run(self, n: int) -> int:
        for _ in range(n):
            await asyncio.sleep(1)
            self.ticks += 1
            breakpoint()  # the test replaces sys.breakpointhook with a recorder
        return self.ticks
