"""The event rows a SqliteStore encodes before it takes the file's write lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay.history import Append, Deliver, Event, Operation, SqliteStore, Start, _sqlite_rows
from replay.history._sqlite_rows import encode_ahead, event_row
from tests.history.samples import signal, started


def test_events_are_encoded_before_the_transaction_as_they_are_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = started("wf-1")
    second = signal(event_id=2)
    renumbered = signal(event_id=9)  # a delivery's id is the run's next: 3, not 9
    ops: list[Operation] = [Start("run-1", first), Append("run-1", [second], 1),
                            Deliver("run-1", renumbered)]
    encoded = encode_ahead([ops])
    assert encoded[id(first)] == event_row("run-1", first)
    assert encoded[id(second)] == event_row("run-1", second)
    encoded_ids: list[int] = []

    def counted(run_id: str, event: Event) -> tuple[str, int, str, str, str]:
        encoded_ids.append(event.event_id)
        return event_row(run_id, event)

    monkeypatch.setattr(_sqlite_rows, "event_row", counted)
    with SqliteStore(tmp_path / "encoded.db") as store:
        store.commit_each([ops[:2], ops[2:]])
        events = store.read("run-1")
    # each event once, ahead; the delivery again in the transaction, under its new id
    assert encoded_ids == [1, 2, 9, 3]
    assert [e.event_id for e in events] == [1, 2, 3]
    assert events[:2] == [first, second]
    assert events[2] == signal(event_id=3)

