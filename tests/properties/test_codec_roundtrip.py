"""The payload codec is one converter: what it encodes, it decodes back.

For every supported type (drawn as a type hint, then values of that hint,
nested), ``from_payload(to_payload(x), hint) == x``, through real JSON text.
Registered hooks apply the same way in both directions, subclasses included.
A value with no JSON form fails with a PayloadError naming its type and the
path to it, however deep it sits.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Optional
from uuid import UUID

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from replay.history import PayloadConverter, PayloadError

# --- payload types ------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Size(enum.StrEnum):
    S = "s"
    M = "m"


@attrs.frozen
class Point:
    x: int
    y: float
    label: str = ""


@attrs.frozen
class Order:
    id: UUID
    due: datetime
    color: Color
    tags: frozenset[str]
    lines: tuple[Point, ...]
    price: Decimal | None = None


@dataclasses.dataclass(frozen=True)
class Shipment:
    day: date
    wait: timedelta
    sizes: tuple[Size, ...]
    order: Order


@attrs.frozen
class Holder:
    """Holds anything: its field is converted by the value's own class."""

    item: object


@dataclasses.dataclass
class DataHolder:
    item: Any


# --- hints and values ---------------------------------------------------------------------------

texts = st.text(max_size=8)  # hypothesis never draws unpaired surrogates here
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
utc_datetimes = st.datetimes(timezones=st.just(UTC))
durations = st.timedeltas(min_value=timedelta(days=-36500), max_value=timedelta(days=36500))
decimals = st.decimals(allow_nan=False) | st.decimals(allow_nan=False, places=2)
points = st.builds(Point, x=st.integers(), y=finite_floats, label=texts)
orders = st.builds(
    Order, id=st.uuids(), due=utc_datetimes, color=st.sampled_from(Color),
    tags=st.frozensets(texts, max_size=3), lines=st.lists(points, max_size=3).map(tuple),
    price=st.none() | decimals,
)
shipments = st.builds(
    Shipment, day=st.dates(), wait=durations,
    sizes=st.lists(st.sampled_from(Size), max_size=3).map(tuple), order=orders,
)

LEAVES: dict[Any, st.SearchStrategy[Any]] = {
    int: st.integers(),
    str: texts,
    bool: st.booleans(),
    datetime: utc_datetimes,
    date: st.dates(),
    timedelta: durations,
    UUID: st.uuids(),
    Decimal: decimals,
    Color: st.sampled_from(Color),
    Level: st.sampled_from(Level),
    Size: st.sampled_from(Size),
    Point: points,
    Order: orders,
    float: finite_floats,
    Shipment: shipments,
}
HASHABLE_LEAVES = [int, str, bool, datetime, date, timedelta, UUID, Decimal, Color, Level,
                   Size, Point, Order, float, Shipment]
KEY_HINTS = [str, int, UUID, date, datetime, Color, Level, Size]


def of(origin: Any, *args: Any) -> Any:
    """``origin[args]``, a type hint built while the test runs."""
    return origin[args if len(args) > 1 else args[0]]


hashable_hints: st.SearchStrategy[Any] = st.recursive(
    st.sampled_from(HASHABLE_LEAVES),
    lambda inner: st.one_of(
        inner.map(lambda h: of(tuple, h, ...)),
        st.tuples(inner, inner).map(lambda p: of(tuple, *p)),
        inner.map(lambda h: of(frozenset, h)),
        inner.map(lambda h: of(Optional, h)),
    ),
    max_leaves=3,
)
hints: st.SearchStrategy[Any] = st.recursive(
    hashable_hints,
    lambda inner: st.one_of(
        *(inner.map(partial(of, origin)) for origin in (list, deque, Sequence, Optional)),
        inner.map(lambda h: of(tuple, h, ...)),
        st.tuples(inner, inner).map(lambda p: of(tuple, *p)),
        hashable_hints.map(partial(of, set)),
        hashable_hints.map(partial(of, frozenset)),
        st.tuples(st.sampled_from(KEY_HINTS), inner).map(lambda p: of(dict, *p)),
        inner.map(lambda h: of(Mapping, str, h)),
    ),
    max_leaves=6,
)


