"""PostgresStore: the store for workers on many hosts (PostgreSQL, psycopg 3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from . import _postgres_admin as admin
from . import _postgres_conn as pg
from . import _postgres_rows as rows
from . import _postgres_sql as sql
from ._batch import RUNNING
from ._derive import plan_reject_update, plan_request_update
from ._errors import ReplayError, RunNotFoundError
from ._events import Event, Failure, JsonValue
from ._history import History
from ._notify import ClosingNotifying
from ._postgres_changes import apply_changes
from ._postgres_db import Database, Tx
from ._postgres_listen import PolledQueues, queue_scope
from ._postgres_queries import PostgresQueryChannel
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
from ._search_sql import POSTGRES
from ._sql_registry import POSTGRES_UPSERT, from_rows, select, upsert_rows
from ._sqlite_retention import RunNotPrunableError
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


class PostgresStore(DelegatedQueryChannel, ClosingNotifying):
    """A :class:`~history.Store` in a PostgreSQL schema, shared by workers on many hosts.

    ``url`` is a libpq URL (``postgresql://user:password@host:5432/db``); its
    ``?schema=`` (default ``replay``), ``?pool_size=`` (default 8),
    ``?checked=on|off`` (default on) and ``?pipeline=on|off`` (default off)
    parameters, or the keyword arguments, choose the PostgreSQL schema holding
    the store, the connections this object keeps, whether a commit of runs whose
    heads this object knows from its own commits is sent as one statement that
    the server checks (off: every commit reads the heads under row locks first)
    and whether commits planned under locks use psycopg's pipeline mode (fewer
    round trips, more client CPU: for a database across a network). The schema is
    created on first use and checked (and upgraded) on every open. Conditional
    appends lock the run's head row; leases use ``FOR UPDATE SKIP LOCKED``;
    commits wake waiters in every process through ``LISTEN/NOTIFY``. Needs the
    ``postgres`` extra (StoreError naming it otherwise); methods block the
    calling thread for a round trip or a few.
    """

    def __init__(self, url: str, *, schema: str | None = None, pool_size: int | None = None,
                 connect_timeout: float = 10.0, pipeline: bool | None = None,
                 checked: bool | None = None) -> None:
        self.target = pg.parse_target(url, schema=schema, pool_size=pool_size,
                                      pipeline=pipeline, checked=checked)
        pg.require_driver(self.target)
        self.schema = self.target.schema
        self._db = Database(self.target, connect_timeout)
        self._notifier = self._db.notifier
        self._queries = PostgresQueryChannel(self._db)
        self._polled = PolledQueues()

    _reads_block = True  # a read waits on the network: tail() reads in a thread

    def __repr__(self) -> str:
        return f"PostgresStore({self.target.shown!r}, schema={self.schema!r})"

    # --- events -------------------------------------------------------------------------------

    def commit(self, ops: Sequence[Operation]) -> list[Event]:
        """Apply all operations in one transaction, or none; returns the events written."""
        return self._db.commit(ops)

    def commit_each(self, batches: Sequence[Sequence[Operation]]
                    ) -> list[list[Event] | ReplayError]:
        """Apply each batch atomically on its own (a savepoint each), in one transaction.

        One commit for all of them: the worker's group commit. A batch that fails
        is rolled back to its savepoint and its error takes its place.
        """
        return self._db.commit_each(batches)

    def append(self, run_id: str, events: Sequence[Event], expected_last_event_id: int) -> None:
        """Conditional append; AppendConflictError if the run is not at the expected id."""
        self.commit([Append(run_id, events, expected_last_event_id)])

    def read(self, run_id: str, after_event_id: int = 0) -> list[Event]:
        """Events of the run with id > ``after_event_id``; RunNotFoundError if no such run."""
        found = self._db.query(sql.READ, (run_id, after_event_id))
        if not found and not self._db.query(sql.RUN_EXISTS, (run_id,)):
            raise RunNotFoundError(run_id)
        return [decode_event(r[0]) for r in found]

    def history(self, run_id: str) -> History:
        """The run's whole history."""
        return History(run_id, self.read(run_id))

    def last_event_id(self, run_id: str) -> int:
        """The id of the run's newest event; 0 if the run does not exist."""
        found = self._db.query(sql.LAST_EVENT_ID, (run_id,))
        return int(found[0][0] or 0)

    def run_is_open(self, run_id: str) -> bool:
        """True while the run exists and has not ended."""
        info = self.get_run(run_id)
        return info is not None and info.status == RUNNING

    async def wait_changed(self, timeout: float, since: int | None = None,
                           run_id: str | None = None, task_queue: str | None = None) -> bool:
        """True when a commit concerning ``run_id`` (or giving ``task_queue`` work) lands in
        any process, False after ``timeout``.

        With neither, on a store object through which workers lease tasks: a commit
        that gives one of their task queues work (new tasks, released leases,
        queries, update requests, cancellations of their activities), or one whose
        scope is unknown; so a worker sleeps through other queues' steps on every
        host. With neither on a store object no worker polls: any commit.
        """
        scope: str | frozenset[str] | None = run_id if run_id is not None else (
            queue_scope(task_queue) if task_queue is not None else self._polled.scope())
        return await self._notifier.wait(timeout, since, scope)

    # --- runs index ---------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunInfo | None:
        """The runs-index row of a run, or None."""
        found = self._db.query(sql.GET_RUN, (run_id,))
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
        found = self._db.query(f"SELECT {rows.RUN_COLUMNS} FROM runs WHERE {where} "
                            "ORDER BY seq DESC LIMIT %s", [*params, limit])
        return [rows.run_from_row(r) for r in found]

    def count_runs(self, *, status: str | None = None, workflow_type: str | None = None) -> int:
        """How many runs match the filters."""
        where, params = self._filters(status=status, workflow_type=workflow_type)
        return int(self._db.query(f"SELECT count(*) FROM runs WHERE {where}", params)[0][0])

    def search_attribute_types(self) -> dict[str, set[str]]:
        """Custom search attribute name -> the types runs of this store gave it."""
        return self._db.read(known_types)

    def query_runs(self, query: str, *, limit: int | None = None) -> list[RunInfo]:
        """Runs matching the list query ``query``, most recently started first
        (ListQueryError if it is malformed or names an unknown attribute)."""
        def run(conn: Any) -> list[RunInfo]:
            where, params = where_clause(conn, query, POSTGRES)
            found = conn.execute(f"SELECT {rows.RUN_COLUMNS} FROM runs WHERE {where} "
                                 "ORDER BY seq DESC LIMIT %s", [*params, limit]).fetchall()
            return [rows.run_from_row(r) for r in found]
        return self._db.read(run)

    def count_query(self, query: str) -> int:
        """How many runs the list query ``query`` matches."""
        def run(conn: Any) -> int:
            where, params = where_clause(conn, query, POSTGRES)
            return int(conn.execute(f"SELECT count(*) FROM runs WHERE {where}",
                                    params).fetchone()[0])
        return self._db.read(run)

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
        self._polled.polled(owner, task_queue)
        expires = now + lease_for
        found = self._db.query(sql.LEASE_WORKFLOW_TASKS, {
            "owner": owner, "expires": expires, "q": task_queue, "now": now, "limit": limit})
        return [WorkflowTask(run_id=r[1], task_queue=task_queue, lease_owner=owner,
                             lease_expires_at=expires, updates_pending=bool(r[2]))
                for r in sorted(found)]

    def release_workflow_task(self, run_id: str, owner: str) -> None:
        """Give a leased workflow task back (if ``owner`` holds it); it stays pending."""
        def run(tx: Tx) -> None:
            found = tx.conn.execute(sql.RELEASE_WORKFLOW_TASK, (run_id, owner)).fetchall()
            tx.queues |= {r[0] for r in found}
        self._db.write(run)

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
        self._polled.polled(owner, task_queue)
        found = self._db.query(
            sql.LEASE_ACTIVITY_TASKS,
            {"owner": owner, "now": now, "default": lease_for, "q": task_queue,
             "limit": limit})
        leased = [rows.activity_from_row(r) for r in found]
        leased.sort(key=lambda r: (r.available_at, r.run_id, r.scheduled_event_id))
        return [r.to_task() for r in leased]

    def _update_activity(self, sets: str, run_id: str, scheduled_event_id: int, owner: str,
                         params: dict[str, Any], *, wakes: bool = True) -> bool:
        def run(tx: Tx) -> bool:
            found = tx.conn.execute(
                sql.UPDATE_ACTIVITY.format(sets=sets),
                {**params, "run_id": run_id, "sid": scheduled_event_id, "owner": owner}
            ).fetchall()
            if wakes:
                tx.queues |= {r[0] for r in found}
            return bool(found)
        return self._db.write(run)

    def heartbeat_activity(self, run_id: str, scheduled_event_id: int, owner: str,
                           details: list[JsonValue], now: datetime, lease_for: timedelta) -> bool:
        """Record progress and extend the lease; False if ``owner`` no longer holds the task."""
        return self._update_activity(
            sql.HEARTBEAT_SETS, run_id, scheduled_event_id, owner,
            {"details": dumps(details), "now": now, "expires": now + lease_for}, wakes=False)

    def hand_over_activity(self, run_id: str, scheduled_event_id: int, owner: str,
                           new_owner: str, lease_until: datetime) -> bool:
        """Move ``owner``'s lease of the task to ``new_owner`` until ``lease_until``."""
        return self._update_activity(
            sql.HAND_OVER_SETS, run_id, scheduled_event_id, owner,
            {"new_owner": new_owner, "until": lease_until}, wakes=False)

    def retry_activity(self, run_id: str, scheduled_event_id: int, owner: str,
                       available_at: datetime, failure: Failure | None = None) -> None:
        """An attempt failed (``failure``): unlease it until ``available_at``."""
        self._update_activity(
            sql.RETRY_SETS, run_id, scheduled_event_id, owner,
            {"at": available_at, "failure": failure_json(failure)})

    def pending_activities(self, run_id: str) -> list[PendingActivity]:
        """The run's open activities, in the order they were scheduled."""
        found = self._db.query(sql.PENDING_ACTIVITIES, (run_id,))
        return [rows.activity_from_row(r).to_pending() for r in found]

    def release_activity_task(self, run_id: str, scheduled_event_id: int, owner: str) -> None:
        """Give a leased activity task back unrun (its attempt is not counted)."""
        self._update_activity(
            sql.RELEASE_SETS, run_id, scheduled_event_id, owner, {})

    def get_activity_task(self, run_id: str, scheduled_event_id: int) -> ActivityTask | None:
        """The activity task if it is open and leased (to see ``cancel_requested``)."""
        found = self._db.query(sql.GET_ACTIVITY, (run_id, scheduled_event_id))
        return rows.activity_from_row(found[0]).to_task() if found else None

    def cancel_requested_activities(self, owner: str) -> list[tuple[str, int]]:
        """(run id, scheduled event id) of activities leased by ``owner`` asked to cancel."""
        found = self._db.query(sql.CANCEL_REQUESTED, (owner,))
        return [(str(r[0]), int(r[1])) for r in found]

    # --- timers -------------------------------------------------------------------------------

    def due_timers(self, now: datetime, limit: int = 100) -> list[DueTimer]:
        """Open timers with ``fire_at <= now``, soonest first."""
        found = self._db.query(sql.DUE_TIMERS, (now, limit))
        return [rows.timer_from_row(r) for r in found]

    def next_timer_at(self) -> datetime | None:
        """When the soonest open timer, open run's deadline or failing workflow task's
        retry falls due, or None."""
        found = self._db.query(sql.NEXT_TIMER_AT)
        value: datetime | None = found[0][0]
        return value

    def expired_runs(self, now: datetime, limit: int = 100) -> list[RunInfo]:
        """Open runs whose execution or run timeout has passed, earliest first."""
        found = self._db.query(sql.EXPIRED_RUNS, (now, limit))
        return [rows.run_from_row(r) for r in found]

    # --- leases of dead workers, and heartbeats -----------------------------------------------

    def lease_owners(self) -> set[str]:
        """Every owner holding a workflow or activity task lease now."""
        found = self._db.query(sql.LEASE_OWNERS)
        return {str(r[0]) for r in found}

    def release_leases(self, owner: str) -> int:
        """Free every lease ``owner`` holds (a worker known to be dead); returns how many.

        The attempts it had started stay counted.
        """
        def run(tx: Tx) -> int:
            found = tx.conn.execute(sql.RELEASE_LEASES, {"o": owner}).fetchall()
            tx.queues |= {r[0] for r in found}
            return len(found)
        return self._db.write(run)

    def beat_worker(self, identity: str, grace: timedelta) -> None:
        """Record that ``identity`` is alive (by the server's clock) for ``grace`` more."""
        self._db.query(sql.BEAT_WORKER, {"i": identity, "g": grace})

    def retire_worker(self, identity: str) -> None:
        """Forget a worker (it shut down, or it was found dead and its leases freed)."""
        self._polled.retired(identity)
        self._db.query(sql.RETIRE_WORKER, (identity,))

    def dead_workers(self) -> set[str]:
        """Workers whose last heartbeat is older than their grace."""
        found = self._db.query(sql.DEAD_WORKERS)
        return {str(r[0]) for r in found}

    # --- update requests ----------------------------------------------------------------------

    def request_update(self, run_id: str, update_id: str, name: str, args: list[JsonValue],
                       now: datetime, headers: Mapping[str, JsonValue] | None = None
                       ) -> UpdateRequest:
        """Record a client's update; returns the existing request if ``update_id`` is known."""
        def run(tx: Tx) -> UpdateRequest:
            lookup = rows.PgLookup(tx.conn)
            request, changes = plan_request_update(lookup, run_id, update_id, name, args, now,
                                                   headers)
            if changes:
                tx.queues |= apply_changes(tx.conn, changes)
                tx.runs.add(run_id)
            return request
        try:
            return self._db.write(run)
        finally:
            self._db.forget_head(run_id)  # its workflow task may have gained a row

    def pending_updates(self, run_id: str) -> list[UpdateRequest]:
        """The run's updates waiting for a worker, oldest first."""
        found = self._db.query(sql.PENDING_UPDATES, (run_id,))
        return [rows.update_from_row(r) for r in found]

    def get_update(self, run_id: str, update_id: str) -> UpdateRequest | None:
        """One update request in whatever status it reached, or None."""
        found = self._db.query(sql.GET_UPDATE, (run_id, update_id))
        return rows.update_from_row(found[0]) if found else None

    def reject_update(self, run_id: str, update_id: str, failure: Failure) -> None:
        """Mark a requested update rejected by its validator (nothing enters the history)."""
        def run(tx: Tx) -> None:
            changes = plan_reject_update(rows.PgLookup(tx.conn), run_id, update_id, failure)
            if changes:
                apply_changes(tx.conn, changes)
                tx.runs.add(run_id)
        self._db.write(run)

    # --- the registry of what workers host ------------------------------------------------------

    def register_worker(self, task_queue: str, worker: str, registered_at: datetime,
                        workflows: Sequence[WorkflowSignature],
                        activities: Sequence[HandlerSignature]) -> None:
        """Record what ``worker`` hosts on ``task_queue`` (newest registration wins)."""
        params = upsert_rows(task_queue, worker, registered_at, workflows, activities,
                             lambda t: t)

        def run(tx: Tx) -> None:
            for row in params:  # in key order: two workers' upserts cannot deadlock
                tx.conn.execute(POSTGRES_UPSERT, row)
        params.sort(key=lambda row: row[:3])
        self._db.write(run)

    def registered_workflows(self, task_queue: str | None = None
                             ) -> list[WorkflowRegistration]:
        """The workflow types registered on ``task_queue`` (every queue if None)."""
        found = from_rows(self._db.query(*select(WORKFLOW, task_queue, "%s")), _utc)
        return [r for r in found if isinstance(r, WorkflowRegistration)]

    def registered_activities(self, task_queue: str | None = None
                              ) -> list[ActivityRegistration]:
        """The activities registered on ``task_queue`` (every queue if None)."""
        found = from_rows(self._db.query(*select(ACTIVITY, task_queue, "%s")), _utc)
        return [r for r in found if isinstance(r, ActivityRegistration)]

    # --- maintenance --------------------------------------------------------------------------

    def rebuild_indexes(self) -> None:
        """Recompute every index from the events (update requests and leases are kept)."""
        self._db.write(lambda tx: admin.rebuild_indexes(tx.conn))
        self._db.wake_everyone()

    def prune_run(self, run_id: str, exported_to: str | None = None) -> int:
        """Remove a closed run's events and index rows (retention) through the privileged
        ``prune_run()`` SQL function, which audits it in ``pruned_runs``; returns how many
        events it had (0: no such run). RunNotPrunableError for a running run."""
        def run(tx: Tx) -> int:
            info = tx.conn.execute("SELECT status FROM runs WHERE run_id = %s FOR UPDATE",
                                   (run_id,)).fetchone()
            if info is None:
                return 0
            if info[0] == RUNNING:
                raise RunNotPrunableError(run_id)
            tx.runs.add(run_id)
            return admin.prune_run(tx.conn, run_id, exported_to)
        return self._db.write(run)

    def dump_indexes(self) -> dict[str, list[Any]]:
        """Every derived row, in key order: a diagnostic to compare stores and rebuilds."""
        return self._db.read(admin.dump_indexes)

    def close(self) -> None:
        """Close this object's connections and its listener (other objects are unaffected)."""
        self._db.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _utc(value: datetime) -> datetime:
    """A timestamptz as read (the session's time zone is UTC)."""
    return value.astimezone(UTC)
