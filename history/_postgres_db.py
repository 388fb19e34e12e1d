"""The PostgreSQL store's database: connections, retried transactions, wake-ups.

:class:`Database` owns what a :class:`~history.PostgresStore` holds open: the
connection pool, the listener thread and the change notifier. Writes run in a
transaction that is run again after a serialization failure, a deadlock or a
concurrent insert of the same key (planning again then sees the other
writer's row and raises the store's own error); the commit sends one NOTIFY
scoped to the runs and task queues it concerns, and wakes this process's
waiters at once.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from . import _postgres_checked as checked
from . import _postgres_conn as pg
from . import _postgres_rows as rows
from . import _postgres_sql as sql
from ._batch import RunHead
from ._changes import Change
from ._commit_plan import CommitPlanner, HeadCache
from ._errors import ReplayError, StoreError
from ._events import Event
from ._notify import ChangeNotifier
from ._postgres_changes import apply_changes, encode
from ._postgres_faults import pg_fault
from ._postgres_listen import Listener, payload, scopes
from ._postgres_schema import prepare
from ._store import Operation

if TYPE_CHECKING:
    import psycopg

T = TypeVar("T")
_ATTEMPTS = 8


@attrs.define
class Tx:
    """One open transaction, and the runs and task queues its commit concerns."""

    conn: psycopg.Connection[Any]
    sync: Callable[[], None] = lambda: None
    """Wait for the answers to every statement sent so far (pipelined transactions)."""
    runs: set[str] = attrs.Factory(set)
    queues: set[str] = attrs.Factory(set)
    closed: set[str] = attrs.Factory(set)
    heads: dict[str, RunHead | None] = attrs.Factory(dict)
    """The heads of the runs its commits planned, as the commit leaves them."""


class Database:
    """A store's connections to one schema (see the module docstring)."""

    def __init__(self, target: pg.Target, timeout: float) -> None:
        self.target = target
        self.closed = False
        self._close_lock = threading.Lock()
        try:
            with pg.connect(target, timeout) as conn:
                prepare(conn, target.schema, target.shown)
        except pg.DB_ERRORS as exc:
            raise self.error(exc, "cannot open the store") from exc
        self.notifier = ChangeNotifier()
        self._origin = uuid.uuid4().hex
        self._known = checked.KnownHeads()
        self._pool = pg.open_pool(target, timeout)
        self._listener = Listener(lambda: pg.connect(target, timeout), target.channel,
                                  self._origin, self.notifier)
        try:
            self._listener.start(timeout)
        except (*pg.DB_ERRORS, TimeoutError) as exc:  # type: ignore[misc]  # a tuple of classes
            self._pool.close()
            raise self.error(exc, "cannot LISTEN for changes") from exc

    def error(self, exc: BaseException, what: str) -> StoreError:
        """A StoreError naming the store, for a driver error: StoreUnavailableError when
        it may pass (a lost connection, a shutting-down server...; see _postgres_faults)."""
        return pg_fault(exc, what, self.target.shown)

    def _check_open(self) -> None:
        if self.closed:
            raise StoreError("the store is closed", path=self.target.shown)

    def write(self, fn: Callable[[Tx], T], *, pipelined: bool = False) -> T:
        """Run ``fn`` in a transaction (again after a serialization failure, a deadlock or
        a concurrent insert), then wake the waiters its commit concerns.

        ``pipelined``: in psycopg's pipeline mode, where a statement is sent without
        waiting for the previous one's answer and the client waits only for rows it
        reads (``fn`` must read every result it depends on, rowcounts included, from
        cursors whose results it fetched, or after ``tx.sync()``): ``BEGIN`` leaves
        with the first read, and the writes not yet sent leave with the ``NOTIFY`` and
        ``COMMIT``, in one more round trip.
        """
        self._check_open()
        run = self._pipelined if pipelined else self._transaction
        for attempt in range(_ATTEMPTS):
            try:
                tx, result = run(fn)
            except (*pg.RETRYABLE, *pg.UNIQUE) as exc:
                if attempt == _ATTEMPTS - 1:
                    raise self.error(exc, f"a transaction kept failing ({attempt + 1} tries)"
                                     ) from exc
                continue
            except pg.DB_ERRORS as exc:
                raise self.error(exc, "a write failed") from exc
            self._known.learn(tx.heads)
            if tx.runs or tx.queues:
                self.notifier.notify(scopes(tx.runs, tx.queues, tx.closed))
            return result
        raise AssertionError("unreachable")

    def forget_head(self, run_id: str) -> None:
        """A write outside the commits moved the run's head: the next commit reads it."""
        self._known.forget([run_id])

    def _notify(self, tx: Tx) -> None:
        if tx.runs or tx.queues:
            tx.conn.execute(sql.NOTIFY, (self.target.channel, payload(
                self._origin, tx.runs, tx.queues, tx.closed)))

    def _transaction(self, fn: Callable[[Tx], T]) -> tuple[Tx, T]:
        with self._pool.connection() as conn, conn.transaction():
            tx = Tx(conn)
            result = fn(tx)
            self._notify(tx)
        return tx, result

    def _pipelined(self, fn: Callable[[Tx], T]) -> tuple[Tx, T]:
        # BEGIN and COMMIT are statements of the pipeline (psycopg's transaction blocks
        # would wait for each), so BEGIN leaves with the first read and COMMIT with the
        # NOTIFY and whatever writes are still queued.
        with self._pool.connection() as conn:
            try:
                with conn.pipeline() as pipeline:
                    conn.execute("BEGIN")
                    tx = Tx(conn, sync=pipeline.sync)
                    result = fn(tx)
                    self._notify(tx)
                    conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(*pg.DB_ERRORS):
                    conn.rollback()
                raise
        return tx, result

    def query(self, statement: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        """One statement in its own transaction (autocommit); its rows."""
        self._check_open()
        try:
            with self._pool.connection() as conn:
                found: list[Any] = conn.execute(statement, params).fetchall()
                return found
        except pg.DB_ERRORS as exc:
            raise self.error(exc, "a query failed") from exc

    def read(self, fn: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Several reads in one transaction (one snapshot)."""
        self._check_open()
        try:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                return fn(conn)
        except pg.DB_ERRORS as exc:
            raise self.error(exc, "a query failed") from exc

    # --- commits of operations ------------------------------------------------------------------

    @staticmethod
    def apply(tx: Tx, ops: Sequence[Operation]) -> list[Event]:
        """Plan and write ``ops`` in the open transaction; the events written."""
        lookup = rows.PgLookup(tx.conn)
        queues: set[str] = set()

        def apply(changes: Sequence[Change]) -> None:
            queues.update(apply_changes(tx.conn, changes, tx.sync))
        # the same planner as the other stores', so all refuse a bad batch alike
        heads = HeadCache()
        planner = CommitPlanner(lookup, apply, heads=heads)
        written = planner.plan_batch(ops)
        if written or queues:
            tx.runs |= {op.run_id for op in ops}
            tx.queues |= queues
            tx.closed |= planner.closed
        tx.heads.update(heads)
        return written

    @staticmethod
    def lock_runs(tx: Tx, ops: Sequence[Operation]) -> None:
        """Several runs: lock their head rows in one order, so that two commits touching
        the same runs wait for each other instead of deadlocking."""
        run_ids = sorted({op.run_id for op in ops})
        if len(run_ids) > 1:
            tx.conn.execute(sql.LOCK_RUNS, (run_ids,))

    def commit_checked(self, batches: Sequence[Sequence[Operation]]
                       ) -> list[list[Event]] | None:
        """Each batch planned from the run heads this object knows (or reads unlocked) and
        written with them checked, all in one statement (see ``_postgres_checked``); None
        when they must be planned under locks instead (nothing was written)."""
        self._check_open()
        if not self.target.checked:
            return None
        plan: checked.CheckedPlan | None = None
        try:
            with self._pool.connection() as conn:
                plan = checked.plan(conn, batches, self._known)
                if plan is None:
                    return None
                note = (payload(self._origin, plan.runs, plan.queues, plan.closed)
                        if plan.runs or plan.queues else None)
                pg.run_prepared(conn, checked.COMMIT_NAME, checked.COMMIT, [
                    plan.checks().encode(), encode(plan.changes).encode(),
                    self.target.channel.encode(), None if note is None else note.encode()])
        except pg.DB_ERRORS as exc:
            if plan is not None and checked.plan_again(exc, (*pg.RETRYABLE, *pg.UNIQUE)):
                self._known.forget(list(plan.assumed))
                return None
            raise self.error(exc, "a write failed") from exc
        self._known.learn(plan.heads)
        if plan.runs or plan.queues:
            self.notifier.notify(scopes(plan.runs, plan.queues, plan.closed))
        return plan.written

    def commit(self, ops: Sequence[Operation]) -> list[Event]:
        """All operations in one transaction, or none."""
        done = self.commit_checked([ops])
        return done[0] if done is not None else self._commit_locked(ops)

    def _commit_locked(self, ops: Sequence[Operation]) -> list[Event]:
        def run(tx: Tx) -> list[Event]:
            self.lock_runs(tx, ops)
            return self.apply(tx, ops)
        return self.write(run, pipelined=self.target.pipeline)

    def commit_each(self, batches: Sequence[Sequence[Operation]]
                    ) -> list[list[Event] | ReplayError]:
        """Each batch in a savepoint of one transaction; a failed batch's error in its place.

        One batch needs no savepoint: it is the whole transaction, rolled back if it fails.
        """
        done = self.commit_checked(batches)
        if done is not None:
            return list(done)
        if len(batches) == 1:
            try:
                return [self._commit_locked(batches[0])]
            except StoreError:
                raise
            except ReplayError as exc:
                return [exc]

        def run(tx: Tx) -> list[list[Event] | ReplayError]:
            self.lock_runs(tx, [op for ops in batches for op in ops])
            return [self._savepoint(tx, ops) for ops in batches]
        return self.write(run, pipelined=self.target.pipeline)

    def _savepoint(self, tx: Tx, ops: Sequence[Operation]) -> list[Event] | ReplayError:
        for attempt in range(3):
            part = Tx(tx.conn, tx.sync)
            tx.conn.execute("SAVEPOINT batch")
            try:
                written = self.apply(part, ops)
                tx.sync()  # this batch's statements have run: its errors are raised here
            except ReplayError as exc:
                tx.conn.execute("ROLLBACK TO SAVEPOINT batch")
                return exc
            except pg.UNIQUE:
                tx.conn.execute("ROLLBACK TO SAVEPOINT batch")
                if attempt == 2:
                    raise
                continue  # a concurrent start of the same run: plan again, seeing it
            tx.conn.execute("RELEASE SAVEPOINT batch")
            tx.runs |= part.runs
            tx.queues |= part.queues
            tx.closed |= part.closed
            tx.heads.update(part.heads)
            return written
        raise AssertionError("unreachable")

    def wake_everyone(self) -> None:
        """Wake every waiter of this store, here and in every listening process."""
        self.query(sql.NOTIFY, (self.target.channel, payload(self._origin, everything=True)))
        self.notifier.notify(None)

    def close(self) -> None:
        """Close the pool and end the listener (idempotent)."""
        with self._close_lock:
            if self.closed:
                return
            self.closed = True
        self._listener.stop()
        # wake the listener now, so that it ends at once
        with contextlib.suppress(*pg.DB_ERRORS), self._pool.connection() as conn:
            conn.execute(sql.NOTIFY, (self.target.channel, "{}"))
        self._pool.close()
        self._listener.join(1.0)
        self.notifier.close()