def values_of(hint: Any) -> st.SearchStrategy[Any]:
    """Values of a hint drawn from ``hints``."""
    if hint in LEAVES:
        return LEAVES[hint]
    origin: Any = getattr(hint, "__origin__", None)
    args: tuple[Any, ...] = getattr(hint, "__args__", ())
    if len(args) == 2 and type(None) in args:
        return st.none() | values_of(args[0] if args[1] is type(None) else args[1])
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return st.lists(values_of(args[0]), max_size=3).map(tuple)
    if origin is tuple:
        return st.tuples(*(values_of(a) for a in args))
    builders: dict[Any, Callable[[st.SearchStrategy[Any]], st.SearchStrategy[Any]]] = {
        list: lambda s: st.lists(s, max_size=3),
        deque: lambda s: st.lists(s, max_size=3).map(deque),
        Sequence: lambda s: st.lists(s, max_size=3).map(tuple),  # decoded as a tuple
        set: lambda s: st.sets(s, max_size=3),
        frozenset: lambda s: st.frozensets(s, max_size=3),
        Mapping: lambda s: st.dictionaries(texts, s, max_size=3),
    }
    if origin in builders:
        return builders[origin](values_of(args[-1]))
    if origin is dict:
        return st.dictionaries(values_of(args[0]), values_of(args[1]), max_size=3)
    raise AssertionError(f"no values for {hint!r}")


@st.composite
def hinted_values(draw: st.DrawFn) -> tuple[Any, Any]:
    hint = draw(hints)
    return hint, draw(values_of(hint))


def through_json(data: Any) -> Any:
    return json.loads(json.dumps(data, ensure_ascii=False, allow_nan=False))


# --- round trips --------------------------------------------------------------------------------


@given(case=hinted_values())
def test_every_supported_type_round_trips_through_its_hint(case: tuple[Any, Any]) -> None:
    hint, value = case
    conv = PayloadConverter()
    data = conv.to_payload(value)
    assert through_json(data) == data
    decoded = conv.from_payload(through_json(data), hint)
    assert decoded == value
    assert type(decoded) is type(value)


@given(case=hinted_values())
def test_with_no_hint_a_value_encodes_and_decodes_as_plain_data(case: tuple[Any, Any]) -> None:
    conv = PayloadConverter()
    data = conv.to_payload(case[1])
    assert conv.from_payload(through_json(data)) == data
    assert conv.from_payload(through_json(data), object) == data


@given(elements=st.lists(st.integers() | texts, min_size=1, max_size=8, unique=True),
       order=st.randoms(use_true_random=False))
def test_equal_sets_encode_to_the_same_sorted_list(
        elements: list[int | str], order: Any) -> None:
    shuffled = list(elements)
    order.shuffle(shuffled)
    conv = PayloadConverter()
    ints = [e for e in elements if isinstance(e, int)]
    assert conv.to_payload(set(ints)) == sorted(ints)
    assert conv.to_payload(frozenset(elements)) == conv.to_payload(set(shuffled))


def test_sets_of_unorderable_elements_are_ordered_by_their_json_text() -> None:
    conv = PayloadConverter()
    assert conv.to_payload({None, 2, "a"}) == ["a", 2, None]  # '"a"' < '2' < 'null'
    assert conv.to_payload({Point(2, 0.5), Point(1, 0.5)}) == [
        {"x": 1, "y": 0.5, "label": ""}, {"x": 2, "y": 0.5, "label": ""}]


# --- registered hooks ---------------------------------------------------------------------------


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and other.cents == self.cents

    def __hash__(self) -> int:
        return hash(self.cents)


class Euro(Money):
    pass


@attrs.frozen
class Wallet:
    cash: Money
    savings: list[Money]


def money_converter() -> PayloadConverter:
    conv = PayloadConverter()
    conv.register(Money, lambda m: {"cents": m.cents}, lambda d: Money(d["cents"]))
    return conv


