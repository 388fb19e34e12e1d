"""Index changes as the PostgreSQL store's ``apply_changes()`` function reads them.

:func:`encode` turns a list of :mod:`history._changes` records into one JSON
text (an array of records, each an array: its kind's one-letter code, then its
values), so that a whole batch of changes costs one statement and one
parameter, however many rows it writes. Values take the forms the row helpers
of ``_postgres_rows`` and ``_sqlite_rows`` give them (JSON columns as text),
times as ISO 8601 text and intervals as seconds; the function casts each to
its column's type (see ``_postgres_functions``). :class:`SetSearchAttributes`
has no code: the store writes it with its own statements (``_search_index``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ._changes import (
    AbortUpdates,
    AcceptUpdate,
    AddEvents,
    AdvanceRun,
    Change,
    ClearTaskFailure,
    CloseRun,
    CompleteUpdate,
    DeleteActivityTask,
    DeleteTimer,
    DropIdleWorkflowTask,
    FinishWorkflowTask,
    InsertActivityTask,
    InsertRun,
    InsertTimer,
    InsertUpdate,
    LeaseActivityTask,
    NeedWorkflowTask,
    RejectUpdate,
    RemoveRunWork,
    RequestActivityCancel,
    SetSearchAttributes,
    SetTaskFailure,
)
from ._events import Event
from ._postgres_functions import STALE_RESULT
from ._postgres_rows import activity_to_row, run_to_row, timer_to_row, update_to_row
from ._search_index import apply_set
from ._sqlite_rows import dumps, event_row, failure_json, task_failure_json

if TYPE_CHECKING:
    import psycopg


def _plain(value: Any) -> Any:
    """A row value as JSON carries it: times as ISO text, intervals as seconds."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _events(run_id: str, events: Sequence[Event]) -> list[Any]:
    return [list(event_row(run_id, e)[1:]) for e in events]


def _row(code: str, row: Sequence[Any]) -> list[Any]:
    return [code, *map(_plain, row)]


def _encoders() -> dict[type, Callable[[Any], list[Any]]]:
    return {
        AddEvents: lambda c: ["E", c.run_id, _events(c.run_id, c.events)],
        AdvanceRun: lambda c: ["A", c.run_id, c.last_event_id],
        InsertActivityTask: lambda c: _row("I", activity_to_row(c.row)),
        DeleteActivityTask: lambda c: ["d", c.run_id, c.scheduled_event_id,
                                       c.missing is not None],
        NeedWorkflowTask: lambda c: ["N", c.run_id, c.task_queue, c.has_inputs],
        FinishWorkflowTask: lambda c: ["F", c.run_id],
        LeaseActivityTask: lambda c: ["L", c.run_id, c.scheduled_event_id, c.owner,
                                      c.now.isoformat(), c.default_lease.total_seconds()],
        InsertRun: lambda c: _row("R", run_to_row(c.info)),
        CloseRun: lambda c: ["C", c.run_id, c.last_event_id, c.status,
                             _time(c.close_time), c.next_run_id],
        RemoveRunWork: lambda c: ["X", c.run_id],
        SetTaskFailure: lambda c: ["S", c.run_id, c.attempt, _time(c.retry_at),
                                   task_failure_json(c.failure)],
        ClearTaskFailure: lambda c: ["c", c.run_id],
        DropIdleWorkflowTask: lambda c: ["D", c.run_id],
        AbortUpdates: lambda c: ["U", c.run_id, failure_json(c.failure)],
        RequestActivityCancel: lambda c: ["Q", c.run_id, c.scheduled_event_id],
        InsertTimer: lambda c: _row("T", timer_to_row(c.timer)),
        DeleteTimer: lambda c: ["t", c.run_id, c.started_event_id],
        InsertUpdate: lambda c: _row("u", update_to_row(c.request)),
        AcceptUpdate: lambda c: ["a", c.run_id, c.update_id, c.name, dumps(c.args),
                                 _time(c.time)],
        CompleteUpdate: lambda c: ["p", c.run_id, c.update_id, dumps(c.result),
                                   failure_json(c.failure)],
        RejectUpdate: lambda c: ["j", c.run_id, c.update_id, failure_json(c.failure)],
    }


