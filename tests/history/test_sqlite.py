"""history/_sqlite*.py: what only the SQLite store does (files, processes, raw SQL)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from replay.history import (
    SignalReceived,
    SqliteStore,
    Start,
    StoreError,
    WorkflowCompleted,
)
from replay.history._sqlite_schema import SCHEMA_VERSION
from tests.history.samples import signal, started
from tests.strategies import T0

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "replay.db")
    store.commit([Start("r1", started())])
    yield store
    store.close()


def file_state(path: Path) -> tuple[bytes, int, list[str]]:
    return path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))


# --- the file -------------------------------------------------------------------------------


def test_files_are_private_to_their_owner(db: SqliteStore) -> None:
    db.commit([Start("r2", started("wf-2"))])
    for suffix in ("", "-wal", "-shm"):
        mode = stat.S_IMODE(os.stat(f"{db.path}{suffix}").st_mode)
        assert mode == 0o600, f"{suffix or 'database'} has mode {oct(mode)}"


def test_wal_mode_and_the_synchronous_option(tmp_path: Path) -> None:
    for level, number in (("FULL", 2), ("normal", 1)):
        store = SqliteStore(tmp_path / "a.db", synchronous=level)
        conn = store._conn()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == number
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        store.close()
    with pytest.raises(ValueError, match="synchronous must be one of OFF, NORMAL, FULL, EXTRA"):
        SqliteStore(tmp_path / "b.db", synchronous="sometimes")


def test_data_survives_reopening(db: SqliteStore) -> None:
    db.append("r1", [signal(2, "hello")], 1)
    db.close()
    again = SqliteStore(db.path)
    try:
        assert [e.event_id for e in again.read("r1")] == [1, 2]
        info = again.get_run("r1")
        assert info is not None and info.last_event_id == 2
    finally:
        again.close()


def test_a_closed_store_refuses_work(db: SqliteStore) -> None:
    db.close()
    with pytest.raises(StoreError) as err:
        db.read("r1")
    assert str(err.value) == f"[RPL-S01] {db.path}: the store is closed"


# --- the events table is append-only, for real -------------------------------------------------


@pytest.mark.parametrize(("sql", "verb"), [
    ("UPDATE events SET data = '{}' WHERE run_id = 'r1'", "UPDATE"),
    ("DELETE FROM events WHERE run_id = 'r1'", "DELETE"),
])
def test_raw_update_or_delete_of_events_fails(db: SqliteStore, sql: str, verb: str) -> None:
    before = db.read("r1")
    conn = sqlite3.connect(db.path)
    try:
        with pytest.raises(sqlite3.IntegrityError) as err:
            conn.execute(sql)
        assert str(err.value) == (
            f"replay: the events table is append-only; {verb} is not allowed [RPL-S01]")
    finally:
        conn.close()
    assert db.read("r1") == before


def test_only_one_open_run_per_workflow_id_even_for_raw_sql(db: SqliteStore) -> None:
    conn = sqlite3.connect(db.path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE constraint failed"):
            conn.execute(
                "INSERT INTO runs (run_id, workflow_id, workflow_type, task_queue, status, "
                "start_time, first_execution_run_id, memo) "
                "VALUES ('r9', 'wf-1', 'W', 'q', 'running', 0, 'r9', '{}')")
    finally:
        conn.close()


# --- files that are not ours ------------------------------------------------------------------


def test_a_foreign_sqlite_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO users (name) VALUES ('ada')")
    conn.commit()
    conn.close()
    before = file_state(path)
    with pytest.raises(StoreError) as err:
        SqliteStore(path)
    assert str(err.value) == (
        f"[RPL-S01] {path}: this SQLite database is not a replay store (it has tables users "
        "but no replay meta row). Nothing was changed. Point the store at a new file or at a "
        "database created by replay.")
    assert file_state(path) == before


def test_a_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "replay.db"
    SqliteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    before = file_state(path)
    with pytest.raises(StoreError) as err:
        SqliteStore(path)
    assert str(err.value) == (
        f"[RPL-S01] {path}: this store has schema version '99', newer than the versions this "
        f"replay reads (up to {SCHEMA_VERSION}). Nothing was changed. Upgrade replay-engine to "
        "open it.")
    assert file_state(path) == before


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    before = file_state(path)
    with pytest.raises(StoreError) as err:
        SqliteStore(path)
    assert str(err.value) == (
        f"[RPL-S01] {path}: not a SQLite database (file is not a database). Nothing was "
        "changed.")
    assert file_state(path) == before


# --- wake-ups -------------------------------------------------------------------------------------


async def test_stores_on_one_file_share_wake_ups(db: SqliteStore) -> None:
    other = SqliteStore(db.path)
    try:
        waiter = asyncio.create_task(db.wait_changed(30))
        await asyncio.sleep(0)
        other.commit([Start("r2", started("wf-2"))])
        assert await waiter is True
    finally:
        other.close()


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.history.append_worker", *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_ready(files: list[Path], procs: list[subprocess.Popen[str]]) -> None:
    while not all(f.exists() for f in files):
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"worker died: {p.communicate()[1]}")
        time.sleep(0.01)


async def test_wait_and_tail_see_commits_of_another_process(db: SqliteStore,
                                                            tmp_path: Path) -> None:
    ready, go = tmp_path / "ready", tmp_path / "go"
    proc = _spawn("tail-writer", str(db.path), "r1", str(ready), str(go))
    try:
        _wait_ready([ready], [proc])
        woke = asyncio.create_task(db.wait_changed(30))
        await asyncio.sleep(0)
        go.touch()
        assert await woke is True  # only the data_version poll can wake it
        async with asyncio.timeout(60):
            seen = [e async for e in db.tail("r1", after_event_id=1)]
    finally:
        _, errors = proc.communicate(timeout=60)
    assert proc.returncode == 0, errors
    assert [type(e) for e in seen] == [SignalReceived] * 10 + [WorkflowCompleted]
    assert [e.event_id for e in seen] == list(range(2, 13))


async def test_a_commit_of_another_process_before_the_wait_is_not_missed(
        db: SqliteStore, tmp_path: Path) -> None:
    token = db.change_token()
    go = tmp_path / "go"
    go.touch()
    proc = _spawn("appender", str(db.path), "r1", str(tmp_path / "ready"), str(go), "3")
    assert proc.wait(timeout=60) == 0
    assert await db.wait_changed(30, since=token) is True
    assert db.last_event_id("r1") == 4


@pytest.mark.slow
def test_four_processes_appending_to_one_run(db: SqliteStore, tmp_path: Path) -> None:
    go = tmp_path / "go"
    readies = [tmp_path / f"ready-{i}" for i in range(4)]
    procs = [_spawn("appender", str(db.path), "r1", str(r), str(go), "200") for r in readies]
    try:
        _wait_ready(readies, procs)
        go.touch()
        results = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            p.kill() if p.poll() is None else None
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in results]
    counts = [tuple(map(int, out.split())) for out, _ in results]
    print("successes, conflicts per process:", counts)
    assert all(ok + conflicts == 200 for ok, conflicts in counts)
    history = db.history("r1")  # validates: ids contiguous from 1, no duplicates
    assert len(history) == 1 + sum(ok for ok, _ in counts)
    assert len({(e.signal_name, e.args[0]) for e in history[1:]  # type: ignore[attr-defined]
                }) == len(history) - 1
    assert history[-1].time >= T0
