"""``Client.list_workflows``: the iterator of listed runs, and ``map_histories()``.

A query is parsed, checked and run by the store (``Store.query_runs``: compiled
to parameterised SQL by SQLite and PostgreSQL, evaluated directly by the memory
store); without one, the plain filters (``status``, ``workflow_type``) apply.
The runs are read on the first ``__anext__``, so a malformed query raises there
(``ListQueryError`` with the position), as iterating the familiar SDK's
iterator does; ``await client.count_workflows(query)`` raises at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs

from replay.history import History, PayloadConverter, RunInfo, Store

from ._handle import WorkflowExecution

RunLister = Callable[[], Awaitable[list[RunInfo]]]
HistoryReader = Callable[[str], Awaitable[History]]


@attrs.frozen
class WorkflowExecutionCount:
    """``count_workflows``: how many runs match (``groups`` is always empty: replay has
    no ``GROUP BY``)."""

    count: int
    groups: tuple[Any, ...] = ()


class WorkflowExecutionAsyncIterator:
    """The runs a ``list_workflows`` call matches, newest first (``async for``).

    ``map_histories()`` yields each run's whole :class:`~replay.history.History`
    instead, ready for ``Replayer.replay_workflows``.
    """

    def __init__(self, list_runs: RunLister, read_history: HistoryReader,
                 converter: PayloadConverter | None = None) -> None:
        self._converter = converter
        self._list_runs = list_runs
        self._read_history = read_history
        self._runs: list[RunInfo] | None = None
        self._next = 0

    def __aiter__(self) -> WorkflowExecutionAsyncIterator:
        return self

    async def __anext__(self) -> WorkflowExecution:
        run = await self._next_run()
        if run is None:
            raise StopAsyncIteration
        return WorkflowExecution.from_run(run, self._converter)

    async def _next_run(self) -> RunInfo | None:
        if self._runs is None:
            self._runs = await self._list_runs()
        if self._next >= len(self._runs):
            return None
        self._next += 1
        return self._runs[self._next - 1]

    def map_histories(self) -> AsyncIterator[History]:
        """The matching runs' histories, in the same order."""
        return self._histories()

    async def _histories(self) -> AsyncIterator[History]:
        while True:
            run = await self._next_run()
            if run is None:
                return
            yield await self._read_history(run.run_id)


def run_lister(store: Store, call: Callable[..., Awaitable[Any]], query: str | None, *,
               status: str | None, workflow_type: str | None, limit: int | None
               ) -> RunLister:
    """What the iterator calls for its runs: the query, else the plain filters."""
    if query is not None and (status is not None or workflow_type is not None):
        raise TypeError("list_workflows: give a query or the status=/workflow_type= filters, "
                        "not both (a query says the same: ExecutionStatus = 'Running' AND "
                        "WorkflowType = 'Orders')")

    async def runs() -> list[RunInfo]:
        if query is not None:
            found: list[RunInfo] = await call(store.query_runs, query, limit=limit)
            return found
        plain: list[RunInfo] = await call(store.list_runs, status=status,
                                          workflow_type=workflow_type, limit=limit)
        return plain
    return runs
