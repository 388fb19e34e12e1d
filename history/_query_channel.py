"""Query requests: how a client asks a worker of a run's task queue to answer a query.

A query never enters the history and leaves nothing behind: the client posts a
:class:`QueryRequest`, a worker polling the run's task queue answers it from the
instance it holds (replaying the run if it holds none, closed runs too), and the
client reads the answer and forgets the request. A store that can carry them
implements :class:`QueryChannel` beside :class:`~history.Store`; with a store
that cannot, a client answers queries by replaying the history locally.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

import attrs

from ._events import Failure, JsonValue


@attrs.frozen(kw_only=True)
class QueryRequest:
    """One query sent to the workers of ``task_queue``, and its answer once given.

    ``status`` is ``requested`` until a worker answers: ``answered`` (``result``
    holds the payload) or ``failed`` (``failure`` says why: the handler raised, the
    query is unknown, the run has no state yet). ``answered_by`` names the worker.
    ``headers`` (name -> payload) reach the workflow's inbound interceptors.
    ``expires_at`` (wall-clock UTC; None: never) is when an unanswered request is
    no longer handed to workers: its asker has given up by then, and a store drops
    expired requests as new ones arrive, so a client that died leaves nothing behind.
    """

    query_id: str
    run_id: str
    workflow_type: str
    task_queue: str
    name: str
    args: list[JsonValue]
    requested_at: datetime
    status: str = "requested"
    result: JsonValue = None
    failure: Failure | None = None
    answered_by: str | None = None
    headers: dict[str, JsonValue] = attrs.field(factory=dict)
    expires_at: datetime | None = None


def wall_now() -> datetime:
    """The wall-clock time expiry is measured against (never a workflow clock)."""
    return datetime.now(UTC)


def expired(request: QueryRequest, now: datetime) -> bool:
    """True once ``request`` is past its ``expires_at``."""
    return request.expires_at is not None and request.expires_at <= now


@runtime_checkable
class QueryChannel(Protocol):
    """A store that routes queries to workers (optional beside :class:`~history.Store`).

    Posting and answering wake the store's change waiters of the run, so neither
    side polls.
    """

    def request_query(self, request: QueryRequest) -> None:
        """Post ``request`` for the workers of its task queue (and drop expired ones)."""
        ...

    def pending_queries(self, task_queue: str, worker: str) -> list[QueryRequest]:
        """The unanswered, unexpired requests of ``task_queue``, oldest first; also
        records that ``worker`` polls that queue now."""
        ...

    def answer_query(self, answer: QueryRequest) -> None:
        """Record ``answer`` (a request with its status, result or failure) unless the
        request was already answered or forgotten."""
        ...

    def get_query(self, query_id: str) -> QueryRequest | None:
        """The request as far as it got, or None if unknown (or forgotten)."""
        ...

    def forget_query(self, query_id: str) -> None:
        """Drop the request (its asker has its answer, or gave up)."""
        ...

    def query_pollers(self, task_queue: str, within: float) -> list[str]:
        """Workers that polled ``task_queue`` for queries in the last ``within`` seconds
        and have not retired."""
        ...

    def retire_query_poller(self, worker: str) -> None:
        """Forget ``worker`` as a poller (it shut down)."""
        ...


QueryChannel.__module__ = "replay.history"
QueryRequest.__module__ = "replay.history"


class DelegatedQueryChannel:
    """The query channel of a store that keeps it in a helper object: the SQL stores
    hand every call to ``_queries`` (their ``_sqlite_queries`` / ``_postgres_queries``)."""

    _queries: QueryChannel

    def request_query(self, request: QueryRequest) -> None:
        """Post a query for the workers of its task queue (drops expired requests)."""
        self._queries.request_query(request)

    def pending_queries(self, task_queue: str, worker: str) -> list[QueryRequest]:
        """Unanswered, unexpired queries of ``task_queue``; ``worker`` polls it now."""
        return self._queries.pending_queries(task_queue, worker)

    def answer_query(self, answer: QueryRequest) -> None:
        """Record a worker's answer (the first one counts)."""
        self._queries.answer_query(answer)

    def get_query(self, query_id: str) -> QueryRequest | None:
        """A query request as far as it got."""
        return self._queries.get_query(query_id)

    def forget_query(self, query_id: str) -> None:
        """Drop a query request."""
        self._queries.forget_query(query_id)

    def query_pollers(self, task_queue: str, within: float) -> list[str]:
        """Workers that polled ``task_queue`` for queries in the last ``within`` seconds."""
        return self._queries.query_pollers(task_queue, within)

    def retire_query_poller(self, worker: str) -> None:
        """Forget a worker that shut down."""
        self._queries.retire_query_poller(worker)
