"""Runs of every shape, for moving a store (replay migrate) and pruning it (replay prune)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from replay import activity, workflow
from replay.exceptions import ApplicationError

QUEUE = "moving"


@activity.defn
async def double(n: int) -> int:
    return n * 2


@workflow.defn
class Finishes:
    @workflow.run
    async def run(self, name: str) -> str:
        return f"hello {name}"


@workflow.defn
class Fails:
    @workflow.run
    async def run(self) -> str:
        raise ApplicationError("no luck", type="Unlucky", non_retryable=True)


@workflow.defn
class CountsOn:
    """One run per number up to 2 (continue-as-new)."""

    @workflow.run
    async def run(self, n: int) -> int:
        if n < 2:
            workflow.continue_as_new(n + 1)
        return n


@workflow.defn
class Child:
    @workflow.run
    async def run(self, n: int) -> int:
        return n + 1


@workflow.defn
class Parent:
    @workflow.run
    async def run(self) -> int:
        return await workflow.execute_child_workflow(Child.run, 41, id="moving-child")


@workflow.defn
class Waits:
    """Left open by a worker without activities: a pending activity and a one-hour timer."""

    @workflow.run
    async def run(self) -> list[int]:
        doubled, _ = await asyncio.gather(
            workflow.execute_activity(double, 21, start_to_close_timeout=timedelta(seconds=30)),
            asyncio.sleep(3600))
        return [doubled, 1]


@workflow.defn
class Idle:
    """Stays open until signalled."""

    def __init__(self) -> None:
        self.done = False

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.done)
        return "finished"


WORKFLOWS = [Finishes, Fails, CountsOn, Child, Parent, Waits, Idle]
