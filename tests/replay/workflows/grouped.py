"""Workflows for the tests of a client's grouped starts and signals
(tests/replay/test_client_group_commit.py)."""

from __future__ import annotations

from replay import workflow


@workflow.defn
class Doubles:
    """Returns twice its argument (its first task ends the run)."""

    @workflow.run
    async def run(self, n: int) -> int:
        return 2 * n


@workflow.defn
class Collects:
    """Waits for ``count`` ``add`` signals and returns what they carried, in order."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    @workflow.signal
    def add(self, value: str) -> None:
        self.seen.append(value)

    @workflow.run
    async def run(self, count: int) -> list[str]:
        await workflow.wait_condition(lambda: len(self.seen) >= count)
        return self.seen