@given(cents=st.lists(st.integers(), min_size=1, max_size=4), euro=st.booleans())
def test_registered_hooks_apply_both_ways_and_to_subclasses(cents: list[int], euro: bool) -> None:
    conv = money_converter()
    cls = Euro if euro else Money
    wallet = Wallet(cls(cents[0]), [cls(c) for c in cents])
    data = conv.to_payload(wallet)
    assert data == {"cash": {"cents": cents[0]}, "savings": [{"cents": c} for c in cents]}
    assert conv.to_payload({"w": [cls(cents[0])]}) == {"w": [{"cents": cents[0]}]}
    assert conv.from_payload(through_json(data), Wallet) == Wallet(
        Money(cents[0]), [Money(c) for c in cents])
    assert conv.from_payload(through_json(data["savings"]), set[Money]) == {
        Money(c) for c in cents}


def test_a_hook_may_return_values_the_converter_encodes() -> None:
    conv = PayloadConverter()
    conv.register(Money, lambda m: {"at": datetime(2024, 1, 1, tzinfo=UTC), "n": {m.cents}},
                  lambda d: Money(d["n"][0]))
    assert conv.to_payload(Euro(5)) == {"at": "2024-01-01T00:00:00+00:00", "n": [5]}
    assert conv.from_payload({"at": "", "n": [5]}, Money) == Money(5)


def test_hooks_belong_to_their_converter() -> None:
    money_converter()
    with pytest.raises(PayloadError) as err:
        PayloadConverter().to_payload(Money(1))
    assert str(err.value) == (
        "[RPL-P01] value of type Money at $ has no JSON form; pass attrs classes, "
        "dataclasses, enums, datetimes, dates, timedeltas, UUIDs, Decimals, lists, tuples, "
        "sets, dicts or primitives, or register a converter for it with "
        "PayloadConverter.register()")


# --- values with no JSON form -------------------------------------------------------------------

NO_FORM = ("has no JSON form; pass attrs classes, dataclasses, enums, datetimes, dates, "
           "timedeltas, UUIDs, Decimals, lists, tuples, sets, dicts or primitives, or register "
           "a converter for it with PayloadConverter.register()")
SURROGATE = ("which UTF-8 (and so JSON text) cannot encode; decode bytes with "
             "errors='replace' or keep binary data out of payloads")


def _cycle() -> list[Any]:
    cycle: list[Any] = [1, 2]
    cycle.append(cycle)
    return cycle


# (a value with no JSON form, its path inside itself, its type, the message given its path)
BAD_LEAVES: list[tuple[Callable[[], Any], str, str, Callable[[str], str]]] = [
    (object, "", "object", lambda p: f"value of type object at {p} {NO_FORM}"),
    (lambda: b"raw", "", "bytes", lambda p: f"value of type bytes at {p} {NO_FORM}"),
    (lambda: math.nan, "", "float", lambda p: (
        f"float nan at {p} has no JSON form: JSON has no NaN or Infinity; use None or a "
        "string for it")),
    (lambda: -math.inf, "", "float", lambda p: (
        f"float -inf at {p} has no JSON form: JSON has no NaN or Infinity; use None or a "
        "string for it")),
    (lambda: "ab\udc80", "", "str", lambda p: (
        f"str at {p} holds an unpaired surrogate '\\udc80', {SURROGATE}")),
    (lambda: {"ok": 1, "b\ud800": 2}, "", "str", lambda p: (
        f"dict key at {p} holds an unpaired surrogate '\\ud800', {SURROGATE}")),
    (lambda: {(1, 2): "x"}, "", "tuple", lambda p: (
        f"dict key of type tuple at {p} has no JSON form; use str keys (int, enum, UUID, "
        "date and datetime keys are written as strings)")),
    (_cycle, "[2]", "list", lambda p: (
        f"value of type list at {p} contains itself; JSON has no form for a reference cycle")),
]
names = st.text(alphabet="abcdefghij", min_size=1, max_size=5)
good = st.integers() | texts | st.builds(Point, x=st.integers(), y=st.just(0.5))


