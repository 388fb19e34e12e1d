"""Migrations between versions of the SQLite store's schema.

``MIGRATIONS[n]`` upgrades a store from schema version ``n`` to ``n + 1``: a
function on a :class:`sqlite_utils.Database` (``add_column``, ``create_index``,
``transform``, or plain ``db.execute`` for what sqlite-utils cannot express).
Opening a store whose ``meta.schema_version`` is older than the current
``SCHEMA_VERSION`` runs every step from there, in order, in one transaction
taken with ``BEGIN IMMEDIATE`` (see ``_sqlite_schema.open_database``), and
records each new version in ``meta``: a failing step leaves the file as it was,
and two processes opening an old store at once migrate it once.

We keep our own registry instead of sqlite-utils' ``Migrations``: that one
records migrations by name in a table of its own (created on first use, so even
an up-to-date store would be written to), and commits each step separately,
while a replay store needs a version number it can compare (a store newer than
the code is refused) and all steps to the current version in one transaction.

Version 2 added the failing workflow task's state to the runs index
(``task_attempt``, ``task_failure``, ``task_retry_at`` and the partial index
``runs_failing``) and each open activity's last failure and heartbeat time to
``activity_tasks`` (``last_failure``, ``last_heartbeat_at``). A store upgraded
from version 1 has no failing task (version 1 wrote no ``WorkflowTaskFailed``).

Version 3 added retention: the ``pruned_runs`` audit table (append-only by its
own triggers), the ``pruning`` marker table, and an ``events_no_delete``
trigger that lets a DELETE through only for a closed run that ``prune_run``
is removing (see ``_sqlite_retention``). Every other DELETE or UPDATE of an
event is refused as before.

Version 4 added the ``registrations`` table: what each task queue's workers
host (workflow types with their handlers' signatures, activities), which
clients without the workflow code check messages against (see ``_registry``).

Version 5 added the query channel: the ``query_requests`` and ``query_pollers``
tables (see ``_sqlite_queries``). They start empty; nothing else changes.

Version 6 added search attributes: the runs index's ``search_attributes`` column
(JSON, ``'{}'`` for every run of an older store: no history before it recorded
any) and the ``search_attributes`` index table that list queries read.

Version 7 added the ``headers`` column of ``update_requests`` (what the client's
interceptors set on an update; ``{}`` for the requests already there).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils

from . import _search_index, _sqlite_queries, _sqlite_retention
from ._sql_registry import SQLITE_TABLE as REGISTRATIONS

Migration = Callable[[sqlite_utils.Database], None]



def task_failures_and_activity_progress(db: sqlite_utils.Database) -> None:
    """1 -> 2: the runs index's failing-task columns, the activity tasks' last failure
    and last heartbeat time."""
    runs = db.table("runs")
    runs.add_column("task_attempt", int, not_null_default=0)
    runs.add_column("task_failure", str)
    runs.add_column("task_retry_at", int)
    db.execute("CREATE INDEX runs_failing ON runs (task_retry_at) WHERE task_attempt > 0")
    activities = db.table("activity_tasks")
    activities.add_column("last_failure", str)
    activities.add_column("last_heartbeat_at", int)


def retention(db: sqlite_utils.Database) -> None:
    """2 -> 3: the pruned_runs audit table, the pruning marker table, and the
    events_no_delete trigger that lets retention (and nothing else) delete."""
    for statement in _sqlite_retention.TABLES:
        db.execute(statement)
    db.execute("DROP TRIGGER events_no_delete")
    db.execute(_sqlite_retention.EVENTS_NO_DELETE)
    for statement in _sqlite_retention.AUDIT_TRIGGERS:
        db.execute(statement)


def worker_registry(db: sqlite_utils.Database) -> None:
    """3 -> 4: the registrations table (what workers host, per task queue)."""
    db.execute(REGISTRATIONS)


def query_channel(db: sqlite_utils.Database) -> None:
    """4 -> 5: the query_requests and query_pollers tables of routed queries."""
    for statement in _sqlite_queries.TABLES:
        db.execute(statement)


def search_attributes(db: sqlite_utils.Database) -> None:
    """5 -> 6: the runs index's search_attributes column and the search_attributes table."""
    db.table("runs").add_column("search_attributes", str, not_null_default="{}")
    for statement in _search_index.SQLITE_DDL:
        db.execute(statement)


def update_headers(db: sqlite_utils.Database) -> None:
    """6 -> 7: the update requests' headers (empty for the requests already there)."""
    db.table("update_requests").add_column("headers", str, not_null_default="{}")


#: ``MIGRATIONS[n]`` takes a store from schema version ``n`` to ``n + 1``.
MIGRATIONS: dict[int, Migration] = {
    1: task_failures_and_activity_progress,
    2: retention,
    3: worker_registry,
    4: query_channel,
    5: search_attributes,
    6: update_headers,
}


class MigrationFailed(Exception):
    """A migration step could not run; the caller rolls the transaction back.

    ``version`` is the schema version the step started from (``None`` when no
    step exists for the versions asked); ``committed`` is True only when a step
    ended the transaction itself, so a rollback cannot undo all of it.
    """

    def __init__(self, message: str, *, version: int | None, committed: bool = False) -> None:
        super().__init__(message)
        self.version = version
        self.committed = committed


def steps(from_version: int, to_version: int) -> list[tuple[int, Migration]]:
    """The registered steps from ``from_version`` up to ``to_version``, in order."""
    missing = [v for v in range(from_version, to_version) if v not in MIGRATIONS]
    if missing:
        raise MigrationFailed(
            f"this replay has no migration from schema version {missing[0]} to "
            f"{missing[0] + 1}", version=None)
    return [(v, MIGRATIONS[v]) for v in range(from_version, to_version)]


def migrate(conn: sqlite3.Connection, from_version: int, to_version: int) -> None:
    """Run the steps from ``from_version`` to ``to_version`` inside the caller's open
    transaction, recording each new version in ``meta``; MigrationFailed if one fails.

    The caller commits or rolls back: a step never ends the transaction itself
    (sqlite-utils >= 4 joins an open transaction instead of committing it).
    """
    if not conn.in_transaction:
        raise MigrationFailed("migrations run inside a transaction the caller opened",
                              version=from_version)
    db = sqlite_utils.Database(conn, execute_plugins=False)
    for version, step in steps(from_version, to_version):
        name = getattr(step, "__name__", repr(step))
        try:
            step(db)
        except Exception as exc:
            raise MigrationFailed(
                f"migration {version} -> {version + 1} ({name}) failed: "
                f"{type(exc).__name__}: {exc}", version=version) from exc
        if not conn.in_transaction:
            raise MigrationFailed(
                f"migration {version} -> {version + 1} ({name}) ended the transaction "
                "(a COMMIT or a statement that cannot run in one)", version=version,
                committed=True)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                     (str(version + 1),))
