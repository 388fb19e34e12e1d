"""history/_sqlite_migrations.py: upgrading a store's schema when it is opened.

Every test opens a real version-1 file (written with version 1's frozen DDL, see
``store_v1``). The real steps (1 -> 2, ..., 6 -> 7) are tested as they are;
the tests of the machinery add steps of their own after them and raise the
current version (monkeypatch): ``REAL`` is the real current version, the test
steps take a store to ``REAL + 1`` and ``REAL + 2``.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from replay.history import (
    Failure,
    HandlerSignature,
    RecordTaskFailure,
    SqliteStore,
    StoreError,
    WorkflowSignature,
    WorkflowTaskFailed,
)
from replay.history import _sqlite_migrations as migrations
from replay.history import _sqlite_schema as schema
from tests.history.samples import SECOND, activity, signal, started, task_done
from tests.history.store_v1 import make_v1_store
from tests.strategies import T0

REAL = schema.SCHEMA_VERSION
PLUS_1, PLUS_2 = str(REAL + 1), str(REAL + 2)


def file_state(path: Path) -> tuple[bytes, int, list[str]]:
    return path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))


def meta_version(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return str(row[0])
    finally:
        conn.close()


@pytest.fixture
def v1_store(tmp_path: Path) -> Path:
    """A version-1 store file with one open run of two events."""
    path = tmp_path / "replay.db"
    make_v1_store(path, [("r1", [started(), signal(2)])])
    return path


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Current version REAL + 2: the real steps, then a column and an index, then a table;
    the list records each test step run."""
    ran: list[str] = []

    def add_priority(db: sqlite_utils.Database) -> None:
        ran.append("add_priority")
        db.table("runs").add_column("priority", int, not_null_default=0)
        db.table("runs").create_index(["priority"], index_name="runs_by_priority")

    def add_labels(db: sqlite_utils.Database) -> None:
        ran.append("add_labels")
        db.table("labels").create({"run_id": str, "label": str}, pk=("run_id", "label"))

    real = dict(migrations.MIGRATIONS)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", REAL + 2)
    monkeypatch.setattr(migrations, "MIGRATIONS",
                        {**real, REAL: add_priority, REAL + 1: add_labels})
    return ran


def test_real_stores_are_at_version_seven_with_six_steps() -> None:
    assert schema.SCHEMA_VERSION == 7
    assert list(migrations.MIGRATIONS.items()) == [
        (1, migrations.task_failures_and_activity_progress), (2, migrations.retention),
        (3, migrations.worker_registry), (4, migrations.query_channel),
        (5, migrations.search_attributes), (6, migrations.update_headers)]


def test_a_version_1_store_gains_task_failures_and_activity_progress(tmp_path: Path) -> None:
    path = tmp_path / "replay.db"
    make_v1_store(path, [("r1", [started(), activity(2), task_done(3)]),
                         ("r2", [started("wf-2")])])
    store = SqliteStore(path)
    try:
        assert meta_version(path) == str(REAL)
        run = store.get_run("r1")
        assert run is not None and run.search_attributes == {}
        assert store.count_query("ExecutionStatus = 'Running'") == 2
        assert run is not None and (run.task_attempt, run.task_failure) == (0, None)
        assert store.list_runs(task_failing=True) == []
        [pending] = store.pending_activities("r1")
        assert (pending.activity_type, pending.attempt, pending.last_failure) == ("charge", 0,
                                                                                  None)
        # the new columns are written and read on the upgraded file
        [leased] = store.lease_activity_tasks("aq", "w", T0 + 2 * SECOND, 10 * SECOND, 1)
        assert leased.attempt == 1
        store.heartbeat_activity("r1", 2, "w", ["half"], T0 + 3 * SECOND, 10 * SECOND)
        store.retry_activity("r1", 2, "w", T0 + 5 * SECOND, Failure(message="boom"))
        [pending] = store.pending_activities("r1")
        assert (pending.attempt, pending.last_failure, pending.last_heartbeat_time,
                pending.next_attempt_time, pending.state) == (
            1, Failure(message="boom"), T0 + 3 * SECOND, T0 + 5 * SECOND, "backing_off")
        failed = WorkflowTaskFailed(event_id=0, time=T0 + 4 * SECOND,
                                    failure=Failure(message="bad", type="TypeError"),
                                    attempt=1, next_retry_time=T0 + 5 * SECOND)
        store.commit([RecordTaskFailure("r2", failed)])
        [failing] = store.list_runs(task_failing=True)
        assert (failing.run_id, failing.task_attempt, failing.task_retry_at) == (
            "r2", 1, T0 + 5 * SECOND)
        # the query channel (5) and update headers (7) work on the upgraded file too
        assert store.request_update("r1", "u1", "set", [1], T0, {"t": 1}).headers == {"t": 1}
        store.pending_queries("q", "w1")
        assert store.query_pollers("q", 60) == ["w1"]
        before = store.dump_indexes()
        store.rebuild_indexes()
        assert store.dump_indexes() == before
        sig = WorkflowSignature(workflow_type="Greeter", run=HandlerSignature(name="run"))
        store.register_worker("q", "w", T0, [sig], [])  # the registry, version 4
        assert [r.signature for r in store.registered_workflows("q")] == [sig]
    finally:
        store.close()


