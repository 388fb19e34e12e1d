"""One-pass event decoders: check a parsed event's JSON and build the event together.

The careful path (:func:`history._strict.check_event_data`, then the cattrs
structure functions of :mod:`history._codec`) walks each event twice and builds
through generic hooks. Here one function per kind, generated once from the
kind's attrs fields and type hints, does both in a single pass: every field's
JSON type is checked exactly as the strict schema checks it, converted exactly
as the converter converts it (``float`` fields become floats, times are parsed
with ``datetime.fromisoformat`` and take UTC when they carry no zone), and the
event class is called once.

These decoders never explain anything. A decoder returns ``None`` for anything
it does not accept as is: an unknown or missing field, a value of another
type, a time that does not parse, an array or object nested past
:data:`MAX_DEPTH`. The caller then takes the careful path, which raises the
error with its usual message (or, if the decoder was stricter than needed,
decodes the event the usual way). So the decoders may be stricter than the
careful path, never looser.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from ._events import Event
from ._kinds import EVENT_KINDS
from ._lazy_table import LazyTable
from ._limits import MAX_DEPTH

EVENT_DEPTH = 3
"""How deep an event's object sits in a history document (document, events, event)."""

Decoder = Callable[[Any, int], Any]
"""A generated decoder: (JSON value, depth of that value) -> the built object; raises on
anything it does not accept (the public wrappers turn that into ``None``)."""


class _Refused(Exception):
    """Raised inside a generated decoder; never leaves this module."""


def fits(value: Any, depth: int) -> bool:
    """Whether the array or object ``value``, sitting at ``depth``, and everything in it
    nest at most MAX_DEPTH deep."""
    if depth > MAX_DEPTH:
        return False
    items = value.values() if type(value) is dict else value
    inner = depth + 1
    for item in items:
        kind = type(item)
        if (kind is dict or kind is list) and not fits(item, inner):
            return False
    return True


def _refuse() -> typing.NoReturn:
    raise _Refused


class _Builder:
    """Writes the source of one class's decoder, a line at a time."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self.lines: list[str] = []
        self._names = 0

    def constant(self, value: Any) -> str:
        """A name in the generated module's namespace bound to ``value``."""
        self._names += 1
        name = f"_k{self._names}"
        self.namespace[name] = value
        return name

    def emit(self, text: str, indent: int) -> None:
        self.lines.extend("    " * indent + line for line in text.split("\n"))

    def convert(self, hint: Any, var: str, depth: str, indent: int) -> None:
        """Lines that check ``var`` (a JSON value at ``depth``) and rebind it converted."""
        if hint is Any:
            self.emit(f"if (type({var}) is dict or type({var}) is list) "
                      f"and not _fits({var}, {depth}): _refuse()", indent)
            return
        simple = _SIMPLE.get(hint)
        if simple is not None:
            self.emit(simple.format(v=var), indent)
            return
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (types.UnionType, typing.Union):
            (inner,) = [a for a in args if a is not type(None)]
            self.emit(f"if {var} is not None:", indent)
            self.convert(inner, var, depth, indent + 1)
            return
        if origin is list or origin is dict:
            self._container(origin, args[-1], var, depth, indent)
            return
        if attrs.has(hint):
            decoder = self.constant(nested_decoder(hint))
            self.emit(f"{var} = {decoder}({var}, {depth})", indent)
            return
        raise TypeError(f"no decoder for field type {hint!r}")  # a new field type

    def _container(self, origin: type, item: Any, var: str, depth: str, indent: int) -> None:
        self.emit(f"if type({var}) is not {origin.__name__}: _refuse()", indent)
        if item is Any:  # a shallow copy, as the converter makes
            self.emit(f"if not _fits({var}, {depth}): _refuse()", indent)
            self.emit(f"{var} = {origin.__name__}({var})", indent)
            return
        if item is not str:
            raise TypeError(f"no decoder for {origin.__name__} items of type {item!r}")
        values = f"{var}.values()" if origin is dict else var
        self.emit(f"if {depth} > _MAX_DEPTH: _refuse()", indent)
        self.emit(f"for _item in {values}:", indent)
        self.emit("if type(_item) is not str: _refuse()", indent + 1)
        if origin is list:
            self.emit(f"{var} = list({var})", indent)
        else:
            self.emit(f"{var} = dict({var})", indent)


# The check and conversion of the scalar field types, as the strict schema checks them
# and the converter converts them.
_SIMPLE: dict[Any, str] = {
    int: "if type({v}) is not int: _refuse()",
    bool: "if type({v}) is not bool: _refuse()",
    str: "if type({v}) is not str: _refuse()",
    float: "if type({v}) is not float and type({v}) is not int: _refuse()\n"
           "{v} = float({v})",
    datetime: "if type({v}) is not str: _refuse()\n{v} = _fromisoformat({v})\n"
              "if {v}.tzinfo is None: {v} = {v}.replace(tzinfo=_UTC)",
    timedelta: "if type({v}) is not float and type({v}) is not int: _refuse()\n"
               "{v} = _timedelta(0, {v})",
}


