"""Strict field types for events read from JSON: no coercion, ever.

The converter structures what it is given into the annotated types, and on
the way it would turn ``2.7`` into an event id of 2, the string ``"abc"`` into
the argument list ``["a", "b", "c"]`` or ``true`` into the integer 1. A history
file is untrusted input, so before an event is structured its raw JSON is
checked against the field types of its kind: integers are integers (and not
booleans), strings are strings, lists are lists. Missing and unknown fields are
left to the converter, which names them.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import attrs

from ._errors import HistoryError
from ._kinds import EVENT_KINDS

# A check looks at one field's value: None if it fits, else (path suffix, expected, value).
# Nested attrs objects (a failure, its cause, a retry policy) are not checked in place but
# pushed on the caller's stack, so a long cause chain costs no Python recursion.
Problem = tuple[str, str, Any]
Stack = list[tuple[dict[str, Any], type, str]]
Check = Callable[[Any, Stack, str], Problem | None]


def _scalar(expected: str, *types_: type) -> Check:
    def check(value: Any, stack: Stack, path: str) -> Problem | None:
        return None if type(value) in types_ else ("", expected, value)
    return check


_SCALARS: dict[Any, Check] = {
    int: _scalar("an integer", int),
    bool: _scalar("true or false", bool),
    str: _scalar("a string", str),
    float: _scalar("a number", int, float),
    datetime: _scalar("an ISO 8601 time string", str),
    timedelta: _scalar("a number of seconds", int, float),
}


def _compile(hint: Any) -> Check | None:
    """The check for values of one field type; None when any JSON value fits (payloads)."""
    if hint is Any:
        return None
    if hint in _SCALARS:
        return _SCALARS[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        (inner_hint,) = [a for a in args if a is not type(None)]
        inner = _compile(inner_hint)
        if inner is None:
            return None

        def optional(value: Any, stack: Stack, path: str) -> Problem | None:
            return None if value is None else inner(value, stack, path)
        return optional
    if origin is list or origin is dict:
        return _container(origin, _compile(args[-1]))
    if attrs.has(hint):
        def nested(value: Any, stack: Stack, path: str) -> Problem | None:
            if type(value) is not dict:
                return "", "an object", value
            stack.append((value, hint, path + "."))
            return None
        return nested
    raise TypeError(f"no strict check for field type {hint!r}")  # a new field type


def _container(origin: type, item: Check | None) -> Check:
    if origin is list:
        def check_list(value: Any, stack: Stack, path: str) -> Problem | None:
            if type(value) is not list:
                return "", "a list", value
            return None if item is None else _items(enumerate(value), item, stack, path)
        return check_list

    def check_dict(value: Any, stack: Stack, path: str) -> Problem | None:
        if type(value) is not dict:
            return "", "an object", value
        return None if item is None else _items(value.items(), item, stack, path)
    return check_dict


def _items(pairs: Iterable[tuple[Any, Any]], item: Check, stack: Stack, path: str
           ) -> Problem | None:
    for key, element in pairs:
        where = f"[{key}]" if isinstance(key, int) else f".{key}"
        problem = item(element, stack, path + where)
        if problem is not None:
            return where + problem[0], problem[1], problem[2]
    return None


def check_event_data(data: Any, *, position: int, source: str | None = None) -> None:
    """Refuse an event whose known fields hold values of the wrong JSON type.

    ``position`` (1 for the first event of the list) names the event when its
    own ``event_id`` is unusable. An unknown kind is left to the decoder.
    """
    if not isinstance(data, dict):
        raise HistoryError(
            f"each event must be a JSON object, got {describe_value(data)} (event "
            f"#{position} of the list)", source=source, rule="event-object")
    kind = data.get("kind")
    cls = EVENT_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return
    raw_id = data.get("event_id")
    event_id = raw_id if type(raw_id) is int else None
    problem = _check(data, cls, "")
    if problem is not None:
        path, expected, value = problem
        where = "" if event_id is not None else f" (event #{position} of the list)"
        raise HistoryError(
            f"bad {kind} event{where}: {path} must be {expected}, got "
            f"{describe_value(value)}",
            source=source, event_id=event_id, rule="field-type",
        )


def _check(data: dict[str, Any], cls: type, prefix: str) -> Problem | None:
    """The first (path, expected, value) in ``data`` that does not fit ``cls``'s fields."""
    stack: Stack = [(data, cls, prefix)]
    while stack:
        obj, kind, path = stack.pop()
        for name, check in _checks(kind):
            if name in obj:
                problem = check(obj[name], stack, path + name)
                if problem is not None:
                    return path + name + problem[0], problem[1], problem[2]
    return None


@functools.cache
def _checks(cls: type) -> tuple[tuple[str, Check], ...]:
    """Each field of ``cls`` that has a check, with it (payload fields have none)."""
    hints = typing.get_type_hints(cls)
    found = ((f.name, _compile(hints[f.name])) for f in attrs.fields(cls))
    return tuple((name, check) for name, check in found if check is not None)


def describe_value(value: Any) -> str:
    """A short description of a JSON value for a message: ``the string 'abc'``, ``true``."""
    if value is None:
        return "null"
    if type(value) is bool:
        return "true" if value else "false"
    name = {str: "the string", int: "the integer", float: "the number", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)
    if isinstance(value, list | dict):
        return name
    text = repr(value)
    return f"{name} {text if len(text) <= 40 else text[:37] + '...'}"
