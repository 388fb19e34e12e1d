"""Loading a history in one pass changes nothing but the time it takes.

``History.from_json`` decodes each event with a decoder generated for its kind
and checks depth on the parsed data; on anything it does not accept it takes the
careful path (the whole text's depth scanned, every event checked against the
strict schema, then structured by the converter). Both must give equal
histories for every valid document, and the same error (message, code, rule,
event id) for every invalid one.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replay.history import EVENT_KINDS, History, HistoryError, event_from_data
from replay.history._codec import structure_event
from replay.history._fast_decode import decode_event, decode_events
from replay.history._jsontext import check_data_limits, loads
from tests.strategies import histories, json_values

Outcome = tuple[str, Any]


def careful_data(doc: Any) -> History:
    """The careful path of :meth:`History.from_data` alone."""
    check_data_limits(doc)
    return History._from_document(doc, None)


def careful(text: str | bytes) -> History:
    """The careful path alone: text checks, then the strict schema and the converter."""
    return History._from_document(loads(text), None)


def outcome(load: Any, text: str | bytes) -> Outcome:
    try:
        history = load(text)
    except HistoryError as exc:
        return "refused", (str(exc), exc.code, exc.rule, exc.event_id, type(exc))
    return "loaded", (history.run_id, history.events,
                      [type(e) for e in history.events], history.to_json())


def nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


BAD_VALUES = st.one_of(
    json_values,
    st.sampled_from([True, 1.5, -1, 2**70, "x", "2024-13-01T00:00:00", "2024-01-01",
                     "2024-01-01T00:00:00", "2024-01-01T00:00:00+05:30", [], {}, ["x"],
                     [1], {"message": "m"}, {"message": "m", "cause": {"message": 1}},
                     {"message": "m", "extra": 1}, 1e300, math.nan, math.inf, None]),
    st.integers(min_value=120, max_value=130).map(nested),
    st.integers(min_value=115, max_value=128).map(lambda d: {"message": "m",
                                                             "details": [nested(d)]}),
)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid history document with at most one thing changed in it."""
    history = draw(histories(max_steps=10))
    doc: dict[str, Any] = json.loads(history.to_json())
    events = doc["events"]
    how = draw(st.sampled_from(["none", "top", "drop", "add", "replace", "kind"]))
    event = events[draw(st.integers(0, len(events) - 1))]
    if how == "top":
        key = draw(st.sampled_from(["format", "version", "run_id", "workflow_id",
                                    "workflow_type", "events", "other"]))
        doc[key] = draw(BAD_VALUES)
    elif how == "drop":
        del event[draw(st.sampled_from(sorted(event)))]
    elif how == "add":
        event[draw(st.sampled_from(["extra", "kind", "event_id", "time"]))] = draw(BAD_VALUES)
    elif how == "replace":
        event[draw(st.sampled_from(sorted(event)))] = draw(BAD_VALUES)
    elif how == "kind":
        event["kind"] = draw(st.sampled_from(sorted(EVENT_KINDS)))
    return doc


@given(histories(max_steps=20))
def test_a_valid_history_loads_to_the_same_events_either_way(history: History) -> None:
    text = history.to_json(indent=None)
    fast = outcome(History.from_json, text)
    assert fast == outcome(careful, text)
    assert fast[0] == "loaded" and fast[1][1] == history.events


@given(documents())
def test_a_changed_document_is_loaded_or_refused_the_same_either_way(
        doc: dict[str, Any]) -> None:
    text = json.dumps(doc)
    assert outcome(History.from_json, text) == outcome(careful, text)
    raw = text.encode()
    assert outcome(History.from_json, raw) == outcome(careful, raw)
    assert outcome(History.from_data, json.loads(text)) == outcome(careful_data,
                                                                   json.loads(text))


@given(documents())
def test_from_data_leaves_the_document_as_it_was(doc: dict[str, Any]) -> None:
    # from_json consumes the document it parsed as it decodes; a caller's must stay whole
    before = copy.deepcopy(doc)
    with contextlib.suppress(HistoryError):
        History.from_data(doc)
    assert doc == before


@given(histories(max_steps=10))
def test_consuming_the_events_list_decodes_the_same_events(history: History) -> None:
    raw = json.loads(history.to_json())["events"]
    kept = decode_events(raw)
    assert kept is not None and raw == json.loads(history.to_json())["events"]
    consumed = decode_events(raw, consume=True)
    assert consumed == kept == list(history.events)
    assert raw == [None] * len(history)


@given(documents(), st.integers(min_value=4290, max_value=4310))
def test_a_long_integer_is_refused_the_same_either_way(doc: dict[str, Any],
                                                        digits: int) -> None:
    text = json.dumps(doc).replace('"event_id": 1,', f'"event_id": {"7" * digits},', 1)
    assert outcome(History.from_json, text) == outcome(careful, text)


@given(documents())
def test_each_event_decodes_as_the_converter_decodes_it(doc: dict[str, Any]) -> None:
    for raw in doc["events"] if type(doc["events"]) is list else []:
        fast = decode_event(raw)
        if fast is not None:  # None: the careful path decides (and names what is wrong)
            assert fast == structure_event(raw) == event_from_data(raw)
            assert _types(fast) == _types(structure_event(raw))


