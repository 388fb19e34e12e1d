"""What a workload costs on PostgreSQL, counted: statements, round trips, transactions.

:func:`counted_psycopg` patches psycopg 3 for the duration of a ``with`` block
(this process only) and counts, on every connection but the store's ``LISTEN``
thread's:

* statements: every ``Cursor.execute``/``executemany`` call, by SQL text (an
  ``executemany`` of several rows counts once), and every statement the store runs
  through libpq directly (``_postgres_conn.run_prepared``, one round trip each);
* commands: what psycopg sends itself (``BEGIN``, ``COMMIT``, ``SAVEPOINT``...);
* round trips: the waits for the server's answer. A call outside pipeline mode
  is one; in pipeline mode, only a sync, the pipeline's end and a fetch that
  has to wait for its result count (sending queued statements does not wait).

:func:`server_counters` reads the server's own cumulative counters (committed
transactions of the database, WAL fsyncs of the whole server), which also see
other processes' work; take them before and after, with :func:`settled` between,
so that every backend has reported its statistics.
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from collections.abc import Generator, Iterator
from typing import Any

import attrs

LISTENER_THREAD = "replay-pg-listener"


@attrs.define
class Counts:
    """What :func:`counted_psycopg` saw."""

    statements: collections.Counter[str] = attrs.Factory(collections.Counter)
    commands: collections.Counter[str] = attrs.Factory(collections.Counter)
    round_trips: int = 0

    def clear(self) -> None:
        self.statements.clear()
        self.commands.clear()
        self.round_trips = 0

    def copy(self) -> Counts:
        return Counts(collections.Counter(self.statements), collections.Counter(self.commands),
                      self.round_trips)


@contextlib.contextmanager
def counted_psycopg(counts: Counts) -> Iterator[None]:
    """Count psycopg's statements, commands and round trips into ``counts`` meanwhile."""
    import psycopg
    from psycopg import _connection_base, cursor

    local = threading.local()
    lock = threading.Lock()
    originals: list[tuple[Any, str, Any]] = []

    def counted() -> bool:
        return threading.current_thread().name != LISTENER_THREAD

    def patch(owner: Any, name: str, make: Any) -> None:
        original = getattr(owner, name)
        originals.append((owner, name, original))
        setattr(owner, name, make(original))

    def execute(original: Any) -> Any:
        def run(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            if counted():
                with lock:
                    counts.statements[_text(query)] += 1
            return original(self, query, *args, **kwargs)
        return run

    def exec_command(original: Any) -> Any:
        def run(self: Any, command: Any, *args: Any, **kwargs: Any
                ) -> Generator[Any, Any, Any]:
            if counted():
                with lock:
                    counts.commands[_text(command).split()[0].upper()] += 1
            return (yield from original(self, command, *args, **kwargs))
        return run

    def wait(original: Any) -> Any:
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            syncs: int = getattr(local, "syncing", 0)
            if counted() and (self._pipeline is None or syncs > 0):
                with lock:
                    counts.round_trips += 1
            return original(self, *args, **kwargs)
        return run

    def syncing(original: Any) -> Any:
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            local.syncing = getattr(local, "syncing", 0) + 1
            try:
                return original(self, *args, **kwargs)
            finally:
                local.syncing -= 1
        return run

    def prepared(original: Any) -> Any:  # the store's direct libpq calls: one trip each
        def run(conn: Any, name: bytes, statement: bytes, *args: Any, **kwargs: Any) -> Any:
            if counted():
                with lock:
                    counts.statements[_text(statement)] += 1
                    counts.round_trips += 1
            return original(conn, name, statement, *args, **kwargs)
        return run

    from replay.history import _postgres_conn

    patch(_postgres_conn, "run_prepared", prepared)
    patch(cursor.Cursor, "execute", execute)
    patch(cursor.Cursor, "executemany", execute)
    patch(_connection_base.BaseConnection, "_exec_command", exec_command)
    patch(psycopg.Connection, "wait", wait)
    patch(psycopg.Pipeline, "sync", syncing)
    patch(psycopg.Pipeline, "__exit__", syncing)
    patch(cursor.Cursor, "_fetch_pipeline", syncing)
    try:
        yield
    finally:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)


def _text(query: Any) -> str:
    if isinstance(query, bytes):
        return query.decode(errors="replace")
    if isinstance(query, str):
        return query
    return str(getattr(query, "as_string", lambda _: query)(None))


@attrs.frozen
class ServerCounters:
    """Cumulative counters of the server: transactions committed in the database, and
    WAL fsyncs of every process of the server (``None`` where the server has no such
    view)."""

    commits: int
    wal_fsyncs: int | None

    def __sub__(self, other: ServerCounters) -> ServerCounters:
        fsyncs = (None if self.wal_fsyncs is None or other.wal_fsyncs is None
                  else self.wal_fsyncs - other.wal_fsyncs)
        return ServerCounters(self.commits - other.commits, fsyncs)


def server_counters(url: str) -> ServerCounters:
    """The server's counters now (one connection of its own, outside any count)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        commits = conn.execute("SELECT xact_commit FROM pg_stat_database "
                               "WHERE datname = current_database()").fetchone()
        try:
            fsyncs = conn.execute("SELECT sum(fsyncs) FROM pg_stat_io "
                                  "WHERE object = 'wal'").fetchone()
        except psycopg.Error:  # before PostgreSQL 18, WAL fsyncs are elsewhere
            fsyncs = None
    assert commits is not None
    return ServerCounters(int(commits[0]),
                          None if fsyncs is None or fsyncs[0] is None else int(fsyncs[0]))


def settled(seconds: float = 1.5) -> None:
    """Give the server's backends time to report their statistics (at most once a second
    while busy, when idle or exiting otherwise)."""
    time.sleep(seconds)
