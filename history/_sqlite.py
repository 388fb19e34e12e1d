"""SqliteStore: the default, embedded store (one SQLite file in WAL mode)."""

from __future__ import annotations

import contextlib
import enum
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

from . import _sqlite_rows as rows
from ._batch import RUNNING
from ._commit_plan import CommitPlanner, HeadCache
from ._derive import plan_reject_update, plan_request_update
from ._errors import ReplayError, RunNotFoundError
from ._events import Event, Failure, JsonValue
from ._history import History
from ._notify import ClosingNotifying, acquire_notifier, closed_scope, release_notifier
from ._query_channel import DelegatedQueryChannel
from ._registry import (
    ACTIVITY,
    WORKFLOW,
    ActivityRegistration,
    HandlerSignature,
    WorkflowRegistration,
    WorkflowSignature,
)
from ._search_index import known_types, where_clause
from ._search_sql import SQLITE
from ._sql_registry import (
    SQLITE_UPSERT,
    from_rows,
    select,
    sqlite_read_time,
    sqlite_time,
    upsert_rows,
)
from ._sqlite_faults import store_fault
from ._sqlite_queries import SqliteQueryChannel
from ._sqlite_rebuild import dump_indexes, rebuild_indexes
from ._sqlite_retention import prune_run
from ._sqlite_schema import connect, open_database, store_error
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

T = TypeVar("T")

CALM_COMMITS = 32
"""How many transactions in a row must see no other connection's commit before a write
trusts the kept run heads and checks the data version after planning, not before."""


_UPDATES_PENDING = ("EXISTS (SELECT 1 FROM update_requests AS u WHERE u.run_id = "
                    "workflow_tasks.run_id AND u.status = 'requested')")
"""Does a leased workflow task's run have a requested update? (A RETURNING column.)"""


class _Stale(enum.Enum):
    STALE = enum.auto()


_STALE = _Stale.STALE


