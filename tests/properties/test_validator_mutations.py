"""The history validator on mutated histories: it accepts or raises HistoryError, nothing else.

Valid histories (tests/strategies.py) lose, gain or reorder result events; ids
are renumbered so the id rule does not hide the others. Whatever comes out is
either a history the rules allow or refused with a HistoryError, from events
and from the JSON text alike. A copy of a result appended to the run is always
refused.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from replay.history import (
    REFERENCES,
    TERMINAL_KINDS,
    Event,
    History,
    HistoryError,
    event_to_data,
    validate_events,
)
from replay.history._validate import ENDING_KINDS, _Checker
from tests.strategies import histories

MUTATIONS = ("drop", "duplicate", "reorder")


def _renumber(events: list[Event]) -> list[Event]:
    return [attrs.evolve(e, event_id=i) for i, e in enumerate(events, start=1)]


@st.composite
def mutated(draw: st.DrawFn) -> list[Event]:
    """A valid history with result events dropped, duplicated or moved, ids renumbered."""
    events = list(draw(histories(max_steps=16)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        results = [i for i, e in enumerate(events) if type(e) in ENDING_KINDS]
        if not results:
            break
        i = draw(st.sampled_from(results))
        how = draw(st.sampled_from(MUTATIONS))
        if how == "drop":
            del events[i]
        elif how == "duplicate":
            events.insert(draw(st.integers(min_value=1, max_value=len(events))), events[i])
        else:
            moved = events.pop(i)
            events.insert(draw(st.integers(min_value=1, max_value=len(events))), moved)
    return _renumber(events)


def _accepted_or_refused(check: Any) -> None:
    try:
        check()
    except HistoryError as exc:
        assert str(exc).startswith("[RPL-H01] ") and exc.rule, str(exc)


@given(mutated())
def test_a_mutated_history_is_accepted_or_refused(events: list[Event]) -> None:
    _accepted_or_refused(lambda: validate_events(events))


@given(mutated())
def test_a_mutated_history_file_is_accepted_or_refused(events: list[Event]) -> None:
    doc = {"format": "replay-history", "version": 1, "run_id": "run-1",
           "events": [event_to_data(e) for e in events]}
    _accepted_or_refused(lambda: History.from_json(json.dumps(doc), source="m.json"))


@given(histories(max_steps=16), st.data())
def test_a_copy_of_a_result_is_always_refused(history: History, data: st.DataObject) -> None:
    events = list(history.events)
    results = [e for e in events if type(e) in ENDING_KINDS]
    if not results:
        return
    copy = data.draw(st.sampled_from(results))
    closed = type(events[-1]) in TERMINAL_KINDS
    at = len(events) - 1 if closed else len(events)
    events.insert(at, copy)
    try:
        validate_events(_renumber(events), source="h.json")
    except HistoryError as exc:
        assert exc.event_id == at + 1
        assert exc.rule in ("duplicate-result", "timer-fired-twice", "timer-fired-after-cancel",
                            "timer-canceled-after-fire", "timer-canceled-twice",
                            "update-completed-twice"), exc.rule
    else:
        raise AssertionError(f"a second {type(copy).__name__} was accepted")


@st.composite
def scrambled(draw: st.DrawFn) -> list[Event]:
    """A valid history with any events dropped, copied or moved, a result pointed at another
    event, and ids renumbered or not (so every rule, the id rule included, gets broken)."""
    events = list(draw(histories(max_steps=16)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        results = [i for i, e in enumerate(events) if type(e) in ENDING_KINDS]
        among_results = bool(results) and draw(st.booleans())
        i = draw(st.sampled_from(results) if among_results
                 else st.integers(min_value=0, max_value=len(events) - 1))
        how = draw(st.sampled_from((*MUTATIONS, "renumber-one", "retarget")))
        if how == "drop" and len(events) > 1:
            del events[i]
        elif how == "duplicate":
            events.insert(draw(st.integers(min_value=0, max_value=len(events))), events[i])
        elif how == "reorder":
            moved = events.pop(i)
            events.insert(draw(st.integers(min_value=0, max_value=len(events))), moved)
        elif how == "renumber-one":
            events[i] = attrs.evolve(events[i], event_id=draw(st.integers(-1, len(events) + 1)))
        elif how == "retarget":
            referring = [k for k, e in enumerate(events) if type(e) in REFERENCES]
            if referring:
                k = draw(st.sampled_from(referring))
                field, _ = REFERENCES[type(events[k])]
                target: Any = draw(st.integers(0, k + 1))
                events[k] = attrs.evolve(events[k], **{field: target})
    return events if draw(st.integers(0, 3)) == 0 else _renumber(events)


def _one_by_one(events: list[Event]) -> None:
    """The validator's rules applied to each event in turn, with nothing inline."""
    checker = _Checker(None)
    for event in events:
        checker.add(event)


def _verdict(check: Any) -> tuple[str, str | None, str | None, int | None]:
    try:
        check()
    except HistoryError as exc:
        return "refused", str(exc), exc.rule, exc.event_id
    return "accepted", None, None, None


@settings(max_examples=200)
@given(st.one_of(scrambled(), mutated()))
def test_the_inline_checks_decide_as_the_rules_do_one_by_one(events: list[Event]) -> None:
    assert _verdict(lambda: validate_events(events)) == _verdict(lambda: _one_by_one(events))
