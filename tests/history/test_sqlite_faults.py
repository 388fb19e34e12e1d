"""history/_sqlite_faults.py: which SQLite errors pass (retry) and which do not (stop)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from replay.history import (
    Deliver,
    SqliteStore,
    Start,
    StoreCorruptError,
    StoreError,
    StoreUnavailableError,
)
from replay.history._sqlite_faults import store_fault
from tests.history.samples import signal, started

PAGE = 4096


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "faults.db"


@pytest.fixture
def blocker(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection to the file, to hold its write lock."""
    SqliteStore(path).close()
    conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    yield conn
    conn.close()


def _fill(path: Path, runs: int) -> None:
    with SqliteStore(path, synchronous="OFF") as store:
        for i in range(runs):
            store.commit([Start(f"run-{i}", started(f"wf-{i}"))])


def _scribble(path: Path, first_page: int, last_page: int) -> None:
    """Overwrite the start of each page in [first_page, last_page) (0-based) with junk."""
    with path.open("r+b") as f:
        for page in range(first_page, last_page):
            f.seek(page * PAGE)
            f.write(bytes(range(256)) * 2)


def test_a_write_lock_held_past_the_busy_timeout_is_a_passing_fault(
        path: Path, blocker: sqlite3.Connection) -> None:
    store = SqliteStore(path, busy_timeout_ms=50)
    try:
        store.commit([Start("run-1", started("wf-1"))])
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailableError) as err:
            store.commit([Deliver("run-1", signal())])
        assert err.value.code == "RPL-S07" and err.value.reason == "SQLITE_BUSY"
        assert isinstance(err.value, StoreError)
        assert str(err.value).startswith(f"[RPL-S07] {path}: SQLite error: database is locked "
                                         "(SQLITE_BUSY): the store is unavailable for now; "
                                         "nothing was written. Another connection held")
        assert store.last_event_id("run-1") == 1  # reads go on (WAL) and nothing was written
        blocker.execute("ROLLBACK")
        store.commit([Deliver("run-1", signal())])  # the same call succeeds once it clears
        assert store.last_event_id("run-1") == 2
    finally:
        store.close()


def test_a_full_database_is_a_passing_fault(path: Path) -> None:
    # SQLITE_FULL from a real write: max_page_count caps this connection's file size
    # (the worker-level test fills a real file system instead).
    SqliteStore(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 1}")
    with pytest.raises(sqlite3.OperationalError) as raw:
        conn.execute("INSERT INTO meta (key, value) VALUES ('filler', ?)", ("x" * 20 * PAGE,))
    conn.close()
    fault = store_fault(path, raw.value)
    assert isinstance(fault, StoreUnavailableError) and fault.reason == "SQLITE_FULL"
    assert "database or disk is full (SQLITE_FULL)" in str(fault)
    assert "free space and retry" in str(fault)


def test_a_read_only_file_is_not_a_passing_fault(path: Path) -> None:
    SqliteStore(path).close()
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError) as raw:
        conn.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")
    conn.close()
    fault = store_fault(path, raw.value)
    assert type(fault) is StoreError
    assert "(SQLITE_READONLY): the store file (or its folder) is read-only" in str(fault)


def test_damaged_pages_are_reported_as_corruption_with_quick_check_findings(
        path: Path) -> None:
    _fill(path, 300)
    pages = path.stat().st_size // PAGE
    _scribble(path, pages - 8, pages)  # the last pages (runs and events), not the schema
    before = path.read_bytes()
    with pytest.raises(StoreCorruptError) as err, SqliteStore(path) as store:
        for i in range(300):
            store.read(f"run-{i}")
    message = str(err.value)
    assert message.startswith(f"[RPL-S08] {path}: the store file is corrupt: SQLite reports "
                              "'database disk image is malformed'; PRAGMA quick_check found: ")
    assert "Page " in err.value.check  # which pages are broken
    assert "restore the file from a backup" in message
    assert "not a replay store" not in message
    assert path.read_bytes() == before


def test_a_damaged_header_of_a_sqlite_file_is_corruption_not_a_foreign_file(
        path: Path) -> None:
    _fill(path, 3)
    with path.open("r+b") as f:  # keep the 16-byte magic string, break the rest of page 1
        f.seek(16)
        f.write(b"\xff" * 84)
    with pytest.raises(StoreCorruptError) as err:
        SqliteStore(path)
    assert "the store file is corrupt: SQLite reports 'file is not a database'" in \
        str(err.value)
    assert "PRAGMA quick_check could not run: file is not a database" in err.value.check


def test_a_damaged_schema_is_corruption_not_a_foreign_database(path: Path) -> None:
    _fill(path, 3)
    _scribble(path, 1, os.path.getsize(path) // PAGE)  # every page but the first
    with pytest.raises(StoreCorruptError) as err:
        SqliteStore(path)
    assert "not a replay store" not in str(err.value)
    assert "the store file is corrupt" in str(err.value)
