"""history/_history.py: validation of event sequences and the versioned file format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from replay.history import Append, History, HistoryError, MemoryStore, validate_events
from replay.history._kinds import TERMINAL_KINDS
from tests.strategies import Broken, broken_histories, histories

# --- validation ---------------------------------------------------------------------------------


@given(history=histories())
def test_generated_histories_are_valid(history: History) -> None:
    validate_events(history.events)
    assert history.started.event_id == 1
    assert history.is_closed == isinstance(history[-1], TERMINAL_KINDS)
    assert [e.event_id for e in history] == list(range(1, len(history) + 1))


@given(broken=broken_histories())
def test_each_broken_rule_is_reported(broken: Broken) -> None:
    with pytest.raises(HistoryError) as err:
        History("run-1", broken.events, source="h.json")
    assert (err.value.rule, err.value.event_id) == (broken.rule, broken.event_id)
    assert str(err.value).startswith(f"[RPL-H01] h.json: event {broken.event_id}: ")
    assert broken.message in str(err.value)


@given(broken=broken_histories())
def test_stores_apply_the_same_rules_incrementally(broken: Broken) -> None:
    # A store validates appends without re-reading the history; it must still agree
    # with validate_events on the rule and the event id.
    store = MemoryStore()
    with pytest.raises(HistoryError) as err:
        store.commit([Append("run-1", broken.events, 0)])
    assert (err.value.rule, err.value.event_id) == (broken.rule, broken.event_id)
    assert broken.message in str(err.value)
    assert store.list_runs() == []


def test_an_empty_history_is_refused() -> None:
    with pytest.raises(HistoryError) as err:
        History("r", [])
    assert str(err.value) == "[RPL-H01] a history needs at least a WorkflowStarted event"
    assert err.value.rule == "empty"


# --- the file format ----------------------------------------------------------------------------


@given(history=histories())
def test_json_round_trip(history: History) -> None:
    text = history.to_json()
    doc = json.loads(text)
    assert list(doc) == ["format", "version", "run_id", "workflow_id", "workflow_type",
                         "events"]
    assert (doc["format"], doc["version"]) == ("replay-history", 1)
    assert History.from_json(text) == history
    assert History.from_json(history.to_json(indent=None)) == history


def test_save_and_load(tmp_path: Path) -> None:
    history = sample()
    path = tmp_path / "h.json"
    history.save(path)
    assert path.read_text().endswith("\n")
    assert History.load(path) == history
    assert not (tmp_path / "h.json.tmp").exists()


def sample() -> History:
    doc = {
        "format": "replay-history", "version": 1, "run_id": "r1", "workflow_id": "wf",
        "workflow_type": "Greeter", "events": [
            {"kind": "WorkflowStarted", "event_id": 1, "time": "2024-01-01T00:00:00+00:00",
             "workflow_type": "Greeter", "workflow_id": "wf", "task_queue": "q"},
            {"kind": "ActivityScheduled", "event_id": 2, "time": "2024-01-01T00:00:01+00:00",
             "seq": 1, "activity_type": "greet", "activity_id": "1", "task_queue": "q",
             "start_to_close_timeout": 10.0},
            {"kind": "ActivityCompleted", "event_id": 3, "time": "2024-01-01T00:00:02+00:00",
             "scheduled_event_id": 2, "result": "hi"},
            {"kind": "WorkflowCompleted", "event_id": 4, "time": "2024-01-01T00:00:03+00:00",
             "result": "hi"},
        ]}
    return History.from_data(doc)


def doc_with(**changes: Any) -> dict[str, Any]:
    doc = sample().to_data()
    doc.update(changes)
    return doc


def events_with(index: int, **changes: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = sample().to_data()["events"]
    events[index] = {**events[index], **changes}
    return events


BAD_FILES: list[tuple[str, Any, str, str]] = [
    ("malformed json", '{"format": "replay-history",', "json",
     "<string>: malformed JSON at line 1 column 29: Expecting property name enclosed in "
     "double quotes"),
    ("not an object", "[1, 2]", "document",
     "a history document must be a JSON object, got list"),
    ("unknown format", doc_with(format="temporal"), "format",
     "unknown format 'temporal'; expected 'replay-history'"),
    ("unknown version", doc_with(version=2), "version",
     "unsupported version 2; this library reads versions 1. Upgrade replay-engine to read "
     "newer files."),
    ("extra top-level field", doc_with(comment="x"), "document",
     "unknown top-level fields: comment"),
    ("missing run id", doc_with(run_id=None), "document", "'run_id' must be a non-empty string"),
    ("events not a list", doc_with(events={}), "document", "'events' must be a list"),
    ("unknown kind", doc_with(events=events_with(1, kind="Pickle")), "unknown-kind",
     "event 2: unknown event kind 'Pickle'; known kinds: "),
    ("missing field", doc_with(events=[{k: v for k, v in sample().to_data()["events"][0].items()
                                        if k != "task_queue"}]), "event-fields",
     "event 1: bad WorkflowStarted event: required field missing @ $.task_queue"),
    ("extra field", doc_with(events=events_with(0, color="red")), "event-fields",
     "event 1: bad WorkflowStarted event: extra fields found (color) @ $"),
    ("id gap", doc_with(events=events_with(3, event_id=6)), "contiguous-ids",
     "event 6: gap in event ids: expected id 4, found 6"),
    ("duplicate id", doc_with(events=events_with(3, event_id=3)), "contiguous-ids",
     "event 3: duplicate event ids: expected id 4, found 3"),
    ("event after terminal", doc_with(events=[*sample().to_data()["events"], {
        "kind": "SignalReceived", "event_id": 5, "time": "2024-01-01T00:00:04+00:00",
        "signal_name": "late"}]), "after-terminal",
     "event 5: SignalReceived comes after terminal event 4; nothing may follow the end of a run"),
    ("result for unknown command", doc_with(events=events_with(2, scheduled_event_id=1)),
     "unknown-command", "event 3: ActivityCompleted.scheduled_event_id=1 must name an earlier "
     "ActivityScheduled, but that id is a WorkflowStarted"),
]


@pytest.mark.parametrize(("case", "content", "rule", "message"), BAD_FILES,
                         ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_refused_with_a_clear_message(
    tmp_path: Path, case: str, content: Any, rule: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    before = path.read_bytes()
    with pytest.raises(HistoryError) as err:
        History.load(path)
    assert err.value.rule == rule
    expected = f"[RPL-H01] {path}: {message.removeprefix('<string>: ')}"
    assert str(err.value).startswith(expected)
    assert path.read_bytes() == before
    text = path.read_text()
    with pytest.raises(HistoryError) as from_text:
        History.from_json(text)
    assert message.removeprefix("<string>: ") in str(from_text.value)


def test_missing_file() -> None:
    with pytest.raises(HistoryError) as err:
        History.load("/nonexistent/h.json")
    assert str(err.value) == "[RPL-H01] /nonexistent/h.json: cannot read: No such file or directory"
    assert err.value.rule == "io"