class _Shared:
    """Reads hold it together (``with guard.shared():``); close() alone, once none is
    under way (``with guard.exclusive():``). A read pays one plain lock, twice."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._closing = False

    def shared(self) -> _Shared:
        return self

    def __enter__(self) -> None:
        with self._cond:
            self._readers += 1

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._readers -= 1
            if self._closing and not self._readers:
                self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._closing = True
            self._cond.wait_for(lambda: not self._readers)
            yield


class SqliteStore(DelegatedQueryChannel, ClosingNotifying):
    """A :class:`~history.Store` in one SQLite file, shared safely by threads and processes.

    The file is created with mode 0600 and put in WAL mode; every write runs in
    ``BEGIN IMMEDIATE`` and waits up to ``busy_timeout_ms`` for other writers.
    ``synchronous`` (``"FULL"`` by default) trades durability on power loss for
    speed (``"NORMAL"`` may lose the last commits, never corrupts). Opening a
    file that is not a replay store, or one from a newer replay, raises
    StoreError and changes nothing. A passing fault (the lock held past the
    busy timeout, a full disk, an I/O error) raises StoreUnavailableError and
    writes nothing; a damaged file raises StoreCorruptError.
    """

    _reads_block = True  # a read can wait on a lock: tail() reads in a thread

    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "FULL",
                 busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path).resolve()
        self._synchronous = synchronous.upper()
        self._busy_timeout_ms = busy_timeout_ms
        writer = open_database(self.path, synchronous=self._synchronous,
                               busy_timeout_ms=busy_timeout_ms)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._closed = False
        # Every write of this object goes through one connection, one thread at a time.
        # Its data_version changes only when another connection commits, which is how a
        # commit (and the notifier's poll) tells another process's commits from ours.
        self._writer = writer
        self._write_lock = threading.Lock()
        # Held by each read while it runs and by close() (shared: reads overlap freely)
        self._reading = _Shared()
        self._heads = HeadCache()
        self._calm = 0  # transactions in a row that saw no other connection's commit
        self._probe: rows.VersionProbe | None = None  # the current write's, if it wants one
        try:
            self._seen_version = self._data_version(writer)
            self._notifier = acquire_notifier(self.path, self._others_committed)
        except sqlite3.Error as exc:
            writer.close()
            raise store_fault(self.path, exc, "cannot open the store") from exc
        self._queries = SqliteQueryChannel(self._write_keeping_heads, self._query)

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    # --- connections and transactions ---------------------------------------------------------

    @staticmethod
    def _data_version(conn: sqlite3.Connection) -> int:
        return int(conn.execute("PRAGMA data_version").fetchone()[0])

    def _see_others(self, conn: sqlite3.Connection, version: int | None = None) -> bool:
        """Did another connection commit since the writer last looked? (Caller holds the
        write lock.) If so, the cached run heads are forgotten. ``version``: the
        connection's data_version if a statement already read it."""
        if version is None:
            version = self._data_version(conn)
        if version == self._seen_version:
            self._calm += 1
            return False
        self._seen_version = version
        self._heads.clear()
        self._calm = 0
        return True

    def _carried(self, found: Sequence[Sequence[Any]]) -> None:
        """The data version returned (last column) by rows a statement of the current
        write changed, for the check after it."""
        if found and self._probe is not None:
            self._probe.value = int(found[0][-1])

    def _others_committed(self) -> bool:
        """The notifier's poll: True if another connection (another process, or another
        store object of this one) committed since the last look."""
        if not self._write_lock.acquire(blocking=False):
            return False  # a write is under way: it looks itself, inside its transaction
        try:
            return not self._closed and self._see_others(self._writer)
        finally:
            self._write_lock.release()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or self._closed:
            with self._lock:
                if self._closed:
                    raise store_error(self.path, "the store is closed")
                try:
                    conn = connect(self.path, synchronous=self._synchronous,
                                   busy_timeout_ms=self._busy_timeout_ms)
                except sqlite3.Error as exc:
                    raise store_fault(self.path, exc, "cannot open a connection") from exc
                self._conns.append(conn)
            self._local.conn = conn
        return conn

    def _write(self, fn: Callable[[sqlite3.Connection], T],
               runs: AbstractSet[str] | None = frozenset(), *,
               keeps_heads: bool = False, plans: bool = False) -> T:
        """Run ``fn`` in one write transaction on the writer connection, commit, and wake
        the waiters of ``runs`` (None: every waiter).

        Unless ``keeps_heads`` (``fn`` writes nothing a run head shows), the cached run
        heads are forgotten: only the commit planner keeps them current. Every
        transaction reads the connection's data_version, to tell whether another
        connection committed since (then the kept heads are forgotten and every waiter
        is woken). ``plans``: ``fn`` plans with the kept heads. While no other
        connection has been seen committing for a while, it trusts them and the
        version is read after ``fn``, by a statement that ``fn`` runs anyway when it
        can (:class:`~history._sqlite_rows.VersionProbe`); if another connection did
        commit, the transaction is rolled back and planned again from the file.
        Otherwise the version is read first, before ``fn`` looks at a kept head.
        """
        foreign = [False]
        try:
            with self._write_lock:
                if self._closed:
                    raise store_error(self.path, "the store is closed")
                conn = self._writer
                try:
                    before = conn.total_changes
                    trusting = plans and self._calm >= CALM_COMMITS and bool(self._heads)
                    result = self._transaction(conn, fn, keeps_heads, plans, trusting, foreign)
                    if result is _STALE:  # planned on heads another connection changed
                        result = self._transaction(conn, fn, keeps_heads, plans, False,
                                                   foreign)
                except sqlite3.Error as exc:
                    self._heads.clear()
                    self._renew_if_stuck(conn)
                    raise store_fault(self.path, exc) from exc
                changed = conn.total_changes != before
        finally:
            if foreign[0]:  # seen here only: wake everyone, even if this write failed
                self._notifier.notify(None)
        if changed:  # counted apart from another's: a write alone moves the token by one
            self._notifier.notify(runs)
        return cast(T, result)

    def _transaction(self, conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T],
                     keeps_heads: bool, plans: bool, trusting: bool,
                     foreign: list[bool]) -> T | _Stale:
        """One attempt of :meth:`_write`; _STALE if ``trusting`` and the kept heads it
        planned with turn out stale (rolled back: nothing of it was written)."""
        conn.execute("BEGIN IMMEDIATE")
        probe = rows.VersionProbe() if not plans or trusting else None
        self._probe = probe
        try:
            if probe is None and self._see_others(conn):
                foreign[0] = True
            if not keeps_heads:
                self._heads.clear()
            try:
                result = fn(conn)
            except Exception:
                # the failure may come from a stale kept head (say, an event id another
                # process took): if so, plan again; a failing check changes nothing
                with contextlib.suppress(sqlite3.Error):
                    if probe is not None and self._seen_after(conn, probe, foreign) \
                            and trusting:
                        conn.execute("ROLLBACK")
                        return _STALE
                raise
            if probe is not None and self._seen_after(conn, probe, foreign) and trusting:
                conn.execute("ROLLBACK")
                return _STALE
            conn.execute("COMMIT")
            return result
        except BaseException:
            self._heads.clear()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            self._probe = None

    def _seen_after(self, conn: sqlite3.Connection, probe: rows.VersionProbe,
                    foreign: list[bool]) -> bool:
        """The version check made after ``fn`` (carried by a statement, or read now): did
        another connection commit since the writer last looked? If so the kept heads
        are forgotten."""
        if foreign[0]:
            return False  # looked already (a first attempt saw it)
        foreign[0] = self._see_others(conn, probe.value)
        return foreign[0]

    def _write_keeping_heads(self, fn: Callable[[sqlite3.Connection], T],
                             runs: AbstractSet[str] | None = frozenset()) -> T:
        return self._write(fn, runs, keeps_heads=True)

    def _renew_if_stuck(self, conn: sqlite3.Connection) -> None:
        """Replace the writer if a failed rollback left it in a transaction (a full disk
        or an I/O error can); the next write then takes every commit for another's."""
        try:
            stuck = conn.in_transaction
        except sqlite3.ProgrammingError:  # closed: renewing it failed before
            stuck = True
        if not stuck:
            return
        with contextlib.suppress(sqlite3.Error):
            conn.close()
        self._seen_version = -1
        with contextlib.suppress(sqlite3.Error):  # else the next write tries again
            self._writer = connect(self.path, synchronous=self._synchronous,
                                   busy_timeout_ms=self._busy_timeout_ms)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            conn = self._conn()
            # close() takes this lock before it closes the connection: closing one that
            # another thread is reading from would crash the interpreter
            with self._reading.shared():
                return conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise store_fault(self.path, exc) from exc

    # --- events -------------------------------------------------------------------------------

    def commit(self, ops: Sequence[Operation]) -> list[Event]:
        """Apply all operations in one transaction, or none; returns the events written."""
        runs = {op.run_id for op in ops}

        def run(conn: sqlite3.Connection) -> list[Event]:
            planner = self._planner(conn)
            written = planner.plan_batch(ops)
            runs.update(closed_scope(r) for r in planner.closed)
            return written
        return self._write(run, runs, keeps_heads=True, plans=True)

    def _planner(self, conn: sqlite3.Connection) -> CommitPlanner:
        # The cached heads are exact here: _write forgot them if another connection
        # committed since this one last did, and the planner keeps them current.
        probe = self._probe
        return CommitPlanner(rows.SqlLookup(conn),
                             lambda changes: rows.apply_changes(conn, changes, probe),
                             heads=self._heads)

    def commit_each(self, batches: Sequence[Sequence[Operation]]
                    ) -> list[list[Event] | ReplayError]:
        """Apply each batch atomically on its own (a savepoint each), in one transaction.

        One fsync for all of them: this is the worker's group commit. A batch that
        fails is rolled back to its savepoint and its error takes its place.
        """
        if len(batches) == 1:  # no savepoint needed: the transaction is the batch
            try:
                return [self.commit(batches[0])]
            except ReplayError as exc:
                return [exc]

        runs = {op.run_id for ops in batches for op in ops}

        def run(conn: sqlite3.Connection) -> list[list[Event] | ReplayError]:
            planner = self._planner(conn)
            results: list[list[Event] | ReplayError] = []
            for ops in batches:
                conn.execute("SAVEPOINT batch")
                try:
                    results.append(planner.plan_batch(ops))
                except ReplayError as exc:
                    conn.execute("ROLLBACK TO batch")
                    results.append(exc)
                conn.execute("RELEASE batch")
            runs.update(closed_scope(r) for r in planner.closed)
            return results
        return self._write(run, runs, keeps_heads=True, plans=True)

    def append(self, run_id: str, events: Sequence[Event], expected_last_event_id: int) -> None:
        """Conditional append; AppendConflictError if the run is not at the expected id."""
        self.commit([Append(run_id, events, expected_last_event_id)])

    def read(self, run_id: str, after_event_id: int = 0) -> list[Event]:
        """Events of the run with id > ``after_event_id``; RunNotFoundError if no such run."""
        found = self._query("SELECT data FROM events WHERE run_id = ? AND event_id > ? "
                            "ORDER BY event_id", (run_id, after_event_id))
        if not found and not self._query("SELECT 1 FROM events WHERE run_id = ? LIMIT 1",
                                         (run_id,)):
            raise RunNotFoundError(run_id)
        return [rows.decode_event(r[0]) for r in found]

    def history(self, run_id: str) -> History:
        """The run's whole history."""
        return History(run_id, self.read(run_id))

    def last_event_id(self, run_id: str) -> int:
        """The id of the run's newest event; 0 if the run does not exist."""
        found = self._query("SELECT max(event_id) FROM events WHERE run_id = ?", (run_id,))
        return int(found[0][0] or 0)

    def run_is_open(self, run_id: str) -> bool:
        """True while the run exists and has not ended."""
        info = self.get_run(run_id)
        return info is not None and info.status == RUNNING

    # --- runs index ---------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunInfo | None:
        """The runs-index row of a run, or None."""
        found = self._query(f"SELECT {rows.RUN_SELECT} FROM runs WHERE run_id = ?", (run_id,))
        return rows.run_from_row(found[0]) if found else None

    def latest_run(self, workflow_id: str) -> RunInfo | None:
        """The most recently started run of a workflow id, or None."""
        return next(iter(self.list_runs(workflow_id=workflow_id, limit=1)), None)

    @staticmethod
    def _filters(**given: str | None) -> tuple[str, list[Any]]:
        used = {k: v for k, v in given.items() if v is not None}
        where = " AND ".join(f"{k} = ?" for k in used) or "1"
        return where, list(used.values())

    def list_runs(self, *, status: str | None = None, workflow_type: str | None = None,
                  workflow_id: str | None = None, limit: int | None = None,
                  task_failing: bool | None = None) -> list[RunInfo]:
        """Runs matching every given filter, most recently started first (``task_failing``:
        only runs whose workflow task is, or is not, failing)."""
        where, params = self._filters(status=status, workflow_type=workflow_type,
                                      workflow_id=workflow_id)
        if task_failing is not None:
            where += " AND task_attempt > 0" if task_failing else " AND task_attempt = 0"
        found = self._query(f"SELECT {rows.RUN_SELECT} FROM runs WHERE {where} "
                            "ORDER BY seq DESC LIMIT ?", [*params, -1 if limit is None else limit])
        return [rows.run_from_row(r) for r in found]

    def count_runs(self, *, status: str | None = None, workflow_type: str | None = None) -> int:
        """How many runs match the filters."""
        where, params = self._filters(status=status, workflow_type=workflow_type)
        return int(self._query(f"SELECT count(*) FROM runs WHERE {where}", params)[0][0])

    def search_attribute_types(self) -> dict[str, set[str]]:
        """Custom search attribute name -> the types runs of this store gave it."""
        try:
            return known_types(self._conn())
        except sqlite3.Error as exc:
            raise store_fault(self.path, exc) from exc

    def _where(self, query: str) -> tuple[str, list[Any]]:
        try:
            return where_clause(self._conn(), query, SQLITE)
        except sqlite3.Error as exc:
            raise store_fault(self.path, exc) from exc

    def query_runs(self, query: str, *, limit: int | None = None) -> list[RunInfo]:
        """Runs matching the list query ``query``, most recently started first
        (ListQueryError if it is malformed or names an unknown attribute)."""
        where, params = self._where(query)
        found = self._query(f"SELECT {rows.RUN_SELECT} FROM runs WHERE {where} "
                            "ORDER BY seq DESC LIMIT ?", [*params, -1 if limit is None else limit])
        return [rows.run_from_row(r) for r in found]

    def count_query(self, query: str) -> int:
        """How many runs the list query ``query`` matches."""
        where, params = self._where(query)
        return int(self._query(f"SELECT count(*) FROM runs WHERE {where}", params)[0][0])

    # --- workflow tasks -----------------------------------------------------------------------

    def lease_workflow_task(self, task_queue: str, owner: str, now: datetime,
                            lease_for: timedelta) -> WorkflowTask | None:
        """Lease the oldest free workflow task of the queue (free: unleased or expired)."""
        return next(iter(self.lease_workflow_tasks(task_queue, owner, now, lease_for, 1)), None)

    def lease_workflow_tasks(self, task_queue: str, owner: str, now: datetime,
                             lease_for: timedelta, limit: int) -> list[WorkflowTask]:
        """Lease up to ``limit`` free workflow tasks of the queue, oldest first, at once."""
        expires = now + lease_for
        if not self._query(  # a read first: an idle poll takes no write lock
                "SELECT 1 FROM workflow_tasks WHERE task_queue = ? AND (lease_expires_at IS "
                "NULL OR lease_expires_at <= ?) LIMIT 1", (task_queue, rows.to_us(now))):
            return []

        def run(conn: sqlite3.Connection) -> list[WorkflowTask]:
            found = conn.execute(
                "UPDATE workflow_tasks SET lease_owner = ?1, lease_expires_at = ?2 "
                "WHERE seq IN (SELECT seq FROM workflow_tasks WHERE task_queue = ?3 AND "
                "(lease_expires_at IS NULL OR lease_expires_at <= ?4) ORDER BY seq LIMIT ?5) "
                f"RETURNING seq, run_id, {_UPDATES_PENDING}, {rows.VERSION}",
                (owner, rows.to_us(expires), task_queue, rows.to_us(now), limit)).fetchall()
            self._carried(found)
            return [WorkflowTask(run_id=r[1], task_queue=task_queue, lease_owner=owner,
                                 lease_expires_at=expires, updates_pending=bool(r[2]))
                    for r in sorted(found)]
        return self._write(run, keeps_heads=True)

    def release_workflow_task(self, run_id: str, owner: str) -> None:
        """Give a leased workflow task back (if ``owner`` holds it); it stays pending."""
        self._write(lambda conn: conn.execute(
            "UPDATE workflow_tasks SET lease_owner = NULL, lease_expires_at = NULL "
            "WHERE run_id = ? AND lease_owner = ?", (run_id, owner)), keeps_heads=True)

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
        if not self._query(  # a read first: an idle poll takes no write lock
                "SELECT 1 FROM activity_tasks WHERE task_queue = ?1 AND available_at <= ?2 AND "
                "(lease_expires_at IS NULL OR lease_expires_at <= ?2) LIMIT 1",
                (task_queue, rows.to_us(now))):
            return []

        def run(conn: sqlite3.Connection) -> list[ActivityTask]:
            found = conn.execute(
                "UPDATE activity_tasks SET attempt = attempt + 1, lease_owner = ?3, "
                f"lease_expires_at = {rows.LEASE_EXPIRY_SQL} WHERE rowid IN (SELECT rowid "
                "FROM activity_tasks WHERE task_queue = ?1 AND available_at <= ?4 AND "
                "(lease_expires_at IS NULL OR lease_expires_at <= ?4) ORDER BY available_at, "
                f"run_id, scheduled_event_id LIMIT ?2) RETURNING {rows.ACTIVITY_COLUMNS}, "
                f"{rows.VERSION}",
                (task_queue, limit, owner, rows.to_us(now), lease_for // rows.MICRO)
            ).fetchall()
            self._carried(found)
            leased = [rows.activity_from_row(r) for r in found]
            leased.sort(key=lambda r: (r.available_at, r.run_id, r.scheduled_event_id))
            return [r.to_task() for r in leased]
        return self._write(run, keeps_heads=True)

    def _update_activity(self, sets: str, run_id: str, scheduled_event_id: int, owner: str,
                         params: Sequence[Any] = ()) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                f"UPDATE activity_tasks SET {sets} WHERE run_id = ? AND scheduled_event_id = ? "
                "AND lease_owner = ?", (*params, run_id, scheduled_event_id, owner))
            return cur.rowcount == 1
        return self._write(run, keeps_heads=True)

    def heartbeat_activity(self, run_id: str, scheduled_event_id: int, owner: str,
                           details: list[JsonValue], now: datetime, lease_for: timedelta) -> bool:
        """Record progress and extend the lease; False if ``owner`` no longer holds the task."""
        return self._update_activity(
            "heartbeat_details = ?, last_heartbeat_at = ?, lease_expires_at = ?", run_id,
            scheduled_event_id, owner,
            (rows.dumps(details), rows.to_us(now), rows.to_us(now + lease_for)))

    def hand_over_activity(self, run_id: str, scheduled_event_id: int, owner: str,
                           new_owner: str, lease_until: datetime) -> bool:
        """Move ``owner``'s lease of the task to ``new_owner`` until ``lease_until``."""
        return self._update_activity("lease_owner = ?, lease_expires_at = ?", run_id,
                                     scheduled_event_id, owner,
                                     (new_owner, rows.to_us(lease_until)))

    def retry_activity(self, run_id: str, scheduled_event_id: int, owner: str,
                       available_at: datetime, failure: Failure | None = None) -> None:
        """An attempt failed (``failure``): unlease it until ``available_at``."""
        self._update_activity(
            "lease_owner = NULL, lease_expires_at = NULL, available_at = ?, last_failure = ?",
            run_id, scheduled_event_id, owner,
            (rows.to_us(available_at), rows.failure_json(failure)))

    def pending_activities(self, run_id: str) -> list[PendingActivity]:
        """The run's open activities, in the order they were scheduled."""
        found = self._query(f"SELECT {rows.ACTIVITY_COLUMNS} FROM activity_tasks "
                            "WHERE run_id = ? ORDER BY scheduled_event_id", (run_id,))
        return [rows.activity_from_row(r).to_pending() for r in found]

    def release_activity_task(self, run_id: str, scheduled_event_id: int, owner: str) -> None:
        """Give a leased activity task back unrun (its attempt is not counted)."""
        self._update_activity(
            "lease_owner = NULL, lease_expires_at = NULL, attempt = max(attempt - 1, 0)",
            run_id, scheduled_event_id, owner)

    def get_activity_task(self, run_id: str, scheduled_event_id: int) -> ActivityTask | None:
        """The activity task if it is open and leased (to see ``cancel_requested``)."""
        found = self._query(
            f"SELECT {rows.ACTIVITY_COLUMNS} FROM activity_tasks WHERE run_id = ? "
            "AND scheduled_event_id = ? AND lease_owner IS NOT NULL",
            (run_id, scheduled_event_id))
        return rows.activity_from_row(found[0]).to_task() if found else None

    def cancel_requested_activities(self, owner: str) -> list[tuple[str, int]]:
        """(run id, scheduled event id) of activities leased by ``owner`` asked to cancel."""
        found = self._query("SELECT run_id, scheduled_event_id FROM activity_tasks "
                            "WHERE lease_owner = ? AND cancel_requested = 1", (owner,))
        return [(str(r[0]), int(r[1])) for r in found]

    # --- timers -------------------------------------------------------------------------------

    def due_timers(self, now: datetime, limit: int = 100) -> list[DueTimer]:
        """Open timers with ``fire_at <= now``, soonest first."""
        found = self._query(
            f"SELECT {rows.TIMER_COLUMNS} FROM timers WHERE fire_at <= ? "
            "ORDER BY fire_at, run_id, started_event_id LIMIT ?", (rows.to_us(now), limit))
        return [rows.timer_from_row(r) for r in found]

    def next_timer_at(self) -> datetime | None:
        """When the soonest open timer, open run's deadline or failing workflow task's
        retry falls due, or None."""
        found = self._query("SELECT min(t) FROM (SELECT min(fire_at) AS t FROM timers UNION "
                            "ALL SELECT min(deadline) FROM runs WHERE status = 'running' "
                            "UNION ALL SELECT min(task_retry_at) FROM runs "
                            "WHERE task_attempt > 0)")
        return rows.opt_from_us(found[0][0])

    def expired_runs(self, now: datetime, limit: int = 100) -> list[RunInfo]:
        """Open runs whose execution or run timeout has passed, earliest first."""
        found = self._query(f"SELECT {rows.RUN_SELECT} FROM runs WHERE status = 'running' "
                            "AND deadline <= ? ORDER BY deadline LIMIT ?",
                            (rows.to_us(now), limit))
        return [rows.run_from_row(r) for r in found]

    # --- leases of dead workers ---------------------------------------------------------------

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
        def run(conn: sqlite3.Connection) -> int:
            a = conn.execute("UPDATE workflow_tasks SET lease_owner = NULL, lease_expires_at = "
                             "NULL WHERE lease_owner = ?", (owner,)).rowcount
            b = conn.execute("UPDATE activity_tasks SET lease_owner = NULL, lease_expires_at = "
                             "NULL WHERE lease_owner = ?", (owner,)).rowcount
            return int(a + b)
        return self._write(run, keeps_heads=True)

    # --- update requests ----------------------------------------------------------------------

    def request_update(self, run_id: str, update_id: str, name: str, args: list[JsonValue],
                       now: datetime, headers: Mapping[str, JsonValue] | None = None
                       ) -> UpdateRequest:
        """Record a client's update; returns the existing request if ``update_id`` is known."""
        def run(conn: sqlite3.Connection) -> UpdateRequest:
            request, changes = plan_request_update(rows.SqlLookup(conn), run_id, update_id,
                                                   name, args, now, headers)
            rows.apply_changes(conn, changes)
            return request
        return self._write(run, {run_id})

    def pending_updates(self, run_id: str) -> list[UpdateRequest]:
        """The run's updates waiting for a worker, oldest first."""
        found = self._query(
            f"SELECT {rows.UPDATE_COLUMNS} FROM update_requests WHERE run_id = ? "
            "AND status = 'requested' ORDER BY requested_at, seq", (run_id,))
        return [rows.update_from_row(r) for r in found]

    def get_update(self, run_id: str, update_id: str) -> UpdateRequest | None:
        """One update request in whatever status it reached, or None."""
        found = self._query(f"SELECT {rows.UPDATE_COLUMNS} FROM update_requests "
                            "WHERE run_id = ? AND update_id = ?", (run_id, update_id))
        return rows.update_from_row(found[0]) if found else None

    def reject_update(self, run_id: str, update_id: str, failure: Failure) -> None:
        """Mark a requested update rejected by its validator (nothing enters the history)."""
        self._write(lambda conn: rows.apply_changes(
            conn, plan_reject_update(rows.SqlLookup(conn), run_id, update_id, failure)),
            {run_id})

    # --- the registry of what workers host ------------------------------------------------------

    def register_worker(self, task_queue: str, worker: str, registered_at: datetime,
                        workflows: Sequence[WorkflowSignature],
                        activities: Sequence[HandlerSignature]) -> None:
        """Record what ``worker`` hosts on ``task_queue`` (newest registration wins)."""
        params = upsert_rows(task_queue, worker, registered_at, workflows, activities,
                             sqlite_time)
        self._write(lambda conn: conn.executemany(SQLITE_UPSERT, params), keeps_heads=True)

    def registered_workflows(self, task_queue: str | None = None
                             ) -> list[WorkflowRegistration]:
        """The workflow types registered on ``task_queue`` (every queue if None)."""
        found = from_rows(self._query(*select(WORKFLOW, task_queue, "?")), sqlite_read_time)
        return [r for r in found if isinstance(r, WorkflowRegistration)]

    def registered_activities(self, task_queue: str | None = None
                              ) -> list[ActivityRegistration]:
        """The activities registered on ``task_queue`` (every queue if None)."""
        found = from_rows(self._query(*select(ACTIVITY, task_queue, "?")), sqlite_read_time)
        return [r for r in found if isinstance(r, ActivityRegistration)]

    # --- maintenance --------------------------------------------------------------------------

    def rebuild_indexes(self) -> None:
        """Recompute every index from the events (update requests and leases are kept)."""
        self._write(rebuild_indexes, None)

    def prune_run(self, run_id: str, exported_to: str | None = None) -> int:
        """Remove a closed run's events and index rows (retention), auditing it in
        ``pruned_runs``; returns how many events it had (0: no such run).

        The one path the append-only triggers let delete. RunNotPrunableError for a
        running run (nothing is removed).
        """
        return self._write(lambda conn: prune_run(conn, run_id, exported_to), {run_id})

    def dump_indexes(self) -> dict[str, list[Any]]:
        """Every derived row, in key order: a diagnostic to compare stores and rebuilds."""
        try:
            return dump_indexes(self._conn())
        except sqlite3.Error as exc:
            raise store_fault(self.path, exc) from exc

    def close(self) -> None:
        """Close every connection of this store object (other objects are unaffected)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            conns, self._conns = self._conns, []
        release_notifier(self.path, self._others_committed)
        with self._write_lock:
            self._heads.clear()
            conns.append(self._writer)
        with self._reading.exclusive():  # no read of another thread is under way
            for conn in conns:
                conn.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

