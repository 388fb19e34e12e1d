"""The "Ledger" workflow as an older client imports it: its query reports the old way.

The run's commands are the same in both versions (so either replays the other's
histories); only the query's answer differs, which tells who answered a query.
"""

from __future__ import annotations

from replay import workflow


@workflow.defn(name="Ledger")
class Ledger:
    """Adds up the amounts it is signalled until ``close``."""

    def __init__(self) -> None:
        self.entries: list[int] = []
        self.closed = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.closed)
        return sum(self.entries)

    @workflow.signal
    def add(self, amount: int) -> None:
        self.entries.append(amount)

    @workflow.signal
    def close(self) -> None:
        self.closed = True

    @workflow.query
    def summary(self) -> str:
        return f"v1: {len(self.entries)} entries"
