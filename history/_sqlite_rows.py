"""Rows of the SQLite store: encoding records to columns and back, and applying changes.

Times in the index tables are integer microseconds since the Unix epoch (UTC),
so comparisons in SQL are exact; events keep their ISO 8601 text.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from ._batch import RunHead
from ._changes import (
    AbortUpdates,
    AcceptUpdate,
    ActivityRow,
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
    WorkflowTaskRow,
)
from ._codec import PayloadConverter, event_from_data, event_to_data
from ._events import Event, Failure, JsonValue, WorkflowTaskFailed
from ._kinds import EVENT_KINDS
from ._search_index import apply_set
from ._store import DueTimer, RunInfo, UpdateRequest

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
MICRO = _MICRO
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_CONVERTER = PayloadConverter()
dumps = _ENCODER.encode


def to_us(value: datetime) -> int:
    """A datetime as microseconds since the epoch (naive means UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MICRO


def from_us(value: int) -> datetime:
    """The inverse of :func:`to_us`, in UTC."""
    return _EPOCH + timedelta(microseconds=value)


def opt_us(value: datetime | None) -> int | None:
    return None if value is None else to_us(value)


def opt_from_us(value: int | None) -> datetime | None:
    return None if value is None else from_us(value)


def event_row(run_id: str, event: Event) -> tuple[str, int, str, str, str]:
    """One row of the events table."""
    data = event_to_data(event)
    return (run_id, event.event_id, event.kind, data["time"], dumps(data))


def decode_event(data: str) -> Event:
    return event_from_data(json.loads(data))


def failure_json(failure: Failure | None) -> str | None:
    return None if failure is None else dumps(_CONVERTER.to_payload(failure))


def _failure(data: str | None) -> Failure | None:
    return None if data is None else _CONVERTER.from_payload(json.loads(data), Failure)


failure_from_json = _failure
"""The inverse of :func:`failure_json`."""


def _opt_json(value: JsonValue) -> str:
    return dumps(value)


def task_failure_json(event: WorkflowTaskFailed | None) -> str | None:
    return None if event is None else dumps(event_to_data(event))


def task_failure_from_json(data: str | None) -> WorkflowTaskFailed | None:
    """The runs index's recorded task failure (a WorkflowTaskFailed event's data)."""
    if data is None:
        return None
    event = decode_event(data)
    return event if isinstance(event, WorkflowTaskFailed) else None


# --- records <-> rows -------------------------------------------------------------------------

# The runs table has no last_event_id column: it is read from the events table's
# primary key, so an append that does not close the run never writes its runs row.
RUN_COLUMNS = ("run_id, workflow_id, workflow_type, task_queue, status, start_time, close_time, "
               "first_execution_run_id, parent_workflow_id, parent_run_id, "
               "continued_from_run_id, next_run_id, memo, deadline, task_attempt, "
               "task_failure, task_retry_at, search_attributes")
RUN_SELECT = (RUN_COLUMNS + ", (SELECT max(event_id) FROM events AS e "
              "WHERE e.run_id = runs.run_id)")


def run_to_row(r: RunInfo) -> tuple[Any, ...]:
    return (r.run_id, r.workflow_id, r.workflow_type, r.task_queue, r.status,
            to_us(r.start_time), opt_us(r.close_time),
            r.first_execution_run_id, r.parent_workflow_id, r.parent_run_id,
            r.continued_from_run_id, r.next_run_id, dumps(r.memo), opt_us(r.deadline),
            r.task_attempt, task_failure_json(r.task_failure), opt_us(r.task_retry_at),
            dumps(r.search_attributes))


def run_from_row(row: Sequence[Any]) -> RunInfo:
    """A RunInfo from a row selected with RUN_SELECT."""
    return RunInfo(
        run_id=row[0], workflow_id=row[1], workflow_type=row[2], task_queue=row[3],
        status=row[4], start_time=from_us(row[5]), close_time=opt_from_us(row[6]),
        first_execution_run_id=row[7], parent_workflow_id=row[8],
        parent_run_id=row[9], continued_from_run_id=row[10], next_run_id=row[11],
        memo=json.loads(row[12]), deadline=opt_from_us(row[13]), task_attempt=row[14],
        task_failure=task_failure_from_json(row[15]), task_retry_at=opt_from_us(row[16]),
        search_attributes=json.loads(row[17]), last_event_id=row[18] or 0)


WTASK_COLUMNS = "run_id, task_queue, has_inputs, lease_owner, lease_expires_at"


def wtask_to_row(r: WorkflowTaskRow) -> tuple[Any, ...]:
    return (r.run_id, r.task_queue, int(r.has_inputs), r.lease_owner, opt_us(r.lease_expires_at))


def wtask_from_row(row: Sequence[Any]) -> WorkflowTaskRow:
    return WorkflowTaskRow(run_id=row[0], task_queue=row[1], has_inputs=bool(row[2]),
                           lease_owner=row[3], lease_expires_at=opt_from_us(row[4]))


ACTIVITY_COLUMNS = ("run_id, scheduled_event_id, workflow_id, task_queue, activity_type, "
                    "activity_id, args, scheduled_time, available_at, attempt, lease_owner, "
                    "lease_expires_at, heartbeat_details, cancel_requested, attempt_timeout, "
                    "last_failure, last_heartbeat_at")


LEASE_EXPIRY_SQL = ("COALESCE(CAST(attempt_timeout * 1000000 AS INTEGER) + 1000000, ?5) + ?4")
"""A lease's end: one attempt's timeout plus a second from now (?4), else the default (?5)."""

LEASE_ACTIVITY_SQL = (
    "UPDATE activity_tasks SET attempt = attempt + 1, lease_owner = ?3, "
    f"lease_expires_at = {LEASE_EXPIRY_SQL} WHERE run_id = ?1 AND scheduled_event_id = ?2 "
    "AND lease_owner IS NULL")


def activity_to_row(r: ActivityRow) -> tuple[Any, ...]:
    return (r.run_id, r.scheduled_event_id, r.workflow_id, r.task_queue, r.activity_type,
            r.activity_id, dumps(r.args), to_us(r.scheduled_time), to_us(r.available_at),
            r.attempt, r.lease_owner, opt_us(r.lease_expires_at),
            dumps(r.heartbeat_details) if r.heartbeat_details else "[]",
            int(r.cancel_requested), r.attempt_timeout, failure_json(r.last_failure),
            opt_us(r.last_heartbeat_at))


def activity_from_row(row: Sequence[Any]) -> ActivityRow:
    return ActivityRow(
        run_id=row[0], scheduled_event_id=row[1], workflow_id=row[2], task_queue=row[3],
        activity_type=row[4], activity_id=row[5], args=json.loads(row[6]),
        scheduled_time=from_us(row[7]), available_at=from_us(row[8]), attempt=row[9],
        lease_owner=row[10], lease_expires_at=opt_from_us(row[11]),
        heartbeat_details=json.loads(row[12]), cancel_requested=bool(row[13]),
        attempt_timeout=row[14], last_failure=_failure(row[15]),
        last_heartbeat_at=opt_from_us(row[16]))


TIMER_COLUMNS = "run_id, started_event_id, fire_at, task_queue"


def timer_to_row(t: DueTimer) -> tuple[Any, ...]:
    return (t.run_id, t.started_event_id, to_us(t.fire_at), t.task_queue)


def timer_from_row(row: Sequence[Any]) -> DueTimer:
    return DueTimer(run_id=row[0], started_event_id=row[1], fire_at=from_us(row[2]),
                    task_queue=row[3])


UPDATE_COLUMNS = ("run_id, update_id, name, args, status, requested_at, result, failure, "
                  "headers")


def update_to_row(u: UpdateRequest) -> tuple[Any, ...]:
    return (u.run_id, u.update_id, u.name, dumps(u.args), u.status, to_us(u.requested_at),
            _opt_json(u.result), failure_json(u.failure), dumps(u.headers))


def update_from_row(row: Sequence[Any]) -> UpdateRequest:
    return UpdateRequest(
        run_id=row[0], update_id=row[1], name=row[2], args=json.loads(row[3]), status=row[4],
        requested_at=from_us(row[5]), result=None if row[6] is None else json.loads(row[6]),
        failure=_failure(row[7]), headers=json.loads(row[8]))


# --- point reads for the derivation -----------------------------------------------------------


class SqlLookup:
    """:class:`history._derive.Lookup` over a connection (inside its transaction)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def run_head(self, run_id: str) -> RunHead | None:
        row = self.conn.execute(
            "SELECT r.workflow_id, r.task_queue, r.status, (SELECT max(event_id) FROM events "
            "WHERE run_id = ?1), w.has_inputs, r.task_attempt FROM runs AS r "
            "LEFT JOIN workflow_tasks AS w ON w.run_id = r.run_id WHERE r.run_id = ?1",
            (run_id,)).fetchone()
        if row is None:
            return None
        has_inputs = None if row[4] is None else bool(row[4])
        return RunHead(run_id, row[0], row[1], row[2], row[3] or 0, has_inputs, row[5])

    def task_failure(self, run_id: str) -> WorkflowTaskFailed | None:
        row = self.conn.execute("SELECT task_failure FROM runs WHERE run_id = ?",
                                (run_id,)).fetchone()
        return None if row is None else task_failure_from_json(row[0])

    def open_run_id(self, workflow_id: str) -> str | None:
        row = self.conn.execute(
            "SELECT run_id FROM runs WHERE workflow_id = ? AND status = 'running'",
            (workflow_id,)).fetchone()
        return None if row is None else str(row[0])

    def event_kind(self, run_id: str, event_id: int) -> type[Event] | None:
        row = self.conn.execute("SELECT kind FROM events WHERE run_id = ? AND event_id = ?",
                                (run_id, event_id)).fetchone()
        return None if row is None else EVENT_KINDS.get(row[0])

    def has_activity_task(self, run_id: str, scheduled_event_id: int) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM activity_tasks WHERE run_id = ? AND scheduled_event_id = ?",
            (run_id, scheduled_event_id)).fetchone() is not None

    def has_timer(self, run_id: str, started_event_id: int) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM timers WHERE run_id = ? AND started_event_id = ?",
            (run_id, started_event_id)).fetchone() is not None

    def get_update(self, run_id: str, update_id: str) -> UpdateRequest | None:
        row = self.conn.execute(
            f"SELECT {UPDATE_COLUMNS} FROM update_requests WHERE run_id = ? AND update_id = ?",
            (run_id, update_id)).fetchone()
        return None if row is None else update_from_row(row)


# --- applying changes -------------------------------------------------------------------------

_NO_REQUESTED = ("NOT EXISTS (SELECT 1 FROM update_requests "
                 "WHERE run_id = ?1 AND status = 'requested')")

_SQL: dict[type, tuple[str, ...]] = {
    InsertRun: (f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({', '.join('?' * 18)})",),
    AdvanceRun: (),  # last_event_id is read from the events table
    CloseRun: ("UPDATE runs SET status = ?2, close_time = ?3, next_run_id = ?4 "
               "WHERE run_id = ?1",),
    NeedWorkflowTask: ("INSERT INTO workflow_tasks (run_id, task_queue, has_inputs) "
                       "VALUES (?1, ?2, ?3) ON CONFLICT (run_id) DO UPDATE SET has_inputs = 1 "
                       "WHERE excluded.has_inputs = 1 AND has_inputs = 0",),
    FinishWorkflowTask: (
        f"DELETE FROM workflow_tasks WHERE run_id = ?1 AND {_NO_REQUESTED}",
        "UPDATE workflow_tasks SET has_inputs = 0, lease_owner = NULL, "
        "lease_expires_at = NULL WHERE run_id = ?1"),
    # named parameters: the second statement uses only some of them
    SetTaskFailure: ("UPDATE runs SET task_attempt = :attempt, task_retry_at = :retry_at, "
                     "task_failure = COALESCE(:failure, task_failure) WHERE run_id = :run_id",
                     "UPDATE workflow_tasks SET lease_expires_at = :retry_at "
                     "WHERE run_id = :run_id AND :retry_at IS NOT NULL"),
    ClearTaskFailure: ("UPDATE runs SET task_attempt = 0, task_retry_at = NULL, "
                       "task_failure = NULL WHERE run_id = ?1",),
    DropIdleWorkflowTask: (
        f"DELETE FROM workflow_tasks WHERE run_id = ?1 AND has_inputs = 0 AND {_NO_REQUESTED}",),
    RemoveRunWork: ("DELETE FROM workflow_tasks WHERE run_id = ?1",
                    "DELETE FROM activity_tasks WHERE run_id = ?1",
                    "DELETE FROM timers WHERE run_id = ?1"),
    AbortUpdates: ("UPDATE update_requests SET status = 'aborted', failure = ?2 "
                   "WHERE run_id = ?1 AND status IN ('requested', 'accepted')",),
    InsertActivityTask: (f"INSERT INTO activity_tasks ({ACTIVITY_COLUMNS}) "
                         f"VALUES ({', '.join('?' * 17)})",),
    LeaseActivityTask: (LEASE_ACTIVITY_SQL,),
    RequestActivityCancel: ("UPDATE activity_tasks SET cancel_requested = 1 "
                            "WHERE run_id = ?1 AND scheduled_event_id = ?2",),
    DeleteActivityTask: ("DELETE FROM activity_tasks WHERE run_id = ?1 "
                         "AND scheduled_event_id = ?2",),
    InsertTimer: (f"INSERT INTO timers ({TIMER_COLUMNS}) VALUES (?, ?, ?, ?)",),
    DeleteTimer: ("DELETE FROM timers WHERE run_id = ?1 AND started_event_id = ?2",),
    InsertUpdate: (f"INSERT INTO update_requests ({UPDATE_COLUMNS}) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",),
    AcceptUpdate: ("INSERT INTO update_requests (run_id, update_id, name, args, status, "
                   "requested_at) VALUES (?1, ?2, ?3, ?4, 'accepted', ?5) "
                   "ON CONFLICT (run_id, update_id) DO UPDATE SET status = 'accepted'",),
    CompleteUpdate: ("UPDATE update_requests SET status = 'completed', result = ?3, "
                     "failure = ?4 WHERE run_id = ?1 AND update_id = ?2",),
    RejectUpdate: ("UPDATE update_requests SET status = 'rejected', failure = ?3 "
                   "WHERE run_id = ?1 AND update_id = ?2",),
}

_PARAMS: dict[type, Callable[[Any], tuple[Any, ...] | dict[str, Any]]] = {
    InsertRun: lambda c: run_to_row(c.info),
    AdvanceRun: lambda c: (c.run_id, c.last_event_id),
    CloseRun: lambda c: (c.run_id, c.status, to_us(c.close_time), c.next_run_id),
    NeedWorkflowTask: lambda c: (c.run_id, c.task_queue, int(c.has_inputs)),
    FinishWorkflowTask: lambda c: (c.run_id,),
    SetTaskFailure: lambda c: {"run_id": c.run_id, "attempt": c.attempt,
                               "retry_at": opt_us(c.retry_at),
                               "failure": task_failure_json(c.failure)},
    ClearTaskFailure: lambda c: (c.run_id,),
    DropIdleWorkflowTask: lambda c: (c.run_id,),
    RemoveRunWork: lambda c: (c.run_id,),
    AbortUpdates: lambda c: (c.run_id, failure_json(c.failure)),
    InsertActivityTask: lambda c: activity_to_row(c.row),
    LeaseActivityTask: lambda c: (c.run_id, c.scheduled_event_id, c.owner, to_us(c.now),
                                  c.default_lease // _MICRO),
    RequestActivityCancel: lambda c: (c.run_id, c.scheduled_event_id),
    DeleteActivityTask: lambda c: (c.run_id, c.scheduled_event_id),
    InsertTimer: lambda c: timer_to_row(c.timer),
    DeleteTimer: lambda c: (c.run_id, c.started_event_id),
    InsertUpdate: lambda c: update_to_row(c.request),
    AcceptUpdate: lambda c: (c.run_id, c.update_id, c.name, dumps(c.args), to_us(c.time)),
    CompleteUpdate: lambda c: (c.run_id, c.update_id, _opt_json(c.result),
                               failure_json(c.failure)),
    RejectUpdate: lambda c: (c.run_id, c.update_id, failure_json(c.failure)),
}

INSERT_EVENT = "INSERT INTO events (run_id, event_id, kind, time, data) VALUES (?, ?, ?, ?, ?)"


def _add_events(conn: sqlite3.Connection, change: AddEvents, gone: set[str]) -> None:
    rows = [event_row(change.run_id, e) for e in change.events]
    if len(rows) == 1:
        conn.execute(INSERT_EVENT, rows[0])
    else:
        conn.executemany(INSERT_EVENT, rows)


def _set_search(conn: sqlite3.Connection, change: SetSearchAttributes, gone: set[str]) -> None:
    apply_set(conn, "?", change.run_id, change.values, fresh=change.fresh)


def _finish(conn: sqlite3.Connection, change: FinishWorkflowTask, gone: set[str]) -> None:
    # the row goes unless requested updates keep it: then it is only reset
    if conn.execute(_SQL[FinishWorkflowTask][0], (change.run_id,)).rowcount == 0:
        conn.execute(_SQL[FinishWorkflowTask][1], (change.run_id,))
    else:
        gone.add(change.run_id)


def _need(conn: sqlite3.Connection, change: NeedWorkflowTask, gone: set[str]) -> None:
    gone.discard(change.run_id)
    conn.execute(_SQL[NeedWorkflowTask][0], _PARAMS[NeedWorkflowTask](change))


_SPECIAL: dict[type, Callable[[sqlite3.Connection, Any, set[str]], None]] = {
    AddEvents: _add_events,
    SetSearchAttributes: _set_search,
    FinishWorkflowTask: _finish,
    NeedWorkflowTask: _need,
}
"""Changes applied by a function of their own rather than by their statements alone."""


# --- the connection's data_version, carried by a statement the transaction runs anyway ----------

VERSION = "(SELECT data_version FROM pragma_data_version)"
"""The writing connection's data version, as a column a ``RETURNING`` clause can return."""


class VersionProbe:
    """``PRAGMA data_version`` of the writing connection, read inside its transaction by
    the ``RETURNING`` clause of the first statement that changes a row (so the check
    costs no statement of its own). ``value`` stays None if no statement carried it."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: int | None = None


_CARRYING: dict[str, str] = {}


def _returning(conn: sqlite3.Connection, sql: str, params: Any, columns: str,
               probe: VersionProbe | None) -> list[Any]:
    """Run a writing statement with ``RETURNING columns`` (and the data version, if the
    probe still wants it): the rows it changed, each with ``columns`` first."""
    if probe is None or probe.value is not None:
        return conn.execute(f"{sql} RETURNING {columns}", params).fetchall()
    carrying = _CARRYING.get(sql + columns)
    if carrying is None:
        carrying = _CARRYING[sql + columns] = f"{sql} RETURNING {columns}, {VERSION}"
    found = conn.execute(carrying, params).fetchall()
    if found:
        probe.value = int(found[0][-1])
    return found


def _changed(conn: sqlite3.Connection, sql: str, params: Any,
             probe: VersionProbe | None) -> int:
    """Run a writing statement (carrying the data version if the probe still wants it);
    how many rows it changed."""
    if probe is None or probe.value is not None:
        return int(conn.execute(sql, params).rowcount)
    return len(_returning(conn, sql, params, "1", probe))


_REPLACE_ACTIVITY = (
    "UPDATE activity_tasks SET (" + ACTIVITY_COLUMNS + ") = (" + ", ".join("?" * 17) + ") "
    "WHERE run_id = ? AND scheduled_event_id = ?")


def _replace_activity(conn: sqlite3.Connection, done: DeleteActivityTask,
                      row: ActivityRow, probe: VersionProbe | None) -> None:
    """The finished activity task's row becomes the new task's: one statement, not two."""
    params = (*activity_to_row(row), done.run_id, done.scheduled_event_id)
    if _changed(conn, _REPLACE_ACTIVITY, params, probe) == 0:
        if done.missing is not None:
            raise done.missing
        _changed(conn, _SQL[InsertActivityTask][0], activity_to_row(row), probe)


def _remove_run_work(conn: sqlite3.Connection, change: RemoveRunWork,
                     done: Sequence[DeleteActivityTask], probe: VersionProbe | None) -> None:
    """Delete a closed run's task rows, skipping the tables it is known to have none in;
    ``done``: its finished activity tasks, deleted here too (checked by what is returned)."""
    if change.task_row:
        conn.execute(_SQL[RemoveRunWork][0], (change.run_id,))
    if done:
        found = _returning(conn, _SQL[RemoveRunWork][1], (change.run_id,),
                           "scheduled_event_id", probe)
        deleted = {int(r[0]) for r in found}
        for d in done:
            if d.scheduled_event_id not in deleted and d.missing is not None:
                raise d.missing
    else:
        _changed(conn, _SQL[RemoveRunWork][1], (change.run_id,), probe)
    if change.timers:
        conn.execute(_SQL[RemoveRunWork][2], (change.run_id,))


_TOUCH_ACTIVITIES = (InsertActivityTask, DeleteActivityTask, LeaseActivityTask,
                     RequestActivityCancel, RemoveRunWork)
"""Changes that write a run's activity task rows."""


def _pairs(changes: Sequence[Change]) -> tuple[dict[int, int], dict[int, list[int]]]:
    """Which activity task deletes can be written together with a later change of the
    same run: ``replace`` (delete at -> insert at) when the run's next write to its
    activity tasks inserts one, ``folded`` (removal at -> deletes at) when its next one
    removes all its work (the run ended)."""
    replace: dict[int, int] = {}
    folded: dict[int, list[int]] = {}
    open_delete: dict[str, int] = {}
    for at, change in enumerate(changes):
        if not isinstance(change, _TOUCH_ACTIVITIES):
            continue
        run_id = change.row.run_id if isinstance(change, InsertActivityTask) else change.run_id
        pending = open_delete.pop(run_id, -1)
        if isinstance(change, DeleteActivityTask):
            open_delete[run_id] = at
        elif pending >= 0 and isinstance(change, InsertActivityTask):
            replace[pending] = at
        elif pending >= 0 and isinstance(change, RemoveRunWork):
            folded[at] = [pending]
    return replace, folded


def apply_changes(conn: sqlite3.Connection, changes: Iterable[Change],
                  probe: VersionProbe | None = None) -> set[str]:
    """Run the SQL of each change, in order, on the connection's open transaction.

    Returns the runs whose workflow task row the changes deleted (and did not
    create again), so that a cached run head can say the row is not there.
    An activity task's delete followed by an insert of the same run's next task is
    one update of the row; followed by the removal of the run's work, it is part of
    that removal. ``probe``, if given, gets the connection's data version from the
    first statement that can return it.
    """
    listed = changes if isinstance(changes, Sequence) else list(changes)
    replace, folded = _pairs(listed)
    skip = set(replace.values())
    for ats in folded.values():
        skip.update(ats)
    gone: set[str] = set()
    for at, change in enumerate(listed):
        if at in skip:
            continue
        kind = type(change)
        if kind is DeleteActivityTask:
            done = cast(DeleteActivityTask, change)
            if at in replace:
                insert = cast(InsertActivityTask, listed[replace[at]])
                _replace_activity(conn, done, insert.row, probe)
            elif _changed(conn, _SQL[kind][0], (done.run_id, done.scheduled_event_id),
                          probe) == 0 and done.missing is not None:
                raise done.missing
            continue
        if kind is RemoveRunWork:
            _remove_run_work(conn, cast(RemoveRunWork, change),
                             [cast(DeleteActivityTask, listed[a]) for a in folded.get(at, ())],
                             probe)
            continue
        special = _SPECIAL.get(kind)
        if special is not None:
            special(conn, change, gone)
            continue
        statements = _SQL[kind]
        if statements:
            params = _PARAMS[kind](change)
            if kind in _CARRIERS:
                _changed(conn, statements[0], params, probe)
                continue
            for sql in statements:
                conn.execute(sql, params)
    return gone


_CARRIERS: frozenset[type] = frozenset({InsertRun, CloseRun, InsertActivityTask})
"""Changes of one statement that changes one row, which can carry the data version."""
