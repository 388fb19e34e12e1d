"""Greeter after a change to its result only: the same commands, greetings upper-cased.

Its commands match every Greeter history; ``replay check`` reports the closed
ones as diverged by default (strict results), not with ``--no-strict-result``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from replay import workflow

from .greeter import compose


@workflow.defn(name="Greeter")
class Greeter:
    def __init__(self) -> None:
        self.names: list[str] = []
        self.greetings: list[str] = []
        self.done = False

    @workflow.run
    async def run(self, first: str) -> list[str]:
        self.names.append(first)
        await workflow.wait_condition(lambda: self.done)
        for name in self.names:
            greeting = await workflow.execute_activity(
                compose, name, start_to_close_timeout=timedelta(seconds=10))
            self.greetings.append(greeting)
        await asyncio.sleep(0.01)
        return [g.upper() for g in self.greetings]  # cmd: result

    @workflow.signal
    def add(self, name: str) -> None:
        self.names.append(name)

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.update
    def rename(self, index: int, name: str) -> str:
        previous, self.names[index] = self.names[index], name
        return previous
