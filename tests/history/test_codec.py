"""history/_codec.py: events and payloads to JSON-able data and back."""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from replay.history import (
    EVENT_KINDS,
    Event,
    HistoryError,
    PayloadConverter,
    PayloadError,
    SignalReceived,
    default_converter,
    event_from_data,
    event_to_data,
)
from tests.strategies import T0, events_of, json_values


@pytest.mark.parametrize("kind", sorted(EVENT_KINDS))
@given(data=st.data())
def test_every_event_kind_round_trips_through_json(kind: str, data: st.DataObject) -> None:
    event = data.draw(events_of(EVENT_KINDS[kind]))
    encoded = event_to_data(event)
    assert next(iter(encoded)) == "kind" and encoded["kind"] == kind
    text = json.dumps(encoded)
    assert event_from_data(json.loads(text)) == event


def test_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(HistoryError) as err:
        event_from_data({"kind": "os.system", "event_id": 4}, source="h.json")
    assert str(err.value).startswith(
        "[RPL-H01] h.json: event 4: unknown event kind 'os.system'; known kinds: "
        "ActivityCancelRequested, ActivityCanceled,")
    assert (err.value.rule, err.value.event_id, err.value.source) == ("unknown-kind", 4, "h.json")


def test_missing_field_is_named() -> None:
    with pytest.raises(HistoryError) as err:
        event_from_data({"kind": "SignalReceived", "event_id": 3, "time": T0.isoformat()})
    assert str(err.value) == (
        "[RPL-H01] event 3: bad SignalReceived event: required field missing @ $.signal_name")
    assert err.value.rule == "event-fields"


def test_extra_field_is_named() -> None:
    data = event_to_data(SignalReceived(event_id=2, time=T0, signal_name="s"))
    with pytest.raises(HistoryError) as err:
        event_from_data({**data, "__class__": "x"})
    assert str(err.value) == (
        "[RPL-H01] event 2: bad SignalReceived event: extra fields found (__class__) @ $")
    assert err.value.rule == "event-fields"


def test_wrong_field_type_is_named() -> None:
    data = {**event_to_data(SignalReceived(event_id=2, time=T0, signal_name="s")),
            "time": 12}
    with pytest.raises(HistoryError) as err:
        event_from_data(data)
    assert str(err.value) == ("[RPL-H01] event 2: bad SignalReceived event: invalid value for "
                              "type, expected datetime @ $.time")


def test_an_event_must_be_an_object() -> None:
    with pytest.raises(HistoryError) as err:
        event_from_data(["SignalReceived"])
    assert str(err.value) == "[RPL-H01] each event must be a JSON object, got list"
    assert err.value.rule == "event-object"


# --- payloads ---------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"


@attrs.frozen
class Order:
    item: str
    quantity: int
    due: datetime
    color: Color = Color.RED
    tags: list[str] = attrs.field(factory=list)


@dataclasses.dataclass
class Box:
    orders: list[Order]
    wait: timedelta | None = None


def test_payload_round_trip_of_nested_classes() -> None:
    conv = PayloadConverter()
    box = Box(orders=[Order("pen", 2, T0, tags=["x"])], wait=timedelta(seconds=1.5))
    data = conv.to_payload(box)
    assert data == {"orders": [{"item": "pen", "quantity": 2, "due": T0.isoformat(),
                                "color": "red", "tags": ["x"]}], "wait": 1.5}
    assert conv.from_payload(json.loads(json.dumps(data)), Box) == box


@given(value=json_values)
def test_json_values_pass_through_unchanged(value: Any) -> None:
    conv = default_converter()
    assert conv.from_payload(conv.to_payload(value)) == value


def test_unknown_payload_type_names_type_and_path() -> None:
    with pytest.raises(PayloadError) as err:
        PayloadConverter().to_payload({"items": [1, object()]})
    assert str(err.value) == (
        "[RPL-P01] value of type object at $.items[1] has no JSON form; pass attrs classes, "
        "dataclasses, enums, datetimes, dates, timedeltas, UUIDs, Decimals, lists, tuples, "
        "sets, dicts or primitives, or register a converter for it with "
        "PayloadConverter.register()")
    assert (err.value.type_name, err.value.path) == ("object", "$.items[1]")


@pytest.mark.parametrize("key", [(1, 2), True, 1.5])
def test_dict_keys_with_no_json_form_are_refused(key: object) -> None:
    name = type(key).__name__
    with pytest.raises(PayloadError) as err:
        PayloadConverter().to_payload({"outer": {key: "x"}})
    assert str(err.value) == (
        f"[RPL-P01] dict key of type {name} at $.outer has no JSON form; use str keys (int, "
        "enum, UUID, date and datetime keys are written as strings)")
    assert (err.value.type_name, err.value.path) == (name, "$.outer")


def test_int_and_enum_keys_are_written_as_strings_and_read_back() -> None:
    conv = PayloadConverter()
    assert conv.to_payload({1: "a", Color.RED: "b"}) == {"1": "a", "red": "b"}
    assert conv.from_payload({"1": "a", "-2": "b"}, dict[int, str]) == {1: "a", -2: "b"}
    assert conv.from_payload({"red": 1}, dict[Color, int]) == {Color.RED: 1}


def test_sets_encode_as_sorted_lists_and_decode_through_their_hint() -> None:
    conv = PayloadConverter()
    box = {"ids": {3, 1, 2}, "names": frozenset({"b", "a"})}
    assert conv.to_payload(box) == {"ids": [1, 2, 3], "names": ["a", "b"]}
    assert conv.from_payload([3, 1], set[int]) == {1, 3}
    assert conv.from_payload(["a"], frozenset[str]) == frozenset({"a"})


def test_decoding_the_wrong_shape_names_the_type() -> None:
    with pytest.raises(PayloadError) as err:
        PayloadConverter().from_payload({"item": "pen"}, Order)
    assert str(err.value) == (
        "[RPL-P01] cannot decode payload {'item': 'pen'} as Order: required field missing "
        "@ $.quantity; required field missing @ $.due")
    assert (err.value.type_name, err.value.path) == ("Order", "$")


def test_decoding_a_wrong_element_names_where_it_sits() -> None:
    with pytest.raises(PayloadError) as err:
        PayloadConverter().from_payload(["a"], set[int])
    assert str(err.value) == (
        "[RPL-P01] cannot decode payload ['a'] as set: invalid value for type, expected int "
        "@ $[0]")


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents


class Euro(Money):
    pass


def test_registered_types_convert_both_ways() -> None:
    conv = PayloadConverter()
    conv.register(Money, lambda m: m.cents, Money)
    assert conv.to_payload([Money(250)]) == [250]
    assert conv.from_payload(250, Money).cents == 250


def test_a_registered_type_covers_its_subclasses_when_encoding() -> None:
    conv = PayloadConverter()
    conv.register(Money, lambda m: m.cents, Money)
    assert conv.to_payload({"price": Euro(5)}) == {"price": 5}
    assert conv.from_payload([5], list[Euro])[0].cents == 5


def test_event_payload_fields_are_copied_through_unchanged() -> None:
    payload = {"nested": [1, {"a": None}], "text": "h\u00e9"}
    event = SignalReceived(event_id=2, time=T0, signal_name="s", args=[payload])
    data = event_to_data(event)
    assert data["args"] == [payload] and data["args"][0] is payload
    assert event_from_data(json.loads(json.dumps(data))) == event


def test_event_fields_stay_json_only() -> None:
    for cls in EVENT_KINDS.values():
        assert issubclass(cls, Event) and cls.kind == cls.__name__
