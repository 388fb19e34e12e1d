"""history/_validate.py: impossible event sequences are refused, naming file, event and rule."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from replay.history import History, HistoryError, TimerFired, validate_events

from .bad_histories import SEMANTIC, Bad, fixture, refused


@pytest.mark.parametrize("bad", SEMANTIC, ids=[b.name for b in SEMANTIC])
def test_an_impossible_sequence_is_refused(tmp_path: Path, bad: Bad) -> None:
    refused(tmp_path, bad)


def test_events_built_in_code_meet_the_same_rules() -> None:
    history = History.load(Path(__file__).parents[2] / "fixtures" / "histories" / "timers.json")
    events = list(history.events)
    again = attrs.evolve(events[3], event_id=len(events))
    assert isinstance(again, TimerFired)
    bad = [*events[:-1], again, attrs.evolve(events[-1], event_id=len(events) + 1)]
    with pytest.raises(HistoryError) as err:
        History("run-1", bad)
    assert err.value.rule == "timer-fired-twice"
    with pytest.raises(HistoryError):
        validate_events(bad, source="code")


def test_each_fixture_used_by_the_catalogue_is_valid() -> None:
    for name in ("orders_happy", "timers", "cancelled", "family", "approval", "failing"):
        History.from_data(fixture(name), source=name)

