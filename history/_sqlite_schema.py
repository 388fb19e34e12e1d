"""The SQLite store's schema, and opening a file safely.

Opening checks the file before touching it: a SQLite file that is not a
replay store, one written by a newer replay, or a replay store that lacks a
table, column, index or trigger the engine relies on (the append-only triggers
above all) is refused with StoreError and left exactly as it was (the WAL
switch, which rewrites the header, comes only after the check). A store at an
older schema version is upgraded by the steps in ``_sqlite_migrations``, all in
one ``BEGIN IMMEDIATE`` transaction. A new file is created readable and
writable by its owner only.

The DDL is SQL, not sqlite-utils' ``create()``: partial indexes, WITHOUT ROWID
tables and triggers are beyond that API. sqlite-utils reads the schema back
(``expected_schema``, ``verify_schema``) and runs the migrations; the hot path
(``_sqlite.py``) stays on plain ``sqlite3``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
from pathlib import Path

import attrs
import sqlite_utils

from . import _search_index, _sqlite_migrations, _sqlite_queries, _sqlite_retention
from ._errors import StoreError
from ._sql_registry import SQLITE_TABLE as REGISTRATIONS
from ._sqlite_faults import CORRUPT, corrupt_error, has_sqlite_header, primary_code, store_fault

APPLICATION = "replay-store"
SCHEMA_VERSION = 7
SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")

_APPEND_ONLY = "replay: the events table is append-only; {} is not allowed [RPL-S01]"

DDL = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE events (
        run_id TEXT NOT NULL, event_id INTEGER NOT NULL, kind TEXT NOT NULL,
        time TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (run_id, event_id)) WITHOUT ROWID""",
    f"""CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY.format("UPDATE")}'); END""",
    """CREATE TABLE runs (
        seq INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, workflow_id TEXT NOT NULL,
        workflow_type TEXT NOT NULL, task_queue TEXT NOT NULL, status TEXT NOT NULL,
        start_time INTEGER NOT NULL, close_time INTEGER,
        first_execution_run_id TEXT NOT NULL, parent_workflow_id TEXT, parent_run_id TEXT,
        continued_from_run_id TEXT, next_run_id TEXT, memo TEXT NOT NULL, deadline INTEGER,
        task_attempt INTEGER NOT NULL DEFAULT 0, task_failure TEXT, task_retry_at INTEGER,
        search_attributes TEXT NOT NULL DEFAULT '{}')""",
    # At most one open run per workflow id, whatever a writer does.
    "CREATE UNIQUE INDEX runs_one_open ON runs (workflow_id) WHERE status = 'running'",
    "CREATE INDEX runs_by_workflow ON runs (workflow_id, seq)",
    "CREATE INDEX runs_by_status ON runs (status, seq)",
    "CREATE INDEX runs_by_type ON runs (workflow_type, seq)",
    "CREATE INDEX runs_by_deadline ON runs (deadline) WHERE status = 'running'",
    "CREATE INDEX runs_failing ON runs (task_retry_at) WHERE task_attempt > 0",
    """CREATE TABLE workflow_tasks (
        seq INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, task_queue TEXT NOT NULL,
        has_inputs INTEGER NOT NULL, lease_owner TEXT, lease_expires_at INTEGER)""",
    "CREATE INDEX workflow_tasks_by_queue ON workflow_tasks (task_queue, seq)",
    """CREATE TABLE activity_tasks (
        run_id TEXT NOT NULL, scheduled_event_id INTEGER NOT NULL, workflow_id TEXT NOT NULL,
        task_queue TEXT NOT NULL, activity_type TEXT NOT NULL, activity_id TEXT NOT NULL,
        args TEXT NOT NULL, scheduled_time INTEGER NOT NULL, available_at INTEGER NOT NULL,
        attempt INTEGER NOT NULL, lease_owner TEXT, lease_expires_at INTEGER,
        heartbeat_details TEXT NOT NULL, cancel_requested INTEGER NOT NULL,
        attempt_timeout REAL, last_failure TEXT, last_heartbeat_at INTEGER,
        PRIMARY KEY (run_id, scheduled_event_id))""",
    "CREATE INDEX activity_tasks_by_queue ON activity_tasks (task_queue, available_at)",
    """CREATE TABLE timers (
        run_id TEXT NOT NULL, started_event_id INTEGER NOT NULL, fire_at INTEGER NOT NULL,
        task_queue TEXT NOT NULL, PRIMARY KEY (run_id, started_event_id))""",
    "CREATE INDEX timers_by_fire_at ON timers (fire_at)",
    """CREATE TABLE update_requests (
        seq INTEGER PRIMARY KEY, run_id TEXT NOT NULL, update_id TEXT NOT NULL,
        name TEXT NOT NULL, args TEXT NOT NULL, status TEXT NOT NULL,
        requested_at INTEGER NOT NULL, result TEXT, failure TEXT,
        headers TEXT NOT NULL DEFAULT '{}', UNIQUE (run_id, update_id))""",
    "CREATE INDEX update_requests_by_status ON update_requests (run_id, status)",
    *_search_index.SQLITE_DDL,
    # Retention: the one path allowed to delete events (see _sqlite_retention).
    *_sqlite_retention.TABLES,
    _sqlite_retention.EVENTS_NO_DELETE,
    *_sqlite_retention.AUDIT_TRIGGERS,
    # What workers host, per task queue (see _registry).
    REGISTRATIONS,
    # Queries routed to workers (see _sqlite_queries): never derived, never history.
    *_sqlite_queries.TABLES,
)


