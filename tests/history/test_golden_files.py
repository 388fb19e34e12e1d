"""Every saved history in fixtures/histories/ still loads (the format's compatibility promise)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from replay.history import History, WorkflowTaskCompleted, event_from_data, event_to_data

FILES = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "histories").glob("*.json"))


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_golden_history_loads_and_round_trips(path: Path) -> None:
    history = History.load(path)
    assert json.loads(path.read_text())["version"] == 1
    assert History.from_json(history.to_json()) == history


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_golden_history_re_encodes_byte_for_byte(path: Path) -> None:
    # fields added to the format later (WorkflowTaskCompleted.code_fingerprint) are left
    # out at their default, so files written before them do not change
    assert History.load(path).to_json() + "\n" == path.read_text(encoding="utf-8")


def test_a_field_added_later_is_written_only_when_set() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    assert event_to_data(WorkflowTaskCompleted(event_id=2, time=when)) == {
        "kind": "WorkflowTaskCompleted", "event_id": 2, "time": "2026-01-01T00:00:00+00:00",
        "identity": ""}
    marked = WorkflowTaskCompleted(event_id=2, time=when, code_fingerprint="0123456789abcdef")
    data = event_to_data(marked)
    assert data["code_fingerprint"] == "0123456789abcdef"
    assert event_from_data(data) == marked