def _generate(cls: type) -> Decoder:
    """The decoder of ``cls``'s JSON object: (the object, the depth it sits at) -> ``cls``."""
    namespace: dict[str, Any] = {
        "_fits": fits, "_refuse": _refuse, "_fromisoformat": datetime.fromisoformat,
        "_UTC": UTC, "_timedelta": timedelta,
        "_MAX_DEPTH": MAX_DEPTH, "_MISSING": _MISSING, "_new": object.__new__,
    }
    b = _Builder(namespace)
    fields = attrs.fields(cls)
    hints = typing.get_type_hints(cls)
    allowed = frozenset(f.name for f in fields) | ({"kind"} if issubclass(cls, Event) else set())
    b.emit("def decode(data, depth):", 0)
    b.emit("if type(data) is not dict or depth > _MAX_DEPTH: _refuse()", 1)
    b.emit(f"if not data.keys() <= {b.constant(allowed)}: _refuse()", 1)
    b.emit("inner = depth + 1", 1)
    for i, field in enumerate(fields):
        var = f"v{i}"
        if field.default is attrs.NOTHING:
            b.emit(f"{var} = data[{field.name!r}]", 1)
            b.convert(hints[field.name], var, "inner", 1)
            continue
        b.emit(f"{var} = data.get({field.name!r}, _MISSING)", 1)
        b.emit(f"if {var} is _MISSING:", 1)
        if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            if field.default.takes_self:
                raise TypeError(f"no decoder for {cls.__name__}.{field.name}'s default")
            factory = field.default.factory
            b.emit(f"{var} = {b.constant(factory)}()", 2)
        else:
            b.emit(f"{var} = {b.constant(field.default)}", 2)
        b.emit("else:", 1)
        b.convert(hints[field.name], var, "inner", 2)
    _emit_build(b, cls, [f"v{i}" for i in range(len(fields))])
    source = "\n".join(b.lines)
    exec(compile(source, f"<decoder of {cls.__name__}>", "exec"), namespace)
    decode: Decoder = namespace["decode"]
    return decode


# what attrs' __init__ may do besides setting the fields: hooks, and a cached hash to reset
_INIT_EXTRAS = ("__attrs_pre_init__", "__attrs_post_init__", "_attrs_cached_hash")


def _emit_build(b: _Builder, cls: type, values: list[str]) -> None:
    """Lines that return the instance of ``cls`` holding ``values`` (its fields, in order).

    attrs' ``__init__`` of a frozen class sets each field through a generic setter; a
    class with nothing else in its ``__init__`` (no validator, converter or post-init
    hook) is built as that ``__init__`` would build it, by setting its slots directly.
    """
    fields = attrs.fields(cls)
    plain = (not any(hasattr(cls, hook) for hook in _INIT_EXTRAS)
             and all(f.validator is None and f.converter is None
                     and type(getattr(cls, f.name, None)) is types.MemberDescriptorType
                     for f in fields))
    if not plain:
        arguments = ", ".join(f"{f.name}={v}" for f, v in zip(fields, values, strict=True))
        b.emit(f"return {b.constant(cls)}({arguments})", 1)
        return
    b.emit(f"obj = _new({b.constant(cls)})", 1)
    for field, value in zip(fields, values, strict=True):
        setter = getattr(cls, field.name).__set__  # the slot's own descriptor
        b.emit(f"{b.constant(setter)}(obj, {value})", 1)
    b.emit("return obj", 1)


class _Missing:
    """The value of a field the JSON object leaves out."""


_MISSING = _Missing()

_NESTED: dict[type, Decoder] = {}


def nested_decoder(cls: type) -> Decoder:
    """The decoder of a nested attrs class (a failure, a retry policy), made once."""
    if cls not in _NESTED:
        # while it is generated, a stand-in that calls it: a failure's cause is a failure
        _NESTED[cls] = lambda data, depth: _NESTED[cls](data, depth)
        _NESTED[cls] = _generate(cls)
    return _NESTED[cls]


_DECODERS: LazyTable[str, Decoder] = LazyTable(lambda name: _generate(EVENT_KINDS[name]),
                                               EVENT_KINDS)


def decode_events(raw: list[Any], *, consume: bool = False) -> list[Event] | None:
    """The events a parsed ``events`` list describes, or ``None`` if any is not exactly
    right (the careful path then names the first that is not).

    With ``consume``, each item of ``raw`` is replaced by ``None`` once its event is
    built (also when ``None`` is returned: the caller must not need ``raw`` again).
    The parsed objects are then freed as the events are made, instead of all living
    until the end: the cyclic garbage collector, which counts objects allocated and
    not yet freed, runs far less often while a large history loads, and never scans
    the parsed document and the events together.
    """
    decoders = _DECODERS
    events: list[Event] = []
    append = events.append
    try:
        if consume:
            for i, data in enumerate(raw):
                raw[i] = None
                append(decoders[data["kind"]](data, EVENT_DEPTH))
        else:
            for data in raw:
                append(decoders[data["kind"]](data, EVENT_DEPTH))
    except Exception:  # not an object, an unknown kind, anything off in one event
        return None
    return events


def decode_event(data: Any) -> Event | None:
    """The event a parsed event object describes, or ``None`` if it is not exactly right.

    ``None`` asks the caller to take the careful path, which names what is wrong.
    """
    if type(data) is not dict:
        return None
    kind = data.get("kind")
    if type(kind) is not str or kind not in EVENT_KINDS:
        return None
    try:
        event: Event = _DECODERS[kind](data, EVENT_DEPTH)
    except Exception:  # anything off: the careful path says what
        return None
    return event
