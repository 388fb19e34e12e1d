"""history/_sqlite_lock.py (a writer gets the GIL back soon while it holds the write lock)
and the event rows a SqliteStore encodes before it takes the lock."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from replay.history import Append, Deliver, Operation, SqliteStore, Start
from replay.history._sqlite_lock import URGENT_SWITCH_INTERVAL, urgent
from replay.history._sqlite_rows import encode_ahead, event_row
from tests.history.samples import signal, started

WAIT = 30.0  # seconds: a bound for events that should come at once, never reached


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


def test_a_stores_write_waits_for_the_lock_and_the_fsync_with_the_short_interval(
        tmp_path: Path) -> None:
    before = sys.getswitchinterval()
    seen: list[tuple[str, float]] = []
    with SqliteStore(tmp_path / "urgent.db") as store:
        store._writer.set_trace_callback(
            lambda sql: seen.append((sql.split()[0], sys.getswitchinterval())))
        store.commit([Start("run-1", started("wf-1"))])
        store._writer.set_trace_callback(None)
    intervals = dict(seen)
    assert intervals["BEGIN"] == pytest.approx(URGENT_SWITCH_INTERVAL)
    assert intervals["COMMIT"] == pytest.approx(URGENT_SWITCH_INTERVAL)
    # planning and the statements between run with the process's own interval (two
    # threads running Python would only pay for switches)
    assert intervals["INSERT"] == before
    assert sys.getswitchinterval() == before
