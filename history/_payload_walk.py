"""Where the payloads are: find every payload inside events, store records and
operations, and rebuild them with new payloads.

A field holds payloads by its declared type (read from the class's annotation
text, since ``JsonValue`` is ``Any`` once resolved): ``list[JsonValue]`` (each
item), ``JsonValue`` (itself, unless None), ``dict[str, JsonValue]`` (each value),
or another record that holds some (``Failure``, an event, ``Sequence[Event]``).
:func:`collect` lists them in one fixed order and :func:`rebuild` puts new ones
back in that order, so a payload codec sees one batch per call.

Search attributes are not payloads: they are indexed by the store, so a field of
that name is never handed to a codec.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any

import attrs

from ._errors import InternalError
from ._events import Failure, JsonValue
from ._kinds import EVENT_KINDS

_ONE, _LIST, _DICT, _RECORD, _RECORDS = range(5)

_RECORD_NAMES = frozenset({"Failure", "Event", *EVENT_KINDS})
_NOT_PAYLOADS = frozenset({"search_attributes"})
_END = object()


def _type_text(t: Any) -> str:
    """A field's type as annotation text, whether attrs kept the text or resolved it
    (resolved, ``JsonValue`` is ``Any``)."""
    if isinstance(t, str):
        return t
    if t is Any:
        return "JsonValue"
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin in (typing.Union, types.UnionType):
        return "|".join(_type_text(a) for a in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{','.join('...' if a is Ellipsis else _type_text(a) for a in args)}]"
    if t is type(None):
        return "None"
    return str(getattr(t, "__name__", t))


def _shape(type_text: str) -> int | None:
    text = type_text.replace(" ", "")
    bare = text.removesuffix("|None")
    if bare == "JsonValue":
        return _ONE
    if bare == "list[JsonValue]":
        return _LIST
    if bare == "dict[str,JsonValue]":
        return _DICT
    if bare in _RECORD_NAMES:
        return _RECORD
    if bare in ("Sequence[Event]", "list[Event]", "tuple[Event,...]"):
        return _RECORDS
    return None


def _slots(cls: type) -> tuple[tuple[str, int], ...]:
    found = _SLOTS.get(cls)
    if found is None:
        found = _SLOTS[cls] = _find_slots(cls)
    return found


_SLOTS: dict[type, tuple[tuple[str, int], ...]] = {}


def _find_slots(cls: type) -> tuple[tuple[str, int], ...]:
    if not attrs.has(cls):
        return ()
    found = []
    for field in attrs.fields(cls):
        shape = _shape(_type_text(field.type))
        if shape is not None and field.name not in _NOT_PAYLOADS:
            found.append((field.name, shape))
    return tuple(found)


def holds_payloads(obj: Any) -> bool:
    """Whether ``obj`` is a record with payload fields (events, Failure, store records)."""
    return bool(_slots(type(obj)))


def collect(objs: list[Any]) -> list[JsonValue]:
    """Every payload inside ``objs``, in the order :func:`rebuild` consumes them."""
    out: list[JsonValue] = []
    for obj in objs:
        _collect(obj, out)
    return out


def _collect(obj: Any, out: list[JsonValue]) -> None:
    for name, shape in _slots(type(obj)):
        value = getattr(obj, name)
        if shape == _ONE:
            if value is not None:
                out.append(value)
        elif shape == _LIST:
            out.extend(value)
        elif shape == _DICT:
            out.extend(value.values())
        elif shape == _RECORD:
            if value is not None:
                _collect(value, out)
        else:
            for item in value:
                _collect(item, out)


def rebuild(objs: list[Any], payloads: list[JsonValue]) -> list[Any]:
    """``objs`` again, with their payloads replaced by ``payloads`` (as :func:`collect`
    listed them)."""
    it = iter(payloads)
    out = [_rebuild(obj, it) for obj in objs]
    if next(it, _END) is not _END:
        raise InternalError("more payloads given back than were collected")
    return out



def _next(it: Iterator[JsonValue]) -> JsonValue:
    value = next(it, _END)
    if value is _END:
        raise InternalError("fewer payloads given back than were collected")
    return value


def _rebuild(obj: Any, it: Iterator[JsonValue]) -> Any:
    slots = _slots(type(obj))
    if not slots:
        return obj
    changes: dict[str, Any] = {}
    for name, shape in slots:
        value = getattr(obj, name)
        if shape == _ONE:
            changes[name] = None if value is None else _next(it)
        elif shape == _LIST:
            changes[name] = [_next(it) for _ in value]
        elif shape == _DICT:
            changes[name] = {key: _next(it) for key in value}
        elif shape == _RECORD:
            changes[name] = None if value is None else _rebuild(value, it)
        else:
            changes[name] = [_rebuild(item, it) for item in value]
    return attrs.evolve(obj, **changes)


def _check_tables() -> None:
    """Every event kind's payload fields are found (a typo would hide one from codecs)."""
    for cls in (*EVENT_KINDS.values(), Failure):
        for field in attrs.fields(cls):
            text = _type_text(field.type)
            if "JsonValue" in text and _shape(text) is None:
                raise InternalError(f"{cls.__name__}.{field.name}: payload field of a "
                                    f"shape codecs do not know: {field.type}")


_check_tables()
