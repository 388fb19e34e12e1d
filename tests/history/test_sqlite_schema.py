"""history/_sqlite_schema.py: a replay store must be whole before it is used."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from replay.history import SqliteStore, Start, StoreError
from replay.history._sqlite_schema import DDL, SCHEMA_VERSION, Schema, expected_schema
from tests.history.samples import started


def file_state(path: Path) -> tuple[bytes, int, list[str]]:
    return path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))


def make_store(path: Path, *alterations: str) -> None:
    """A store with one run, then changed by raw SQL as something other than replay would."""
    store = SqliteStore(path)
    store.commit([Start("r1", started())])
    store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in alterations:
            conn.execute(statement)
    finally:
        conn.close()


def test_the_expected_schema_is_read_back_from_the_ddl() -> None:
    schema = expected_schema()
    assert set(schema.columns) == {
        "meta", "events", "runs", "workflow_tasks", "activity_tasks", "timers",
        "update_requests", "pruned_runs", "pruning", "registrations", "query_requests",
        "query_pollers", "search_attributes"}
    assert schema.columns["events"] == {"run_id", "event_id", "kind", "time", "data"}
    assert schema.triggers == {"events_no_update": "events", "events_no_delete": "events",
                               "pruned_runs_no_update": "pruned_runs",
                               "pruned_runs_no_delete": "pruned_runs"}
    assert "runs_one_open" in schema.indexes
    assert len(schema.indexes) == sum(s.startswith("CREATE") and " INDEX " in s for s in DDL)


def test_a_new_store_has_exactly_the_expected_schema(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "replay.db").close()
    conn = sqlite3.connect(tmp_path / "replay.db")
    try:
        assert Schema.read(conn) == expected_schema()
    finally:
        conn.close()


@pytest.mark.parametrize("trigger", ["events_no_update", "events_no_delete"])
def test_a_store_without_an_append_only_trigger_is_refused_and_left_alone(
        tmp_path: Path, trigger: str) -> None:
    path = tmp_path / "replay.db"
    make_store(path, f"DROP TRIGGER {trigger}")
    before = file_state(path)
    with pytest.raises(StoreError) as err:
        SqliteStore(path)
    assert str(err.value) == (
        f"[RPL-S01] {path}: this replay store (schema version {SCHEMA_VERSION}) lacks trigger "
        f"{trigger} "
        "(on events). The events_no_update and events_no_delete triggers are what keeps the "
        "events table append-only; without them a history could be rewritten. Nothing was "
        "changed. Something other than replay altered the file: restore it from a backup.")
    assert file_state(path) == before


def test_every_missing_part_is_named(tmp_path: Path) -> None:
    path = tmp_path / "replay.db"
    make_store(path, "DROP TABLE timers", "DROP INDEX runs_by_deadline",
               "ALTER TABLE runs DROP COLUMN deadline")
    before = file_state(path)
    with pytest.raises(StoreError) as err:
        SqliteStore(path)
    assert ("lacks column runs.deadline, table timers, index runs_by_deadline, "
            "index timers_by_fire_at. Nothing was changed.") in str(err.value)
    assert file_state(path) == before


def test_extra_tables_and_columns_are_tolerated(tmp_path: Path) -> None:
    """What a user (or a later migration) adds beside ours does not make a store unusable."""
    path = tmp_path / "replay.db"
    make_store(path, "CREATE TABLE notes (text TEXT)", "ALTER TABLE runs ADD COLUMN tag TEXT")
    store = SqliteStore(path)
    try:
        assert store.last_event_id("r1") == 1
    finally:
        store.close()
