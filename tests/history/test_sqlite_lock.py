"""history/_sqlite_lock.py: taking the write lock soon after another process frees it, and
holding it without waiting long for the interpreter's lock."""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from replay.history import Append, Deliver, Operation, SqliteStore, Start
from replay.history._sqlite_lock import (
    FIRST_RETRY,
    LONGEST_RETRY,
    URGENT_SWITCH_INTERVAL,
    begin_immediate,
    urgent,
)
from replay.history._sqlite_rows import encode_ahead, event_row
from tests.history.samples import signal, started

WAIT = 30.0  # seconds: a bound for events that should come at once, never reached


@pytest.fixture
def path(tmp_path: Path) -> Path:
    SqliteStore(tmp_path / "lock.db").close()
    return tmp_path / "lock.db"


def _connect(path: Path, busy_ms: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                           timeout=busy_ms / 1000)
    conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
    return conn


@pytest.fixture
def blocker(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection to the file, to hold its write lock."""
    conn = _connect(path, 10_000)
    yield conn
    conn.close()


def test_a_free_lock_is_taken_at_once_without_sleeping(path: Path) -> None:
    conn = _connect(path, 0)
    slept: list[float] = []
    begin_immediate(conn, WAIT, slept.append)
    assert conn.in_transaction and slept == []
    conn.execute("ROLLBACK")
    conn.close()


def test_a_taken_lock_is_tried_again_after_short_sleeps_until_it_is_freed(
        path: Path, blocker: sqlite3.Connection) -> None:
    conn = _connect(path, 0)
    blocker.execute("BEGIN IMMEDIATE")
    slept: list[float] = []
    tried_a_few_times = threading.Event()
    release = threading.Event()

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 6:
            tried_a_few_times.set()
            assert release.wait(WAIT)

    worker = threading.Thread(target=begin_immediate, args=(conn, WAIT, sleep))
    worker.start()
    assert tried_a_few_times.wait(WAIT)
    blocker.execute("ROLLBACK")
    release.set()
    worker.join(WAIT)
    assert conn.in_transaction  # it took the lock once the other connection let it go
    assert slept[:6] == [FIRST_RETRY * 2 ** i if FIRST_RETRY * 2 ** i < LONGEST_RETRY
                         else LONGEST_RETRY for i in range(6)]
    assert max(slept) == LONGEST_RETRY  # never SQLite's 1, 2, 5, 10... ms
    conn.execute("ROLLBACK")
    conn.close()


def test_a_lock_held_past_the_timeout_raises_sqlites_busy_error(
        path: Path, blocker: sqlite3.Connection) -> None:
    conn = _connect(path, 0)
    blocker.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="database is locked") as err:
        begin_immediate(conn, 0.02)
    assert err.value.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
    assert not conn.in_transaction
    blocker.execute("ROLLBACK")
    conn.close()


def test_another_error_is_raised_at_once(path: Path) -> None:
    conn = _connect(path, 0)
    conn.execute("BEGIN")
    slept: list[float] = []
    with pytest.raises(sqlite3.OperationalError, match="within a transaction"):
        begin_immediate(conn, WAIT, slept.append)
    assert slept == []
    conn.execute("ROLLBACK")
    conn.close()


def test_the_stores_writer_leaves_waiting_to_begin_immediate(path: Path) -> None:
    with SqliteStore(path, busy_timeout_ms=1234) as store:
        assert store._writer.execute("PRAGMA busy_timeout").fetchone()[0] == 0
        # its readers still wait in SQLite (a read in WAL mode rarely has to)
        assert store._conn().execute("PRAGMA busy_timeout").fetchone()[0] == 1234


def test_the_switch_interval_is_short_while_any_thread_wants_the_lock() -> None:
    before = sys.getswitchinterval()
    assert before > URGENT_SWITCH_INTERVAL
    inside = threading.Event()
    leave = threading.Event()

    def other() -> None:
        with urgent():
            inside.set()
            assert leave.wait(WAIT)

    thread = threading.Thread(target=other)
    with urgent():
        assert sys.getswitchinterval() == pytest.approx(URGENT_SWITCH_INTERVAL)
        thread.start()
        assert inside.wait(WAIT)
    assert sys.getswitchinterval() == pytest.approx(URGENT_SWITCH_INTERVAL)  # other is in
    leave.set()
    thread.join(WAIT)
    assert sys.getswitchinterval() == before


def test_a_shorter_switch_interval_is_left_alone() -> None:
    before = sys.getswitchinterval()
    sys.setswitchinterval(URGENT_SWITCH_INTERVAL / 2)
    try:
        with urgent():
            assert sys.getswitchinterval() == pytest.approx(URGENT_SWITCH_INTERVAL / 2)
        assert sys.getswitchinterval() == pytest.approx(URGENT_SWITCH_INTERVAL / 2)
    finally:
        sys.setswitchinterval(before)


def test_events_are_encoded_before_the_transaction_as_they_are_written(
        tmp_path: Path) -> None:
    first = started("wf-1")
    second = signal(event_id=2)
    renumbered = signal(event_id=9)  # a delivery's id is the run's next: 3, not 9
    ops: list[Operation] = [Start("run-1", first), Append("run-1", [second], 1),
                            Deliver("run-1", renumbered)]
    encoded = encode_ahead([ops])
    assert encoded[id(first)] == event_row("run-1", first)
    assert encoded[id(second)] == event_row("run-1", second)
    with SqliteStore(tmp_path / "encoded.db") as store:
        store.commit_each([ops[:2], ops[2:]])
        events = store.read("run-1")
    assert [e.event_id for e in events] == [1, 2, 3]
    assert events[:2] == [first, second]
    assert events[2] == signal(event_id=3)
