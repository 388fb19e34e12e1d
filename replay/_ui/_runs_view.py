"""The runs list's filters, turned into one list-filter query, and its pages.

The form's fields (status, workflow type, workflow id prefix, start-time range and
a free query in the list-filter language) become one query string for
``Client.list_workflows``, so the store answers with its indexes and bound
parameters (never string-built SQL). Pages go backwards in start time: the next
page asks for runs that started before the last one shown (keyset paging, so a
page costs the same however deep it is).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import attrs

from replay.client import Client, WorkflowExecution
from replay.history import RUN_STATUSES, list_query, query_literal

__all__ = ["PAGE_SIZE", "STATUSES", "RunFilter", "RunsPage", "fetch_page"]

PAGE_SIZE = 50

STATUSES: dict[str, str] = {
    "".join(part.capitalize() for part in status.split("_")): status
    for status in RUN_STATUSES}
"""The run statuses as the list-filter language names them (``ContinuedAsNew``), in the
order shown, each to the store's own spelling (``continued_as_new``)."""


def _time(text: str) -> datetime | None:
    """An ISO date or date-time from a form field (None if empty or not a time)."""
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@attrs.frozen
class RunFilter:
    """The runs list's form, as given (empty strings: no filter)."""

    status: str = ""
    workflow_type: str = ""
    id_prefix: str = ""
    started_after: str = ""
    started_before: str = ""
    query: str = ""
    before: str = ""  # the page cursor: the start time of the last run shown

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> RunFilter:
        fields = attrs.fields_dict(cls)
        return cls(**{k: params.get(k, "").strip() for k in fields})

    def query_text(self) -> str:
        """The filters as one list-filter query ('' for all runs)."""
        cursor = _time(self.before)
        base = list_query(
            status=self.status if self.status in STATUSES else None,
            workflow_type=self.workflow_type or None, id_prefix=self.id_prefix or None,
            started_after=_time(self.started_after), started_before=_time(self.started_before),
            query=self.query or None)
        if cursor is None:
            return base
        page = f"StartTime < {query_literal(cursor)}"
        return f"{base} AND {page}" if base else page

    def params(self, **changes: str) -> dict[str, str]:
        """The non-empty fields (with ``changes``), for links that keep the filters."""
        data = attrs.asdict(attrs.evolve(self, **changes))
        return {k: v for k, v in data.items() if v}


@attrs.frozen
class RunsPage:
    runs: list[WorkflowExecution]
    next_before: str | None
    query: str


async def fetch_page(client: Client, filters: RunFilter, size: int = PAGE_SIZE) -> RunsPage:
    """One page of runs, newest first, and the cursor of the next page (None: last)."""
    query = filters.query_text()
    runs = [run async for run in client.list_workflows(query or None, limit=size + 1)]
    more = len(runs) > size
    runs = runs[:size]
    cursor = runs[-1].start_time.isoformat() if more and runs else None
    return RunsPage(runs, cursor, query)