@pytest.mark.parametrize("limit", [0, 640, 5000])
def test_the_interpreters_own_integer_limit_changes_nothing(limit: int) -> None:
    doc = json.loads(History.from_json(_SMALL).to_json())
    doc["events"][0]["random_seed"] = int("9" * 600)
    long = json.dumps(doc).replace("9" * 600, "9" * 4301)
    saved = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(limit)
    try:
        for text in (json.dumps(doc), long):
            assert outcome(History.from_json, text) == outcome(careful, text)
    finally:
        sys.set_int_max_str_digits(saved)


_SMALL = json.dumps({
    "format": "replay-history", "version": 1, "run_id": "r",
    "events": [{"kind": "WorkflowStarted", "event_id": 1, "time": "2024-01-01T00:00:00+00:00",
                "workflow_type": "W", "workflow_id": "w", "task_queue": "q", "memo": {}}],
})


def _with(change: Any) -> str:
    """A small valid document (a run that failed) after ``change(doc)``."""
    doc = json.loads(_SMALL)
    doc["events"] += [
        {"kind": "ActivityScheduled", "event_id": 2, "time": "2024-01-01T00:00:00+00:00",
         "seq": 1, "activity_type": "a", "activity_id": "1", "task_queue": "q", "args": [0],
         "retry_policy": {"initial_interval": 1, "backoff_coefficient": 2.5}},
        {"kind": "WorkflowFailed", "event_id": 3, "time": "2024-01-01T00:00:01+00:00",
         "failure": {"message": "boom", "details": [0]}},
    ]
    change(doc)
    return json.dumps(doc)


def _set(path: str, value: Any) -> Any:
    """A change that sets the value at ``path`` (keys and list indexes, dot-separated)."""
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]

    def change(doc: Any) -> None:
        for part in parents:
            doc = doc[part]
        doc[last] = value
    return change


def _chain(length: int) -> dict[str, Any]:
    failure: dict[str, Any] = {"message": "last"}
    for _ in range(length - 1):
        failure = {"message": "m", "cause": failure}
    return failure


# where each value sits: its own depth in the document (the document is at depth 1)
@pytest.mark.parametrize(("path", "depth"), [
    ("workflow_id", 2), ("events.0.args", 4), ("events.0.memo.k", 5),
    ("events.2.failure.details", 5), ("events.1.args.0", 5),
])
@pytest.mark.parametrize("over", [-1, 0, 1, 2])
def test_nesting_at_and_past_the_limit_is_decided_the_same_either_way(
        path: str, depth: int, over: int) -> None:
    value = nested(128 - depth + 1 + over)  # innermost array at depth 128 + over
    text = _with(_set(path, value))
    fast = outcome(History.from_json, text)
    assert fast == outcome(careful, text)
    assert (fast[0] == "refused" and "nested deeper" in fast[1][0]) == (over > 0)


@pytest.mark.parametrize("length", [120, 122, 123, 124, 125, 126])
def test_a_cause_chain_at_and_past_the_limit_is_decided_the_same_either_way(
        length: int) -> None:
    text = _with(_set("events.2.failure", _chain(length)))
    assert outcome(History.from_json, text) == outcome(careful, text)


@pytest.mark.parametrize(("path", "value"), [
    ("events.0.time", "2024-01-01T00:00:00"),  # no zone: UTC
    ("events.0.time", "2024-01-01T02:00:00+02:00"),
    ("events.0.time", "2024-01-01"),
    ("events.0.time", "yesterday"),
    ("events.1.retry_policy.backoff_coefficient", 2),  # an integer: a float after loading
    ("events.1.retry_policy.initial_interval", 0.25),
    ("events.1.retry_policy.initial_interval", 1e300),  # no timedelta holds it
    ("events.1.retry_policy.initial_interval", math.nan),
    ("events.1.retry_policy.non_retryable_error_types", ["A", "B"]),
    ("events.1.retry_policy.non_retryable_error_types", ["A", 1]),
    ("events.1.retry_policy.maximum_attempts", True),
    ("events.1.start_to_close_timeout", None),
    ("events.1.start_to_close_timeout", "10s"),
    ("events.2.failure.cause", None),
    ("events.2.failure.cause", {"message": "inner", "non_retryable": 1}),
    ("events.2.failure.cause", {"message": "inner", "category": "BENIGN"}),
])
def test_conversions_are_the_converters(path: str, value: Any) -> None:
    text = _with(_set(path, value))
    fast = outcome(History.from_json, text)
    assert fast == outcome(careful, text)
    if fast[0] == "loaded":
        events, slow_events = fast[1][1], careful(text).events
        assert [_types(e) for e in events] == [_types(e) for e in slow_events]


def _types(value: Any) -> Any:
    """The Python types of an event's fields, nested events and failures included."""
    import attrs
    if attrs.has(type(value)):
        return (type(value), {f.name: _types(getattr(value, f.name))
                              for f in attrs.fields(type(value))})
    return type(value)


def test_a_loaded_event_shares_no_list_or_object_with_the_document() -> None:
    doc = json.loads(_with(_set("events.0.args", [[1], {"a": 1}])))
    history = History.from_data(doc)
    doc["events"][0]["args"].append("later")
    doc["events"][0]["memo"]["later"] = 1
    doc["events"][1]["retry_policy"]["non_retryable_error_types"] = ["X"]
    assert history.events == History.from_json(_with(_set("events.0.args", [[1], {"a": 1}]))
                                               ).events
