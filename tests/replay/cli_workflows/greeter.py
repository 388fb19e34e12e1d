"""Greeter: a signal, a query, an update, activities and a durable timer.

The CLI tests run it under a real worker process; the debugger tests record
its histories with the in-memory driver. The line numbers of the commands are
looked up by marker comments (``# cmd: ...``), so edits here do not break tests.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from replay import activity, workflow


@activity.defn
async def compose(name: str) -> str:
    return f"Hello, {name}!"


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
            greeting = await workflow.execute_activity(  # cmd: activity
                compose, name, start_to_close_timeout=timedelta(seconds=10))
            self.greetings.append(greeting)
        await asyncio.sleep(0.01)  # cmd: timer
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

    @workflow.query
    def greeting_for(self, index: int) -> str:
        return self.greetings[index]

    @workflow.update
    def rename(self, index: int, name: str) -> str:
        previous, self.names[index] = self.names[index], name
        return previous
