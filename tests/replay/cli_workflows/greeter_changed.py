"""Greeter after an incompatible change: it sleeps before greeting (a new timer)."""

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
            await asyncio.sleep(1)  # cmd: changed
            greeting = await workflow.execute_activity(
                compose, name, start_to_close_timeout=timedelta(seconds=10))
            self.greetings.append(greeting)
        await asyncio.sleep(0.01)
        return self.greetings

    @workflow.signal
    def add(self, name: str) -> None:
        self.names.append(name)

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.query
    def count(self) -> int:
        return len(self.greetings)

    @workflow.update
    def rename(self, index: int, name: str) -> str:
        previous, self.names[index] = self.names[index], name
        return previous
