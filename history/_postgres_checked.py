"""Commits in one statement: planned from known run heads, checked by the server.

A commit under locks costs a round trip per statement: ``BEGIN``, a locked read
of each run's head, the writes, the ``NOTIFY``, ``COMMIT``. Most commits of a
worker are steps of runs whose heads its store object knows already, from its
own previous commit of them. :func:`plan` plans the batches from those heads
(reading, without a lock, the heads it does not know) and collects their
changes without writing anything; the store then sends all of it as one call
of ``commit_checked()`` (see ``_postgres_functions``), which locks the head
rows, writes only if each head is still exactly what the plan assumed, and
sends the ``NOTIFY``: one round trip and one transaction.

The plan is the one the locked path would make: the derivation's only inputs
are the heads, which the server checks under the same locks, and the reads it
cannot check are not made here (:class:`NeedsLocks`). Whenever the checked
path cannot be sure (a read it cannot check, a planning error that a stale
head may have caused, a head that moved, a stale result, a concurrent insert)
the store plans again under locks, which has the last word.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._batch import RunHead
from ._changes import Change, RequestActivityCancel, SetSearchAttributes
from ._commit_plan import HEADS_KEPT, CommitPlanner, HeadCache
from ._errors import ReplayError
from ._events import Event, WorkflowTaskFailed
from ._kinds import EVENT_KINDS
from ._postgres_changes import task_queues, without_overwritten
from ._postgres_functions import HEAD_MOVED, STALE_RESULT
from ._postgres_rows import HEAD, head_from_row
from ._store import Operation, Start, UpdateRequest

if TYPE_CHECKING:
    import psycopg

COMMIT = b"SELECT commit_checked($1::jsonb, $2::jsonb, $3, $4)"
COMMIT_NAME = b"replay_commit_checked"
_UNKNOWN = object()


class NeedsLocks(Exception):
    """The plan needs a read that the server cannot check: plan under locks instead."""


class KnownHeads(HeadCache):
    """Run heads as this store object's commits left them (None is never kept).

    Shared by the threads of one store object; a head here may have moved since
    (another process, another store object), which ``commit_checked()`` finds.
    """

    def learn(self, heads: dict[str, RunHead | None]) -> None:
        if len(self) > HEADS_KEPT:
            self.clear()
        for run_id, head in heads.items():
            if head is None:
                self.pop(run_id, None)
            else:
                self[run_id] = head

    def forget(self, run_ids: Sequence[str]) -> None:
        for run_id in run_ids:
            self.pop(run_id, None)


class CheckedLookup:
    """The derivation's reads for a checked plan: run heads as known, or read unlocked
    (each one recorded in ``assumed``, for the server to check); other reads only
    where they are immutable or nothing is planned yet, else :class:`NeedsLocks`."""

    def __init__(self, conn: psycopg.Connection[Any], known: KnownHeads,
                 planned: dict[str, RunHead | None], assumed: dict[str, RunHead | None],
                 pending: tuple[list[Change], ...]) -> None:
        self._conn = conn
        self._known = known
        self._planned = planned
        self._assumed = assumed
        self._pending = pending

    def run_head(self, run_id: str) -> RunHead | None:
        head: Any
        if run_id in self._planned:  # as an earlier batch of this commit left it
            head = self._planned[run_id]
        elif run_id in self._assumed:
            head = self._assumed[run_id]
        else:
            head = self._known.get(run_id, _UNKNOWN)
            if head is _UNKNOWN:
                row = self._conn.execute(HEAD, (run_id,)).fetchone()
                head = None if row is None else head_from_row(run_id, row)
            self._assumed[run_id] = head
        return head  # type: ignore[no-any-return]

    def open_run_id(self, workflow_id: str) -> str | None:
        # Asked only to refuse a second open run of the id, which the one-open-run index
        # refuses too as the new run is inserted (a unique violation: planned again under
        # locks). A run this commit closes first would still be open in the index, though.
        if any(self._pending):
            raise NeedsLocks
        return None

    def event_kind(self, run_id: str, event_id: int) -> type[Event] | None:
        # events never change, and the checked head says no new one came
        if any(self._pending):
            raise NeedsLocks
        row = self._conn.execute("SELECT kind FROM events WHERE run_id = %s AND event_id = %s",
                                 (run_id, event_id)).fetchone()
        return None if row is None else EVENT_KINDS.get(row[0])

    def has_activity_task(self, run_id: str, scheduled_event_id: int) -> bool:
        raise NeedsLocks

    def has_timer(self, run_id: str, started_event_id: int) -> bool:
        raise NeedsLocks

    def get_update(self, run_id: str, update_id: str) -> UpdateRequest | None:
        raise NeedsLocks

    def task_failure(self, run_id: str) -> WorkflowTaskFailed | None:
        raise NeedsLocks


@attrs.define
class CheckedPlan:
    """What one checked commit writes, and what it assumed."""

    written: list[list[Event]]
    changes: list[Change]
    assumed: dict[str, RunHead | None]
    heads: dict[str, RunHead | None]
    """Every planned run's head as the commit leaves it."""
    runs: set[str] = attrs.Factory(set)
    queues: set[str] = attrs.Factory(set)
    closed: set[str] = attrs.Factory(set)

    def checks(self) -> str:
        """The heads for ``commit_checked()`` to check, as JSON."""
        return json.dumps([
            [run_id] if h is None else
            [run_id, h.status, h.last_event_id, h.task_has_inputs, h.task_attempt]
            for run_id, h in self.assumed.items()], separators=(",", ":"))


def plan(conn: psycopg.Connection[Any], batches: Sequence[Sequence[Operation]],
         known: KnownHeads) -> CheckedPlan | None:
    """Plan ``batches`` (each atomic, in this order) from known or unlocked heads; None
    when they must be planned under locks instead."""
    result = CheckedPlan([], [], {}, {})
    for ops in batches:
        for op in ops:  # a new run, as a rule: the server checks that it is not there
            if isinstance(op, Start) and op.run_id not in known \
                    and op.run_id not in result.heads:
                result.assumed.setdefault(op.run_id, None)
        held: list[Change] = []
        lookup = CheckedLookup(conn, known, result.heads, result.assumed,
                               (result.changes, held))
        mine = HeadCache()
        planner = CommitPlanner(lookup, held.extend, heads=mine)
        try:
            written = planner.plan_batch(ops)
        except (ReplayError, NeedsLocks):
            return None  # an error from a head that may be stale: the locks tell
        listed = without_overwritten(held)
        if any(type(c) in _UNCHECKED for c in listed):
            return None
        queues = task_queues(listed)
        if written or queues:
            result.runs |= {op.run_id for op in ops}
            result.queues |= queues
            result.closed |= planner.closed
        result.changes += listed
        result.heads.update(mine)
        result.written.append(written)
    return result


_UNCHECKED: frozenset[type] = frozenset({SetSearchAttributes, RequestActivityCancel})
"""Changes the checked path leaves to the locked one: search attributes take statements
of their own, and a cancellation's task queue (whose worker is woken) is known only
once the row is read."""


def plan_again(exc: BaseException, retryable: tuple[type[BaseException], ...]) -> bool:
    """Does the error of a checked commit call for planning again under locks (nothing
    was written)?"""
    return (getattr(exc, "sqlstate", None) in (HEAD_MOVED, STALE_RESULT)
            or isinstance(exc, retryable))
