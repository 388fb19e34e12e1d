"""PostgresStore: the store for workers on many hosts (PostgreSQL, psycopg 3)."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from . import _postgres_admin as admin
from . import _postgres_conn as pg
from . import _postgres_rows as rows
from ._batch import RUNNING
from ._derive import plan_operation, plan_reject_update, plan_request_update
from ._errors import ReplayError, RunNotFoundError, StoreError
from ._events import Event, Failure, JsonValue
from ._history import History
from ._notify import ChangeNotifier, Notifying
from ._postgres_listen import Listener, payload, queue_scope, scopes
from ._postgres_schema import prepare
from ._sqlite_rows import decode_event, dumps, failure_json
from ._store import (
    ActivityTask,
    Append,
    DueTimer,
    Operation,
    PendingActivity,
    RunInfo,
    UpdateRequest,
    WorkflowTask,
)

if TYPE_CHECKING:
    import psycopg

T = TypeVar("T")
_ATTEMPTS = 8


@attrs.define
class _Tx:
    """One open transaction, and the runs and task queues its commit concerns."""

    conn: psycopg.Connection[Any]
    runs: set[str] = attrs.Factory(set)
    queues: set[str] = attrs.Factory(set)


class PostgresStore(Notifying):
    """A :class:`~history.Store` in a PostgreSQL schema, shared by workers on many hosts.

    ``url`` is a libpq URL (``postgresql://user:password@host:5432/db``); its
    ``?schema=`` (default ``replay``) and ``?pool_size=`` (default 8) parameters,
    or the keyword arguments, choose the PostgreSQL schema holding the store
    and the connections this object keeps. The schema is created on first use
    and checked (and upgraded) on every open. Conditional appends lock the
    run's head row; leases use ``FOR UPDATE SKIP LOCKED``; commits wake
    waiters in every process through ``LISTEN/NOTIFY``. Needs the ``postgres``
    extra (StoreError naming it otherwise); methods block the calling thread
    for a round trip or a few.
    """

    def __init__(self, url: str, *, schema: str | None = None, pool_size: int | None = None,
                 connect_timeout: float = 10.0) -> None:
        self._closed = False
        self._close_lock = threading.Lock()
        self.target = pg.parse_target(url, schema=schema, pool_size=pool_size)
        pg.require_driver(self.target)
        self.schema = self.target.schema
        self._timeout = connect_timeout
        try:
            with pg.connect(self.target, connect_timeout) as conn:
                prepare(conn, self.schema, self.target.shown)
        except pg.DB_ERRORS as exc:
            raise self._error(exc, "cannot open the store") from exc
        self._notifier = ChangeNotifier()
        self._origin = uuid.uuid4().hex
        self._pool = pg.open_pool(self.target, connect_timeout)
        self._listener = Listener(lambda: pg.connect(self.target, self._timeout),
                                  self.target.channel, self._origin, self._notifier)
        try:
            self._listener.start(connect_timeout)
        except (*pg.DB_ERRORS, TimeoutError) as exc:  # type: ignore[misc]  # a tuple of classes
            self._pool.close()
            raise self._error(exc, "cannot LISTEN for changes") from exc

    def __repr__(self) -> str:
        return f"PostgresStore({self.target.shown!r}, schema={self.schema!r})"

    # --- connections and transactions ---------------------------------------------------------

    def _error(self, exc: BaseException, what: str) -> StoreError:
        return StoreError(f"{what}: PostgreSQL error: {exc}", path=self.target.shown)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed", path=self.target.shown)

    def _write(self, fn: Callable[[_Tx], T]) -> T:
        """Run ``fn`` in a transaction (again after a serialization failure or a deadlock),
        then wake the waiters its commit concerns, here and in every listening process."""
        self._check_open()
        for attempt in range(_ATTEMPTS):
            try:
                with self._pool.connection() as conn, conn.transaction():
                    tx = _Tx(conn)
                    result = fn(tx)
                    if tx.runs or tx.queues:
                        conn.execute("SELECT pg_notify(%s, %s)", (
                            self.target.channel, payload(self._origin, tx.runs, tx.queues)))
            except (*pg.RETRYABLE, *pg.UNIQUE) as exc:
                if attempt == _ATTEMPTS - 1:
                    raise self._error(exc, f"a transaction kept failing ({attempt + 1} tries)"
                                      ) from exc
                continue
            except pg.DB_ERRORS as exc:
                raise self._error(exc, "a write failed") from exc
            if tx.runs or tx.queues:
                self._notifier.notify(scopes(tx.runs, tx.queues))
            return result
        raise AssertionError("unreachable")

    def _query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        """One statement in its own transaction (autocommit); its rows."""
        self._check_open()
        try:
            with self._pool.connection() as conn:
                found: list[Any] = conn.execute(sql, params).fetchall()
                return found
        except pg.DB_ERRORS as exc:
            raise self._error(exc, "a query failed") from exc

    # --- events -------------------------------------------------------------------------------

    def _apply(self, tx: _Tx, ops: Sequence[Operation]) -> list[Event]:
        lookup = rows.PgLookup(tx.conn)
        written: list[Event] = []
        queues: set[str] = set()
        for op in ops:
            plan = plan_operation(op, lookup)
            queues |= rows.apply_changes(tx.conn, plan.changes)
            written.extend(plan.events)
        if written or queues:
            tx.runs |= {op.run_id for op in ops}
            tx.queues |= queues | lookup.queues
        return written

    @staticmethod
    def _lock_runs(tx: _Tx, ops: Sequence[Operation]) -> None:
        # Several runs: lock their head rows in one order, so that two commits touching
        # the same runs wait for each other instead of deadlocking.
        run_ids = sorted({op.run_id for op in ops})
        if len(run_ids) > 1:
            tx.conn.execute("SELECT 1 FROM runs WHERE run_id = ANY(%s) ORDER BY run_id "
                            "FOR UPDATE", (run_ids,))

    def commit(self, ops: Sequence[Operation]) -> list[Event]:
        """Apply all operations in one transaction, or none; returns the events written."""
        def run(tx: _Tx) -> list[Event]:
            self._lock_runs(tx, ops)
            return self._apply(tx, ops)
        return self._write(run)

    def commit_each(self, batches: Sequence[Sequence[Operation]]
                    ) -> list[list[Event] | ReplayError]:
        """Apply each batch atomically on its own (a savepoint each), in one transaction.

        One commit for all of them: the worker's group commit. A batch that fails
        is rolled back to its savepoint and its error takes its place.
        """
        def run(tx: _Tx) -> list[list[Event] | ReplayError]:
            self._lock_runs(tx, [op for ops in batches for op in ops])
            return [self._savepoint(tx, ops) for ops in batches]
        return self._write(run)

    def _savepoint(self, tx: _Tx, ops: Sequence[Operation]) -> list[Event] | ReplayError:
        for attempt in range(3):
            part = _Tx(tx.conn)
            try:
                with tx.conn.transaction():
                    written = self._apply(part, ops)
            except ReplayError as exc:
                return exc
            except pg.UNIQUE:
                if attempt == 2:
                    raise
                continue  # a concurrent start of the same run: plan again, seeing it
            tx.runs |= part.runs
            tx.queues |= part.queues
            return written
        raise AssertionError("unreachable")

    def append(self, run_id: str, events: Sequence[Event], expected_last_event_id: int) -> None:
        """Conditional append; AppendConflictError if the run is not at the expected id."""
        self.commit([Append(run_id, events, expected_last_event_id)])

    def read(self, run_id: str, after_event_id: int = 0) -> list[Event]:
        """Events of the run with id > ``after_event_id``; RunNotFoundError if no such run."""
        found = self._query("SELECT data FROM events WHERE run_id = %s AND event_id > %s "
                            "ORDER BY event_id", (run_id, after_event_id))
        if not found and not self._query("SELECT 1 FROM events WHERE run_id = %s LIMIT 1",
                                         (run_id,)):
            raise RunNotFoundError(run_id)
        return [decode_event(r[0]) for r in found]

    def history(self, run_id: str) -> History:
        """The run's whole history."""
        return History(run_id, self.read(run_id))

    def last_event_id(self, run_id: str) -> int:
        """The id of the run's newest event; 0 if the run does not exist."""
        found = self._query("SELECT max(event_id) FROM events WHERE run_id = %s", (run_id,))
        return int(found[0][0] or 0)

    def run_is_open(self, run_id: str) -> bool:
        """True while the run exists and has not ended."""
        info = self.get_run(run_id)
        return info is not None and info.status == RUNNING

    async def wait_changed(self, timeout: float, since: int | None = None,
                           run_id: str | None = None, task_queue: str | None = None) -> bool:
        """True when a commit concerning ``run_id`` (or giving ``task_queue`` work; or any,
        with neither) lands in any process, False after ``timeout``."""
        scope = run_id if run_id is not None else (
            queue_scope(task_queue) if task_queue is not None else None)
        return await self._notifier.wait(timeout, since, scope)

    # --- runs index ---------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunInfo | None:
        """The runs-index row of a run, or None."""
        found = self._query(f"SELECT {rows.RUN_COLUMNS} FROM runs WHERE run_id = %s", (run_id,))
        return rows.run_from_row(found[0]) if found else None

    def latest_run(self, workflow_id: str) -> RunInfo | None:
        """The most recently started run of a workflow id, or None."""
        return next(iter(self.list_runs(workflow_id=workflow_id, limit=1)), None)

    @staticmethod
    def _filters(task_failing: bool | None = None, **given: str | None
                 ) -> tuple[str, list[Any]]:
        used = {k: v for k, v in given.items() if v is not None}
        where = " AND ".join(f"{k} = %s" for k in used) or "true"
        if task_failing is not None:
            where += " AND task_attempt > 0" if task_failing else " AND task_attempt = 0"
        return where, list(used.values())

    def list_runs(self, *, status: str | None = None, workflow_type: str | None = None,
                  workflow_id: str | None = None, limit: int | None = None,
                  task_failing: bool | None = None) -> list[RunInfo]:
        """Runs matching every given filter, most recently started first (``task_failing``:
        only runs whose workflow task is, or is not, failing)."""
        where, params = self._filters(task_failing, status=status, workflow_type=workflow_type,
                                      workflow_id=workflow_id)
        found = self._query(f"SELECT {rows.RUN_COLUMNS} FROM runs WHERE {where} "
                            "ORDER BY seq DESC LIMIT %s", [*params, limit])
        return [rows.run_from_row(r) for r in found]

    def count_runs(self, *, status: str | None = None, workflow_type: str | None = None) -> int:
        """How many runs match the filters."""
        where, params = self._filters(status=status, workflow_type=workflow_type)
        return int(self._query(f"SELECT count(*) FROM runs WHERE {where}", params)[0][0])

    # --- workflow tasks -----------------------------------------------------------------------

    def lease_workflow_task(self, task_queue: str, owner: str, now: datetime,
                            lease_for: timedelta) -> WorkflowTask | None:
        """Lease the oldest free workflow task of the queue (free: unleased or expired)."""
        return next(iter(self.lease_workflow_tasks(task_queue, owner, now, lease_for, 1)), None)

    def lease_workflow_tasks(self, task_queue: str, owner: str, now: datetime,
                             lease_for: timedelta, limit: int) -> list[WorkflowTask]:
        """Lease up to ``limit`` free workflow tasks of the queue, oldest first, at once.

        Rows another worker is leasing right now are skipped, not waited for.
        """
        expires = now + lease_for
        found = self._query(
            "UPDATE workflow_tasks AS w SET lease_owner = %(owner)s, lease_expires_at = "
            "%(expires)s FROM (SELECT run_id FROM workflow_tasks WHERE task_queue = %(q)s AND "
            "(lease_expires_at IS NULL OR lease_expires_at <= %(now)s) ORDER BY seq "
            "LIMIT %(limit)s FOR UPDATE SKIP LOCKED) AS free WHERE w.run_id = free.run_id "
            "RETURNING w.seq, w.run_id",
            {"owner": owner, "expires": expires, "q": task_queue, "now": now, "limit": limit})
        return [WorkflowTask(run_id=r[1], task_queue=task_queue, lease_owner=owner,
                             lease_expires_at=expires) for r in sorted(found)]

    def release_workflow_task(self, run_id: str, owner: str) -> None:
        """Give a leased workflow task back (if ``owner`` holds it); it stays pending."""
        def run(tx: _Tx) -> None:
            found = tx.conn.execute(
                "UPDATE workflow_tasks SET lease_owner = NULL, lease_expires_at = NULL "
                "WHERE run_id = %s AND lease_owner = %s RETURNING task_queue",
                (run_id, owner)).fetchall()
            tx.queues |= {r[0] for r in found}
        self._write(run)

    # --- activity tasks -----------------------------------------------------------------------

    def lease_activity_task(self, task_queue: str, owner: str, now: datetime,
                            lease_for: timedelta) -> ActivityTask | None:
        """Lease the activity task available longest; its attempt number goes up by one."""
        return next(iter(self.lease_activity_tasks(task_queue, owner, now, lease_for, 1)), None)

    def lease_activity_tasks(self, task_queue: str, owner: str, now: datetime,
                             lease_for: timedelta, limit: int) -> list[ActivityTask]:
        """Lease up to ``limit`` available activity tasks at once, longest-waiting first.

        Each lease lasts its activity's attempt timeout plus a second (``lease_for``
        when it has none), so a dead worker's attempt is retried soon after.
        """
        found = self._query(
            "UPDATE activity_tasks AS a SET attempt = a.attempt + 1, lease_owner = %(owner)s, "
            "lease_expires_at = %(now)s + COALESCE(a.lease_span, %(default)s) FROM (SELECT "
            "run_id, scheduled_event_id FROM activity_tasks WHERE task_queue = %(q)s AND "
            "available_at <= %(now)s AND (lease_expires_at IS NULL OR lease_expires_at <= "
            "%(now)s) ORDER BY available_at, run_id, scheduled_event_id LIMIT %(limit)s "
            "FOR UPDATE SKIP LOCKED) AS free WHERE a.run_id = free.run_id AND "
            "a.scheduled_event_id = free.scheduled_event_id RETURNING "
            + ", ".join(f"a.{c.strip()}" for c in rows.ACTIVITY_COLUMNS.split(",")),
            {"owner": owner, "now": now, "default": lease_for, "q": task_queue,
             "limit": limit})
        leased = [rows.activity_from_row(r) for r in found]
        leased.sort(key=lambda r: (r.available_at, r.run_id, r.scheduled_event_id))
        return [r.to_task() for r in leased]

    def _update_activity(self, sets: str, run_id: str, scheduled_event_id: int, owner: str,
                         params: dict[str, Any], *, wakes: bool = True) -> bool:
        def run(tx: _Tx) -> bool:
            found = tx.conn.execute(
                f"UPDATE activity_tasks SET {sets} WHERE run_id = %(run_id)s AND "
                "scheduled_event_id = %(sid)s AND lease_owner = %(owner)s RETURNING task_queue",
                {**params, "run_id": run_id, "sid": scheduled_event_id, "owner": owner}
            ).fetchall()
            if wakes:
                tx.queues |= {r[0] for r in found}
            return bool(found)
        return self._write(run)

    def heartbeat_activity(self, run_id: str, scheduled_event_id: int, owner: str,
                           details: list[JsonValue], now: datetime, lease_for: timedelta) -> bool:
        """Record progress and extend the lease; False if ``owner`` no longer holds the task."""
        return self._update_activity(
            "heartbeat_details = %(details)s, last_heartbeat_at = %(now)s, "
            "lease_expires_at = %(expires)s", run_id, scheduled_event_id, owner,
            {"details": dumps(details), "now": now, "expires": now + lease_for}, wakes=False)

    def retry_activity(self, run_id: str, scheduled_event_id: int, owner: str,
                       available_at: datetime, failure: Failure | None = None) -> None:
        """An attempt failed (``failure``): unlease it until ``available_at``."""
        self._update_activity(
            "lease_owner = NULL, lease_expires_at = NULL, available_at = %(at)s, "
            "last_failure = %(failure)s", run_id, scheduled_event_id, owner,
            {"at": available_at, "failure": failure_json(failure)})

    def pending_activities(self, run_id: str) -> list[PendingActivity]:
        """The run's open activities, in the order they were scheduled."""
        found = self._query(f"SELECT {rows.ACTIVITY_COLUMNS} FROM activity_tasks "
                            "WHERE run_id = %s ORDER BY scheduled_event_id", (run_id,))
        return [rows.activity_from_row(r).to_pending() for r in found]

    def release_activity_task(self, run_id: str, scheduled_event_id: int, owner: str) -> None:
        """Give a leased activity task back unrun (its attempt is not counted)."""
        self._update_activity(
            "lease_owner = NULL, lease_expires_at = NULL, attempt = greatest(attempt - 1, 0)",
            run_id, scheduled_event_id, owner, {})

    def get_activity_task(self, run_id: str, scheduled_event_id: int) -> ActivityTask | None:
        """The activity task if it is open and leased (to see ``cancel_requested``)."""
        found = self._query(
            f"SELECT {rows.ACTIVITY_COLUMNS} FROM activity_tasks WHERE run_id = %s "
            "AND scheduled_event_id = %s AND lease_owner IS NOT NULL",
            (run_id, scheduled_event_id))
        return rows.activity_from_row(found[0]).to_task() if found else None

    def cancel_requested_activities(self, owner: str) -> list[tuple[str, int]]:
        """(run id, scheduled event id) of activities leased by ``owner`` asked to cancel."""
        found = self._query("SELECT run_id, scheduled_event_id FROM activity_tasks WHERE "
                            "lease_owner = %s AND cancel_requested ORDER BY run_id, "
                            "scheduled_event_id", (owner,))
        return [(str(r[0]), int(r[1])) for r in found]

    # --- timers -------------------------------------------------------------------------------

    def due_timers(self, now: datetime, limit: int = 100) -> list[DueTimer]:
        """Open timers with ``fire_at <= now``, soonest first."""
        found = self._query(
            f"SELECT {rows.TIMER_COLUMNS} FROM timers WHERE fire_at <= %s "
            "ORDER BY fire_at, run_id, started_event_id LIMIT %s", (now, limit))
        return [rows.timer_from_row(r) for r in found]

    def next_timer_at(self) -> datetime | None:
        """When the soonest open timer, open run's deadline or failing workflow task's
        retry falls due, or None."""
        found = self._query(
            "SELECT least((SELECT min(fire_at) FROM timers), (SELECT min(deadline) FROM runs "
            "WHERE status = 'running'), (SELECT min(task_retry_at) FROM runs "
            "WHERE task_attempt > 0))")
        value: datetime | None = found[0][0]
        return value

    def expired_runs(self, now: datetime, limit: int = 100) -> list[RunInfo]:
        """Open runs whose execution or run timeout has passed, earliest first."""
        found = self._query(f"SELECT {rows.RUN_COLUMNS} FROM runs WHERE status = 'running' "
                            "AND deadline <= %s ORDER BY deadline, run_id LIMIT %s", (now, limit))
        return [rows.run_from_row(r) for r in found]

    # --- leases of dead workers, and heartbeats -----------------------------------------------

    def lease_owners(self) -> set[str]:
        """Every owner holding a workflow or activity task lease now."""
        found = self._query("SELECT lease_owner FROM workflow_tasks WHERE lease_owner IS NOT "
                            "NULL UNION SELECT lease_owner FROM activity_tasks WHERE "
                            "lease_owner IS NOT NULL")
        return {str(r[0]) for r in found}

    def release_leases(self, owner: str) -> int:
        """Free every lease ``owner`` holds (a worker known to be dead); returns how many.

        The attempts it had started stay counted.
        """
        def run(tx: _Tx) -> int:
            found = tx.conn.execute(
                "WITH w AS (UPDATE workflow_tasks SET lease_owner = NULL, lease_expires_at = "
                "NULL WHERE lease_owner = %(o)s RETURNING task_queue), a AS (UPDATE "
                "activity_tasks SET lease_owner = NULL, lease_expires_at = NULL WHERE "
                "lease_owner = %(o)s RETURNING task_queue) SELECT task_queue FROM w "
                "UNION ALL SELECT task_queue FROM a", {"o": owner}).fetchall()
            tx.queues |= {r[0] for r in found}
            return len(found)
        return self._write(run)

    def beat_worker(self, identity: str, grace: timedelta) -> None:
        """Record that ``identity`` is alive (by the server's clock) for ``grace`` more."""
        self._query("INSERT INTO workers (identity, started_at, last_beat, grace) VALUES "
                    "(%(i)s, clock_timestamp(), clock_timestamp(), %(g)s) ON CONFLICT "
                    "(identity) DO UPDATE SET last_beat = clock_timestamp(), grace = %(g)s "
                    "RETURNING 1", {"i": identity, "g": grace})

    def retire_worker(self, identity: str) -> None:
        """Forget a worker (it shut down, or it was found dead and its leases freed)."""
        self._query("DELETE FROM workers WHERE identity = %s RETURNING 1", (identity,))

    def dead_workers(self) -> set[str]:
        """Workers whose last heartbeat is older than their grace."""
        found = self._query("SELECT identity FROM workers "
                            "WHERE last_beat + grace < clock_timestamp()")
        return {str(r[0]) for r in found}

    # --- update requests ----------------------------------------------------------------------

    def request_update(self, run_id: str, update_id: str, name: str, args: list[JsonValue],
                       now: datetime) -> UpdateRequest:
        """Record a client's update; returns the existing request if ``update_id`` is known."""
        def run(tx: _Tx) -> UpdateRequest:
            lookup = rows.PgLookup(tx.conn)
            request, changes = plan_request_update(lookup, run_id, update_id, name, args, now)
            if changes:
                tx.queues |= rows.apply_changes(tx.conn, changes)
                tx.runs.add(run_id)
            return request
        return self._write(run)

    def pending_updates(self, run_id: str) -> list[UpdateRequest]:
        """The run's updates waiting for a worker, oldest first."""
        found = self._query(
            f"SELECT {rows.UPDATE_COLUMNS} FROM update_requests WHERE run_id = %s "
            "AND status = 'requested' ORDER BY requested_at, seq", (run_id,))
        return [rows.update_from_row(r) for r in found]

    def get_update(self, run_id: str, update_id: str) -> UpdateRequest | None:
        """One update request in whatever status it reached, or None."""
        found = self._query(f"SELECT {rows.UPDATE_COLUMNS} FROM update_requests "
                            "WHERE run_id = %s AND update_id = %s", (run_id, update_id))
        return rows.update_from_row(found[0]) if found else None

    def reject_update(self, run_id: str, update_id: str, failure: Failure) -> None:
        """Mark a requested update rejected by its validator (nothing enters the history)."""
        def run(tx: _Tx) -> None:
            changes = plan_reject_update(rows.PgLookup(tx.conn), run_id, update_id, failure)
            if changes:
                rows.apply_changes(tx.conn, changes)
                tx.runs.add(run_id)
        self._write(run)

    # --- maintenance --------------------------------------------------------------------------

    def rebuild_indexes(self) -> None:
        """Recompute every index from the events (update requests and leases are kept)."""
        self._write(lambda tx: admin.rebuild_indexes(tx.conn))
        self._wake_everyone()

    def _wake_everyone(self) -> None:
        """Wake every waiter of this store, here and in every listening process."""
        self._query("SELECT pg_notify(%s, %s)",
                    (self.target.channel, payload(self._origin, everything=True)))
        self._notifier.notify(None)

    def dump_indexes(self) -> dict[str, list[Any]]:
        """Every derived row, in key order: a diagnostic to compare stores and rebuilds."""
        self._check_open()
        try:
            with self._pool.connection() as conn, conn.transaction():
                return admin.dump_indexes(conn)
        except pg.DB_ERRORS as exc:
            raise self._error(exc, "a query failed") from exc

    def close(self) -> None:
        """Close this object's connections and its listener (other objects are unaffected)."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._listener.stop()
        # wake the listener now, so that it ends at once
        with contextlib.suppress(*pg.DB_ERRORS), self._pool.connection() as conn:
            conn.execute("SELECT pg_notify(%s, %s)", (self.target.channel, "{}"))
        self._pool.close()
        self._listener.join(1.0)
        self._notifier.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