def test_an_older_store_is_upgraded_when_opened(v1_store: Path, ran: list[str]) -> None:
    store = SqliteStore(v1_store)
    try:
        assert [e.event_id for e in store.read("r1")] == [1, 2]
        store.append("r1", [signal(3)], 2)  # the hot path works on the upgraded file
    finally:
        store.close()
    assert ran == ["add_priority", "add_labels"]
    assert meta_version(v1_store) == PLUS_2
    db = sqlite_utils.Database(v1_store, execute_plugins=False)
    try:
        assert db.table("runs").columns_dict["priority"] is int
        assert "runs_by_priority" in {index.name for index in db.table("runs").indexes}
        assert db.table("labels").exists()
    finally:
        db.close()
    SqliteStore(v1_store).close()
    assert ran == ["add_priority", "add_labels"]  # once


def test_a_store_part_way_up_runs_only_the_steps_it_lacks(v1_store: Path,
                                                         ran: list[str],
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.setattr(schema, "SCHEMA_VERSION", REAL + 1)
    SqliteStore(v1_store).close()
    assert (ran, meta_version(v1_store)) == (["add_priority"], PLUS_1)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", REAL + 2)
    SqliteStore(v1_store).close()
    assert (ran, meta_version(v1_store)) == (["add_priority", "add_labels"], PLUS_2)


def test_a_failing_step_leaves_the_file_unchanged(v1_store: Path, ran: list[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(db: sqlite_utils.Database) -> None:
        ran.append("broken")
        db.table("labels").create({"run_id": str, "label": str})
        db.execute("UPDATE runs SET status = 'gone'")
        raise ValueError("disk on fire")

    monkeypatch.setitem(migrations.MIGRATIONS, REAL + 1, broken)
    before = file_state(v1_store)
    with pytest.raises(StoreError) as err:
        SqliteStore(v1_store)
    assert ran == ["add_priority", "broken"]  # steps 1 to 3 ran, and were rolled back
    assert str(err.value) == (
        f"[RPL-S01] {v1_store}: cannot upgrade this store from schema version 1 to "
        f"{PLUS_2}: migration {PLUS_1} -> {PLUS_2} (broken) failed: ValueError: disk on fire. "
        "Nothing was changed. "
        "Open it with the replay-engine version that wrote it, or report the failure.")
    assert file_state(v1_store) == before
    assert meta_version(v1_store) == "1"


def test_a_step_that_breaks_the_schema_is_rolled_back(v1_store: Path, ran: list[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The upgraded schema is verified before the commit: a step that drops what the engine
    relies on (here an append-only trigger) changes nothing."""
    monkeypatch.setitem(migrations.MIGRATIONS, REAL + 1,
                        lambda db: db.execute("DROP TRIGGER events_no_delete"))
    before = file_state(v1_store)
    with pytest.raises(StoreError, match="after the migrations it lacks trigger events_no_delete"):
        SqliteStore(v1_store)
    assert file_state(v1_store) == before


def test_a_missing_step_is_refused_and_changes_nothing(v1_store: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 2)
    monkeypatch.setattr(migrations, "MIGRATIONS", {})
    before = file_state(v1_store)
    with pytest.raises(StoreError) as err:
        SqliteStore(v1_store)
    assert "this replay has no migration from schema version 1 to 2. Nothing was changed." in (
        str(err.value))
    assert file_state(v1_store) == before


def test_a_step_that_commits_on_its_own_is_reported(v1_store: Path, ran: list[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(migrations.MIGRATIONS, REAL + 1,
                        lambda db: db.conn.execute("COMMIT"))
    with pytest.raises(StoreError) as err:
        SqliteStore(v1_store)
    assert "(<lambda>) ended the transaction" in str(err.value)
    assert "Steps before it may have been committed." in str(err.value)


def test_an_opener_that_waited_for_the_lock_does_not_migrate_again(
        v1_store: Path, ran: list[str]) -> None:
    """Two processes that both saw version 1 before taking the lock: the second re-reads the
    version under BEGIN IMMEDIATE and finds nothing left to do."""
    SqliteStore(v1_store).close()
    conn = sqlite3.connect(v1_store, isolation_level=None)
    try:
        schema._prepare(conn, v1_store)  # what the second opener does next
    finally:
        conn.close()
    assert ran == ["add_priority", "add_labels"]
    assert meta_version(v1_store) == PLUS_2