#: The triggers that make the events table append-only.
APPEND_ONLY_TRIGGERS = ("events_no_update", "events_no_delete")


@attrs.frozen
class Schema:
    """What a store's file holds, as sqlite-utils reads it back: the columns of each
    table, the indexes created by name, and each trigger's table."""

    columns: dict[str, frozenset[str]]
    indexes: frozenset[str]
    triggers: dict[str, str]

    @classmethod
    def read(cls, conn: sqlite3.Connection) -> Schema:
        """The schema of the database behind ``conn`` (reads only)."""
        db = sqlite_utils.Database(conn, execute_plugins=False)
        tables = [db.table(name) for name in db.table_names()]
        return cls(
            columns={table.name: frozenset(table.columns_dict) for table in tables},
            # origin "c": made by CREATE INDEX (not the implied ones of UNIQUE/PRIMARY KEY)
            indexes=frozenset(index.name for table in tables for index in table.indexes
                              if index.origin == "c"),
            triggers={trigger.name: trigger.table for trigger in db.triggers})

    def missing_from(self, actual: Schema) -> list[str]:
        """What this schema has and ``actual`` lacks, one phrase per item, in DDL order."""
        missing: list[str] = []
        for table, columns in self.columns.items():
            if table not in actual.columns:
                missing.append(f"table {table}")
                continue
            missing += [f"column {table}.{c}" for c in sorted(columns - actual.columns[table])]
        missing += [f"index {name}" for name in sorted(self.indexes - actual.indexes)]
        missing += [f"trigger {name} (on {table})" for name, table in self.triggers.items()
                    if actual.triggers.get(name) != table]
        return missing


@functools.cache
def expected_schema() -> Schema:
    """The schema DDL creates, read back from a scratch in-memory database."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for statement in DDL:
            conn.execute(statement)
        return Schema.read(conn)
    finally:
        conn.close()


def missing_parts(conn: sqlite3.Connection) -> str:
    """The tables, columns, indexes and triggers of the current schema that the database
    behind ``conn`` lacks, as one phrase ("" if none), with why the triggers matter."""
    missing = expected_schema().missing_from(Schema.read(conn))
    if not missing:
        return ""
    why = ""
    if any(f"trigger {name} (on events)" in missing for name in APPEND_ONLY_TRIGGERS):
        why = (" The events_no_update and events_no_delete triggers are what keeps the "
               "events table append-only; without them a history could be rewritten.")
    return f"{', '.join(missing)}.{why}"


def verify_schema(conn: sqlite3.Connection, path: Path, version: int) -> None:
    """StoreError naming every table, column, index or trigger the store lacks (reads only)."""
    missing = missing_parts(conn)
    if missing:
        raise store_error(path, (
            f"this replay store (schema version {version}) lacks {missing} Nothing was "
            "changed. Something other than replay altered the file: restore it from a "
            "backup."))


def store_error(path: Path, message: str) -> StoreError:
    """A StoreError naming the file."""
    return StoreError(message, path=str(path))


def connect(path: Path, *, synchronous: str, busy_timeout_ms: int) -> sqlite3.Connection:
    """A connection in autocommit mode (we issue BEGIN IMMEDIATE ourselves)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                           timeout=busy_timeout_ms / 1000)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    return conn


