"""history/_retention.py and each store's prune_run: the one path allowed to delete.

On every store: closed runs past the cutoff are exported (files read back) and
removed with their index rows, audited; running runs are never pruned. On
SQLite and PostgreSQL, raw SQL shows the triggers still refuse every other
DELETE and UPDATE.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from replay.history import (
    Failure,
    History,
    MemoryStore,
    PostgresStore,
    RunNotPrunableError,
    SqliteStore,
    Start,
    Store,
    WorkflowCompleted,
    WorkflowFailed,
    prune_closed_runs,
)
from tests.history.conftest import STORE_KINDS
from tests.history.samples import SECOND, activity, signal, started, task_done, timer
from tests.history.store_v1 import make_v1_store
from tests.strategies import T0


def fill(store: Store) -> None:
    """old-ok (completed at T0+5s), old-failed (failed at T0+6s), new-ok (completed at
    T0+100s) and open (running, with a pending activity and timer)."""
    store.commit([Start("old-ok", started("wf-a")), Start("old-failed", started("wf-b")),
                  Start("new-ok", started("wf-c")), Start("open", started("wf-d"))])
    store.append("old-ok", [activity(2), timer(3), task_done(4),
                            WorkflowCompleted(event_id=5, time=T0 + 5 * SECOND, result="x")], 1)
    store.append("old-failed", [task_done(2), WorkflowFailed(
        event_id=3, time=T0 + 6 * SECOND, failure=Failure(message="no"))], 1)
    store.append("new-ok", [WorkflowCompleted(event_id=2, time=T0 + 100 * SECOND)], 1)
    store.append("open", [activity(2), timer(3), task_done(4)], 1)


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_closed_runs_past_the_cutoff_are_exported_and_removed(
        kind: str, make_store: Callable[[str], Store], tmp_path: Path) -> None:
    store = make_store(kind)
    fill(store)
    old = store.history("old-ok")
    kept = {r: store.history(r) for r in ("new-ok", "open")}
    open_indexes = (store.pending_activities("open"), store.due_timers(T0 + 99 * SECOND))

    dry = prune_closed_runs(store, T0 + 50 * SECOND, dry_run=True)
    assert [p.run.run_id for p in dry] == ["old-ok", "old-failed"]
    assert store.get_run("old-ok") is not None and not (tmp_path / "out").exists()

    seen: list[str] = []
    pruned = prune_closed_runs(store, T0 + 50 * SECOND, statuses=["completed"],
                               export_to=tmp_path / "out",
                               progress=lambda p: seen.append(p.run.run_id))
    assert seen == ["old-ok"] and [(p.event_count, p.exported_to) for p in pruned] == [
        (5, str(tmp_path / "out" / "old-ok.json"))]
    assert History.load(tmp_path / "out" / "old-ok.json") == old
    assert store.get_run("old-ok") is None and store.last_event_id("old-ok") == 0
    assert store.pending_activities("old-ok") == []
    assert [t.run_id for t in store.due_timers(T0 + 99 * SECOND)] == ["open"]
    assert store.get_run("old-failed") is not None  # another status: kept
    assert {r: store.history(r) for r in kept} == kept
    assert (store.pending_activities("open"), store.due_timers(T0 + 99 * SECOND)) == (
        open_indexes[0], [t for t in open_indexes[1] if t.run_id == "open"])

    # far in the future: every closed run goes, the running one never
    everything = prune_closed_runs(store, T0 + 10**6 * SECOND)
    assert [p.run.run_id for p in everything] == ["old-failed", "new-ok"]
    assert [r.run_id for r in store.list_runs()] == ["open"]
    with pytest.raises(RunNotPrunableError, match=r"RPL-S10.*'open' is running"):
        store.prune_run("open")  # type: ignore[attr-defined]
    assert store.history("open") == kept["open"]
    assert store.prune_run("never-was") == 0  # type: ignore[attr-defined]
    # the index of a pruned run is rebuilt the same way (nothing of it comes back)
    before = store.dump_indexes()  # type: ignore[attr-defined]
    store.rebuild_indexes()
    assert store.dump_indexes() == before  # type: ignore[attr-defined]


def test_memory_store_keeps_an_audit() -> None:
    store = MemoryStore()
    fill(store)
    prune_closed_runs(store, T0 + 50 * SECOND)
    assert [(info.run_id, n, where) for info, n, where in store.pruned_runs] == [
        ("old-ok", 5, None), ("old-failed", 3, None)]


def raw_sqlite(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_sqlite_audit_row_and_triggers_refuse_every_other_delete(tmp_path: Path) -> None:
    path = tmp_path / "replay.db"
    store = SqliteStore(path)
    fill(store)
    prune_closed_runs(store, T0 + 50 * SECOND, statuses=["completed"], export_to=tmp_path)
    store.close()
    conn = raw_sqlite(path)
    try:
        audit = conn.execute("SELECT run_id, workflow_id, status, event_count, exported_to, "
                             "pruned_at > 0 FROM pruned_runs").fetchall()
        assert audit == [("old-ok", "wf-a", "completed", 5, str(tmp_path / "old-ok.json"), 1)]
        assert conn.execute("SELECT count(*) FROM pruning").fetchone() == (0,)
        for table in ("runs", "workflow_tasks", "activity_tasks", "timers", "events"):
            assert conn.execute(f"SELECT count(*) FROM {table} WHERE run_id = 'old-ok'"
                                ).fetchone() == (0,), table
        refused = [
            "DELETE FROM events", "DELETE FROM events WHERE run_id = 'old-failed'",
            "UPDATE events SET data = '{}'", "UPDATE events SET run_id = 'x'",
            "DELETE FROM pruned_runs", "UPDATE pruned_runs SET status = 'failed'",
        ]
        for statement in refused:
            with pytest.raises(sqlite3.IntegrityError, match=r"append-only.*RPL-S01"):
                conn.execute(statement)
        # a marker alone (no audit row) does not open the door
        conn.execute("BEGIN")
        conn.execute("INSERT INTO pruning (run_id) VALUES ('old-failed')")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM events WHERE run_id = 'old-failed'")
        conn.execute("ROLLBACK")
        # nor a marker and an audit row for a running run
        conn.execute("BEGIN")
        conn.execute("INSERT INTO pruning (run_id) VALUES ('open')")
        conn.execute("INSERT INTO pruned_runs (run_id, workflow_id, workflow_type, status, "
                     "start_time, event_count, pruned_at) VALUES ('open', 'wf-d', 'Greeter', "
                     "'running', 0, 4, 0)")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM events WHERE run_id = 'open'")
        conn.execute("ROLLBACK")
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (3 + 2 + 4,)
    finally:
        conn.close()


def test_a_version_1_sqlite_store_gains_retention(tmp_path: Path) -> None:
    path = tmp_path / "replay.db"
    make_v1_store(path, [("r1", [started(), signal(2), task_done(3)])])
    conn = raw_sqlite(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM events")  # the old unconditional trigger
    conn.close()
    store = SqliteStore(path)
    try:
        store.append("r1", [WorkflowCompleted(event_id=4, time=T0 + 2 * SECOND)], 3)
        assert [p.event_count for p in prune_closed_runs(store, T0 + 3 * SECOND)] == [4]
        assert store.get_run("r1") is None
    finally:
        store.close()
    conn = raw_sqlite(path)
    try:
        assert conn.execute("SELECT run_id FROM pruned_runs").fetchall() == [("r1",)]
    finally:
        conn.close()


def test_postgres_prune_goes_through_prune_run(postgres_url: str,
                                               postgres_schemas: Callable[[], str],
                                               tmp_path: Path) -> None:
    store = PostgresStore(postgres_url, schema=postgres_schemas())
    try:
        fill(store)
        prune_closed_runs(store, T0 + 50 * SECOND, export_to=tmp_path)
        with pytest.raises(RunNotPrunableError):
            store.prune_run("open")
        with psycopg.connect(postgres_url, autocommit=True,
                             options=f"-c search_path={store.schema}") as conn:
            audit = conn.execute("SELECT run_id, status, event_count, exported_to FROM "
                                 "pruned_runs ORDER BY run_id").fetchall()
            assert audit == [("old-failed", "failed", 3, str(tmp_path / "old-failed.json")),
                             ("old-ok", "completed", 5, str(tmp_path / "old-ok.json"))]
            for table in ("runs", "workflow_tasks", "activity_tasks", "timers", "events"):
                assert conn.execute(
                    f"SELECT count(*) FROM {table} WHERE run_id LIKE 'old-%%'"
                ).fetchone() == (0,), table
            refused: list[Any] = [
                "DELETE FROM events WHERE run_id = 'new-ok'", "DELETE FROM events",
                "UPDATE events SET data = '{}'", "TRUNCATE events",
                "DELETE FROM pruned_runs", "UPDATE pruned_runs SET status = 'x'"]
            for statement in refused:
                with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                    conn.execute(statement)
        assert History.load(tmp_path / "old-ok.json").run_id == "old-ok"
        assert [r.run_id for r in store.list_runs()] == ["open", "new-ok"]
    finally:
        store.close()