def _wrap(inner: st.SearchStrategy[tuple[Any, str]]) -> st.SearchStrategy[tuple[Any, str]]:
    """One more layer around a bad value, with the path step that layer adds."""

    @st.composite
    def in_list(draw: st.DrawFn) -> tuple[Any, str]:
        value, path = draw(inner)
        before = draw(st.lists(good, max_size=2))
        after = draw(st.lists(good, max_size=2))
        return [*before, value, *after], f"[{len(before)}]{path}"

    @st.composite
    def in_dict(draw: st.DrawFn) -> tuple[Any, str]:
        value, path = draw(inner)
        key = draw(names)
        return {"zz": 0, key: value}, f".{key}{path}"

    return st.one_of(
        in_list(),
        in_dict(),
        inner.map(lambda vp: ((0, vp[0]), f"[1]{vp[1]}")),
        inner.map(lambda vp: (Holder(vp[0]), f".item{vp[1]}")),
        inner.map(lambda vp: (DataHolder(vp[0]), f".item{vp[1]}")),
    )


@given(leaf=st.sampled_from(range(len(BAD_LEAVES))), data=st.data())
def test_a_value_with_no_json_form_is_named_with_its_path(leaf: int, data: st.DataObject) -> None:
    make, own_path, type_name, message = BAD_LEAVES[leaf]
    bad: st.SearchStrategy[tuple[Any, str]] = st.builds(lambda: (make(), own_path))
    value, path = data.draw(st.recursive(bad, _wrap, max_leaves=4))
    with pytest.raises(PayloadError) as err:
        PayloadConverter().to_payload(value)
    assert (err.value.type_name, err.value.path) == (type_name, f"${path}")
    assert str(err.value) == f"[RPL-P01] {message(f'${path}')}"
    with pytest.raises(PayloadError) as err:
        PayloadConverter().to_payloads(["fine", value])
    assert err.value.path == f"$[1]{path}"


def test_an_element_of_a_set_is_named_by_its_place_in_the_list() -> None:
    with pytest.raises(PayloadError) as err:
        PayloadConverter().to_payload({"s": frozenset({math.inf})})
    assert str(err.value) == ("[RPL-P01] float inf at $.s[0] has no JSON form: JSON has no "
                              "NaN or Infinity; use None or a string for it")


def test_a_registered_encoder_that_fails_is_named() -> None:
    conv = PayloadConverter()

    def refuse(money: Money) -> int:
        raise ValueError(f"no change for {money.cents}")

    conv.register(Money, refuse, lambda d: Money(d))
    with pytest.raises(PayloadError) as err:
        conv.to_payload({"pay": [Money(1), Euro(3)]})
    assert str(err.value) == ("[RPL-P01] the encoder registered for Money failed on the value "
                              "at $.pay[0]: ValueError: no change for 1")
    assert (err.value.type_name, err.value.path) == ("Money", "$.pay[0]")


def test_an_encoder_that_returns_its_own_type_is_named() -> None:
    conv = PayloadConverter()
    conv.register(Money, lambda m: Euro(m.cents), lambda d: Money(d))
    with pytest.raises(PayloadError) as err:
        conv.to_payload([Money(1)])
    assert str(err.value) == ("[RPL-P01] the encoder registered for Money returned a Euro at "
                              "$[0], which it would encode again; return JSON data instead")


def test_a_value_in_a_field_annotated_with_another_type_is_named() -> None:
    bad = Point(x=datetime(2024, 1, 1, tzinfo=UTC), y=1.0)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(PayloadError) as err:
        PayloadConverter().to_payload([bad])
    assert str(err.value) == (
        "[RPL-P01] value of type datetime at $[0].x was not converted: the field or element "
        "that holds it is annotated with another type; annotate it as datetime (or object)")


def test_a_value_nested_too_deeply_is_refused() -> None:
    deep: list[Any] = []
    tip = deep
    for _ in range(5000):
        tip.append([])
        tip = tip[0]
    with pytest.raises(PayloadError) as err:
        PayloadConverter().to_payload({"deep": deep})
    assert str(err.value) == "[RPL-P01] value of type dict at $ is nested too deeply to encode"