def _create_private(path: Path) -> bool:
    """Create an empty file with mode 0600; False if it already existed."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    except FileExistsError:
        return False
    os.close(fd)
    os.chmod(path, 0o600)  # in case the umask was stricter than we need, keep it exact
    return True


def _check_ours(conn: sqlite3.Connection, path: Path, tables: list[str]) -> int:
    """The store's schema version; StoreError if the file is not a replay store, or is
    one of a newer version."""
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.Error as exc:
        if primary_code(exc) in CORRUPT:  # damaged, not foreign: say so (and what is broken)
            raise corrupt_error(path, exc) from exc
        meta = {}
    if meta.get("application") != APPLICATION:
        names = ", ".join(sorted(tables)[:8])
        raise store_error(path, (
            f"this SQLite database is not a replay store (it has tables {names} but no "
            "replay meta row). Nothing was changed. Point the store at a new file or at a "
            "database created by replay."))
    version = meta.get("schema_version", "")
    if not version.isdigit() or int(version) > SCHEMA_VERSION:
        raise store_error(path, (
            f"this store has schema version {version!r}, newer than the versions this "
            f"replay reads (up to {SCHEMA_VERSION}). Nothing was changed. Upgrade "
            "replay-engine to open it."))
    return int(version)


def _tables(conn: sqlite3.Connection) -> list[str]:
    return sqlite_utils.Database(conn, execute_plugins=False).table_names()


def _open_error(path: Path, exc: sqlite3.Error) -> StoreError:
    if primary_code(exc) == sqlite3.SQLITE_NOTADB and not has_sqlite_header(path):
        return store_error(path, f"not a SQLite database ({exc}). Nothing was changed.")
    return store_fault(path, exc, "cannot open the store")


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Create the schema in an empty file, or upgrade an older one, under BEGIN IMMEDIATE.

    Under the lock the file is looked at again: another process may have created
    or upgraded it while we waited. A failure rolls everything back.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        tables = _tables(conn)
        if not tables:
            for statement in DDL:
                conn.execute(statement)
            conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                             [("application", APPLICATION),
                              ("schema_version", str(SCHEMA_VERSION))])
        else:
            version = _check_ours(conn, path, tables)
            if version < SCHEMA_VERSION:
                _upgrade(conn, path, version)
            else:  # another process created or upgraded it while we waited
                verify_schema(conn, path, version)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # some errors (disk full, ...) have already rolled back
            conn.execute("ROLLBACK")
        raise


def _upgrade(conn: sqlite3.Connection, path: Path, version: int) -> None:
    """Run the migrations from ``version`` inside the open transaction, then check that
    the result is whole (before the caller commits)."""
    def failed(reason: str, outcome: str = "Nothing was changed.") -> StoreError:
        return store_error(path, (
            f"cannot upgrade this store from schema version {version} to {SCHEMA_VERSION}: "
            f"{reason} {outcome} Open it with the replay-engine version that wrote it, "
            "or report the failure."))

    try:
        _sqlite_migrations.migrate(conn, version, SCHEMA_VERSION)
    except _sqlite_migrations.MigrationFailed as exc:
        raise failed(f"{exc}.", "Steps before it may have been committed." if exc.committed
                     else "Nothing was changed.") from exc
    missing = missing_parts(conn)
    if missing:  # verified before the commit: the caller's rollback undoes the steps
        raise failed(f"after the migrations it lacks {missing}")


def open_database(path: Path, *, synchronous: str, busy_timeout_ms: int) -> sqlite3.Connection:
    """Open (creating or upgrading if needed) a replay store file; StoreError if it is not
    usable."""
    if synchronous.upper() not in SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}")
    created = _create_private(path)
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                               timeout=busy_timeout_ms / 1000)
    except sqlite3.Error as exc:
        raise _open_error(path, exc) from exc
    try:
        # Only reads until we know the file is ours and whole: even PRAGMA synchronous is
        # per connection, but the WAL switch rewrites the header.
        tables = _tables(conn)
        current = False
        if tables:
            version = _check_ours(conn, path, tables)
            current = version == SCHEMA_VERSION
            if current:
                verify_schema(conn, path, version)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise store_error(path, f"cannot switch to WAL mode (got {mode!r})")
        if not current:
            _prepare(conn, path)
    except sqlite3.Error as exc:
        conn.close()
        raise _open_error(path, exc) from exc
    except BaseException:
        conn.close()
        raise
    if created:
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.chmod(f"{path}{suffix}", 0o600)
    return conn