_ENCODERS = _encoders()


def handled_changes() -> set[type]:
    """Every change kind this store writes (a test compares it with ``Change``)."""
    return {SetSearchAttributes, *_ENCODERS}


def encode(changes: Iterable[Change]) -> str:
    """The JSON text of ``changes`` for ``apply_changes()`` (KeyError for a kind without
    a code, i.e. :class:`~history._changes.SetSearchAttributes`)."""
    encoders = _ENCODERS
    return json.dumps([encoders[type(c)](c) for c in changes], ensure_ascii=False,
                      separators=(",", ":"))


def task_queues(changes: Iterable[Change]) -> set[str]:
    """The task queues that ``changes`` give work another worker could take, as far as
    the changes say (an activity asked to cancel is found by ``apply_changes()``): a
    workflow task to lease, an activity task inserted unleased, a timer to fire.

    An activity task leased in the commit that scheduled it (eager dispatch) is no
    one else's work, and a step that leaves no task behind wakes no worker: the
    commits of a worker stepping its own runs wake no other process.
    """
    queues: set[str] = set()
    for change in changes:
        if isinstance(change, NeedWorkflowTask):
            queues.add(change.task_queue)
        elif isinstance(change, InsertActivityTask):
            if change.row.lease_owner is None:
                queues.add(change.row.task_queue)
        elif isinstance(change, InsertTimer):
            queues.add(change.timer.task_queue)
    return queues


def stale_result(exc: BaseException, changes: Iterable[Change]) -> Exception | None:
    """The error a result's change carries for ``apply_changes()``'s stale-result error
    ``exc`` (None if ``exc`` is another error)."""
    if getattr(exc, "sqlstate", None) != STALE_RESULT:
        return None
    diag = getattr(exc, "diag", None)
    detail = getattr(diag, "message_detail", None) or "[]"
    key = json.loads(detail)
    for change in changes:
        if isinstance(change, DeleteActivityTask) and change.missing is not None \
                and [change.run_id, change.scheduled_event_id] == key:
            return change.missing
    return None


def apply_changes(conn: psycopg.Connection[Any], changes: Iterable[Change],
                  sync: Callable[[], None] | None = None) -> set[str]:
    """Write ``changes``, in order, in the open transaction: one ``apply_changes()`` call
    for each run of them between search-attribute changes (written by their own
    statements). Raises a stale result's error if its activity task is gone.

    Returns the task queues that may have new work (to scope the wake-up). On a
    connection in pipeline mode give ``sync`` (which waits for every answer): the
    calls go out together and their answers are waited for once, at the end.
    """
    listed = without_overwritten(changes)
    queues = task_queues(listed)
    calls: list[psycopg.Cursor[Any]] = []
    segment: list[Change] = []
    try:
        for change in [*listed, None]:
            if change is not None and not isinstance(change, SetSearchAttributes):
                segment.append(change)
                continue
            if segment:
                calls.append(conn.execute(APPLY, (encode(segment),)))
                segment = []
                if sync is None:
                    queues.update(_flagged(calls.pop()))
            if change is not None:
                apply_set(conn, "%s", change.run_id, change.values, fresh=change.fresh)
        if calls and sync is not None:
            sync()
            for cur in calls:
                queues.update(_flagged(cur))
    except Exception as exc:
        missing = stale_result(exc, listed)
        if missing is not None:
            raise missing from None
        raise
    return queues


APPLY = "SELECT apply_changes(%s::jsonb)"


def _flagged(cur: psycopg.Cursor[Any]) -> list[str]:
    """The task queues of the activities an ``apply_changes()`` call asked to cancel."""
    row = cur.fetchone()
    return [] if row is None else list(row[0])


def without_overwritten(changes: Iterable[Change]) -> list[Change]:
    """``changes`` less each :class:`AdvanceRun` that a later change of the same run's
    head (an advance or its close) overwrites: one update of the run row per batch."""
    listed = list(changes)
    last: dict[str, int] = {}
    for at, change in enumerate(listed):
        if isinstance(change, AdvanceRun | CloseRun):
            last[change.run_id] = at
    return [c for at, c in enumerate(listed)
            if not isinstance(c, AdvanceRun) or last[c.run_id] == at]
