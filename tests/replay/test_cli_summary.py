"""replay/_cli/_summary.py: event summaries follow the kind tables of replay.history."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay._cli._summary import summarize
from replay.history import EVENT_KINDS, REFERENCES, Event, History, UpdateCompleted

HISTORIES = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "histories")
                   .glob("**/*.json"))


def _events() -> list[Event]:
    return [e for path in HISTORIES for e in History.load(path).events]


def test_the_fixtures_hold_every_result_kind() -> None:
    assert {type(e) for e in _events()} >= set(REFERENCES)


@pytest.mark.parametrize("kind", sorted(k.__name__ for k in REFERENCES
                                        if k is not UpdateCompleted))
def test_a_result_names_the_event_its_reference_field_holds(kind: str) -> None:
    cls = EVENT_KINDS[kind]
    field, _ = REFERENCES[cls]
    found = [e for e in _events() if type(e) is cls]
    assert found
    for event in found:
        assert f"of event {getattr(event, field)}" in summarize(event)

