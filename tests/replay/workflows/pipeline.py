"""Workflows and activities for the commit pipeline's tests (tests/replay/test_commit_pipeline.py).

``tracked`` records when it starts and ends in ``TRACKED``; with a name listed in
``HELD`` it waits for that name's asyncio event before it ends, so a test decides
when an activity's outcome exists.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from replay import activity, workflow

TRACKED: list[str] = []
HELD: dict[str, asyncio.Event] = {}
LIVE: list[str] = []
"""What :class:`Noted` did while not replaying (a run built again repeats it)."""


def reset(*held: str) -> None:
    """Forget what ran; the activities named ``held`` wait for ``release(name)``."""
    TRACKED.clear()
    LIVE.clear()
    HELD.clear()
    for name in held:
        HELD[name] = asyncio.Event()


def release(name: str) -> None:
    HELD[name].set()


@activity.defn
async def tracked(name: str) -> str:
    TRACKED.append(f"{name}:start")
    held = HELD.get(name)
    if held is not None:
        await held.wait()
    TRACKED.append(f"{name}:end")
    return name.upper()


_TIMEOUT = timedelta(seconds=30)


@workflow.defn
class TwoSteps:
    """Two activities, one after the other."""

    @workflow.run
    async def run(self, first: str, second: str) -> list[str]:
        one = await workflow.execute_activity(tracked, first, start_to_close_timeout=_TIMEOUT)
        two = await workflow.execute_activity(tracked, second, start_to_close_timeout=_TIMEOUT)
        return [one, two]


@workflow.defn
class OneStep:
    """One activity."""

    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(tracked, name, start_to_close_timeout=_TIMEOUT)


@workflow.defn
class Pair:
    """Two activities at once, then a third once both ended."""

    @workflow.run
    async def run(self, left: str, right: str, after: str) -> list[str]:
        both = await asyncio.gather(
            workflow.execute_activity(tracked, left, start_to_close_timeout=_TIMEOUT),
            workflow.execute_activity(tracked, right, start_to_close_timeout=_TIMEOUT))
        last = await workflow.execute_activity(tracked, after, start_to_close_timeout=_TIMEOUT)
        return [*both, last]


@workflow.defn
class Counter:
    """Adds what it is sent until told to finish; a query reads the total."""

    def __init__(self) -> None:
        self.total = 0
        self.done = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.done)
        return self.total

    @workflow.signal
    def add(self, n: int) -> None:
        self.total += n

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.query
    def value(self) -> int:
        return self.total


@workflow.defn
class Noted:
    """One activity, then waits for a note."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    @workflow.run
    async def run(self, name: str) -> list[str]:
        done = await workflow.execute_activity(tracked, name, start_to_close_timeout=_TIMEOUT)
        if not workflow.unsafe.is_replaying():
            LIVE.append("resumed")
        await workflow.wait_condition(lambda: bool(self.notes))
        return [done, *self.notes]

    @workflow.signal
    def note(self, text: str) -> None:
        self.notes.append(text)
