"""Fanout: helpers awaiting activities inside a TaskGroup, and an update handler that waits.

The debugger tests use it for ``where`` (several tasks, each with a stack of
user frames) and, with ``fanout_changed``, for a divergence that leaves tasks
waiting, one of them in a handler whose cleanup awaits. Command lines are
found by their marker comments (``# cmd: ...``), wait lines by ``# wait: ...``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from replay import activity, workflow


@activity.defn
async def double(n: int) -> int:
    return 2 * n


async def fetch_one(n: int) -> int:
    return await workflow.execute_activity(  # cmd: fetch
        double, n, start_to_close_timeout=timedelta(seconds=10))


async def fetch_all(numbers: list[int]) -> list[int]:
    async with asyncio.TaskGroup() as group:  # wait: group
        tasks = [group.create_task(fetch_one(n)) for n in numbers]
    return [t.result() for t in tasks]


@workflow.defn(name="Fanout")
class Fanout:
    def __init__(self) -> None:
        self.total = 0
        self.labels: list[str] = []

    @workflow.run
    async def run(self, numbers: list[int]) -> int:
        self.total = sum(await fetch_all(numbers))  # wait: fanout
        await workflow.wait_condition(lambda: bool(self.labels))
        return self.total

    @workflow.update
    async def label(self, text: str) -> int:
        try:
            await asyncio.sleep(5)  # cmd: label
        finally:
            await asyncio.sleep(0)  # cleanup that awaits: it needs a running loop
        self.labels.append(text)
        return len(self.labels)

    @workflow.query
    def labelled(self) -> list[str]:
        return self.labels
