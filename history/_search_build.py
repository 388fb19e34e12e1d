"""Building list-filter queries from values, so callers never splice text into a query.

``query_literal`` quotes a string as the tokenizer reads it back (``\\`` and ``'``
escaped); ``list_query`` joins the usual filters with ``AND``. The CLI's list
options and the web UI's filters both go through here.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["list_query", "query_literal"]


def query_literal(value: str | datetime) -> str:
    """``value`` as a quoted literal of the list-filter language (a datetime as UTC ISO
    8601 text)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        value = moment.astimezone(UTC).isoformat()
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def list_query(*, status: str | None = None, workflow_type: str | None = None,
               id_prefix: str | None = None, started_after: datetime | None = None,
               started_before: datetime | None = None, query: str | None = None) -> str:
    """The given filters as one query ('' when none is given). ``status`` in either
    spelling (``Running``, ``continued_as_new``); ``started_after`` inclusive,
    ``started_before`` exclusive; ``query`` (list-filter text) is added in parentheses."""
    parts: list[str] = []
    if status:
        parts.append(f"ExecutionStatus = {query_literal(status)}")
    if workflow_type:
        parts.append(f"WorkflowType = {query_literal(workflow_type)}")
    if id_prefix:
        parts.append(f"WorkflowId STARTS_WITH {query_literal(id_prefix)}")
    if started_after is not None:
        parts.append(f"StartTime >= {query_literal(started_after)}")
    if started_before is not None:
        parts.append(f"StartTime < {query_literal(started_before)}")
    if query and query.strip():
        parts.append(f"({query})")
    return " AND ".join(parts)
