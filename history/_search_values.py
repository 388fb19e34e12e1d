"""Search attribute values as histories and stores keep them.

A run's search attributes are ``name -> {"type": TYPE, "value": VALUE}`` in
the JSON form of the history (``WorkflowStarted.search_attributes``,
``SearchAttributesUpserted.search_attributes``, ...); an upsert maps a name to
``None`` to remove it. ``TYPE`` is one of :data:`SEARCH_ATTRIBUTE_TYPES`, and
``VALUE`` is a string (Keyword, Text), an integer (Int), a finite float
(Float), a bool (Bool), an ISO 8601 UTC time with microseconds (Datetime) or a
list of strings (KeywordList).

This module checks both directions: :func:`encode` turns a Python value into
the stored form (refusing values that do not fit their type, naming the
attribute), :func:`check_stored` checks stored data read from a history, and
:func:`index_rows` spreads a value over the columns of the stores' index
table (one row per list element).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from ._errors import ReplayError
from ._events import JsonValue

SEARCH_ATTRIBUTE_TYPES: tuple[str, ...] = (
    "Keyword", "Text", "Int", "Float", "Bool", "Datetime", "KeywordList")
"""The value types a search attribute can have (the familiar SDK's indexed value types)."""

BUILTIN_ATTRIBUTES: dict[str, str] = {
    "WorkflowId": "Keyword",
    "WorkflowType": "Keyword",
    "RunId": "Keyword",
    "TaskQueue": "Keyword",
    "ExecutionStatus": "Keyword",
    "StartTime": "Datetime",
    "CloseTime": "Datetime",
}
"""Attributes every run has, from the runs index; their names cannot be set."""

NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
"""What a custom attribute's name looks like (so a list query can name it unquoted)."""

INT64 = (-(2**63), 2**63 - 1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


class SearchAttributeError(ReplayError):
    """A search attribute's name or value is not allowed; nothing was written.

    ``name`` is the attribute, ``type`` its declared type (``""`` if the name
    itself is the problem).
    """

    code = "RPL-SA01"

    def __init__(self, name: str, type: str, problem: str) -> None:
        what = f"search attribute {name!r}" + (f" ({type})" if type else "")
        super().__init__(f"{what}: {problem}. Nothing was written.")
        self.name = name
        self.type = type
        self.problem = problem


SearchAttributeError.__module__ = "replay.history"


# --- checking names and values ---------------------------------------------------------------


def check_name(name: Any) -> str:
    """``name`` if it may name a custom search attribute; SearchAttributeError if not."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise SearchAttributeError(
            str(name), "", "a name is 1 to 128 letters, digits and underscores, not starting "
            "with a digit")
    if name in BUILTIN_ATTRIBUTES:
        raise SearchAttributeError(
            name, "", f"{name} is a built-in attribute that every run has; it cannot be set. "
            "Choose another name")
    return name


def _check_text(name: str, type: str, value: Any) -> str:
    if not isinstance(value, str):
        raise SearchAttributeError(name, type, f"expected a str, got {_shown(value)}")
    if "\x00" in value:
        raise SearchAttributeError(name, type, "a string may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SearchAttributeError(name, type, "a string must be valid Unicode (it holds a "
                                   "lone surrogate)") from exc
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{type(value).__name__} {text}"


def time_text(value: datetime) -> str:
    """A Datetime value's stored form: UTC, microseconds, ``+00:00``."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def to_micros(value: datetime) -> int:
    """Microseconds since the epoch (how the stores index a Datetime)."""
    return (value.astimezone(UTC) - _EPOCH) // _MICRO


def _encode_value(name: str, type: str, value: Any) -> JsonValue:
    if type in ("Keyword", "Text"):
        return _check_text(name, type, value)
    if type == "Int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise SearchAttributeError(name, type, f"expected an int, got {_shown(value)}")
        if not INT64[0] <= value <= INT64[1]:
            raise SearchAttributeError(name, type, f"{value} is outside the 64-bit range")
        return int(value)
    if type == "Float":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise SearchAttributeError(name, type, f"expected a float, got {_shown(value)}")
        number = float(value)
        if not math.isfinite(number):
            raise SearchAttributeError(name, type, f"{number} is not a finite number")
        return number
    if type == "Bool":
        if not isinstance(value, bool):
            raise SearchAttributeError(name, type, f"expected a bool, got {_shown(value)}")
        return value
    if type == "Datetime":
        if not isinstance(value, datetime):
            raise SearchAttributeError(name, type, f"expected a datetime, got {_shown(value)}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise SearchAttributeError(name, type, "a naive datetime is ambiguous: give it a "
                                       "time zone (e.g. tzinfo=timezone.utc)")
        return time_text(value)
    if type == "KeywordList":
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise SearchAttributeError(name, type, "expected a list of str, got "
                                       + _shown(value))
        return [_check_text(name, type, item) for item in value]
    raise SearchAttributeError(name, type, "unknown type; the types are "
                               + ", ".join(SEARCH_ATTRIBUTE_TYPES))


def encode(name: str, type: str, value: Any) -> dict[str, JsonValue]:
    """The stored form of ``value`` for attribute ``name`` of ``type`` (checked)."""
    check_name(name)
    return {"type": type, "value": _encode_value(name, type, value)}


def decode(name: str, stored: JsonValue) -> tuple[str, Any]:
    """(type, Python value) of a stored value (checked): Datetime comes back aware UTC,
    KeywordList as a list."""
    type, value = check_stored(name, stored)
    if type == "Datetime":
        return type, datetime.fromisoformat(value)
    if type == "KeywordList":
        return type, list(value)
    return type, value


def check_stored(name: str, stored: JsonValue) -> tuple[str, Any]:
    """(type, stored value) of stored data; SearchAttributeError if it is not well formed."""
    check_name(name)
    if not isinstance(stored, dict) or set(stored) != {"type", "value"}:
        raise SearchAttributeError(name, "", 'a stored value is {"type": ..., "value": ...}, '
                                   f"found {_shown(stored)}")
    type, value = stored["type"], stored["value"]
    if type not in SEARCH_ATTRIBUTE_TYPES:
        raise SearchAttributeError(name, str(type), "unknown type; the types are "
                                   + ", ".join(SEARCH_ATTRIBUTE_TYPES))
    if type == "Datetime":
        if not isinstance(value, str):
            raise SearchAttributeError(name, type, f"expected ISO 8601 text, got {_shown(value)}")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise SearchAttributeError(name, type, f"{value!r} is not an ISO 8601 time") from exc
        if parsed.tzinfo is None or time_text(parsed) != value:
            raise SearchAttributeError(name, type, f"{value!r} is not in the stored form "
                                       "(UTC with microseconds and +00:00)")
        return type, value
    if type == "Float" and isinstance(value, int) and not isinstance(value, bool):
        raise SearchAttributeError(name, type, f"expected a float, got {_shown(value)}")
    checked = _encode_value(name, type, value)
    return type, checked


def check_stored_map(values: Mapping[str, JsonValue], *, unset_ok: bool) -> None:
    """Check every entry of a recorded map (``None`` removes an attribute if ``unset_ok``)."""
    if not isinstance(values, Mapping):
        raise SearchAttributeError("?", "", f"expected a map of attributes, got {_shown(values)}")
    for name, stored in values.items():
        if stored is None and unset_ok:
            check_name(name)
            continue
        check_stored(name, stored)


def merged(current: Mapping[str, JsonValue], patch: Mapping[str, JsonValue]
           ) -> dict[str, JsonValue]:
    """``current`` with ``patch`` applied (``None`` removes a name)."""
    result = dict(current)
    for name, stored in patch.items():
        if stored is None:
            result.pop(name, None)
        else:
            result[name] = stored
    return result


# --- the index's rows ------------------------------------------------------------------------


@attrs.frozen
class IndexRow:
    """One row of a store's search-attribute index.

    ``position`` is 0 for a scalar and the element's index for a KeywordList (an
    empty list has one row at position -1 with no value, so the attribute still
    counts as set). Keyword, Text and list elements use ``text_value``; Int, Bool
    (0 or 1) and Datetime (microseconds since the epoch) use ``int_value``; Float
    uses ``float_value``.
    """

    name: str
    type: str
    position: int
    text_value: str | None = None
    int_value: int | None = None
    float_value: float | None = None


def index_rows(name: str, stored: JsonValue) -> list[IndexRow]:
    """The index rows of one stored value."""
    type, value = check_stored(name, stored)
    if type in ("Keyword", "Text"):
        return [IndexRow(name, type, 0, text_value=value)]
    if type in ("Int", "Bool"):
        return [IndexRow(name, type, 0, int_value=int(value))]
    if type == "Float":
        return [IndexRow(name, type, 0, float_value=float(value))]
    if type == "Datetime":
        return [IndexRow(name, type, 0, int_value=to_micros(datetime.fromisoformat(value)))]
    if not value:
        return [IndexRow(name, type, -1)]
    return [IndexRow(name, type, i, text_value=item) for i, item in enumerate(value)]


def event_problem(event: Any) -> str | None:
    """What is wrong with an event's ``search_attributes`` (None if nothing, or if its kind
    has none): the history rule ``search-attributes``, checked by validation and stores."""
    values = getattr(event, "search_attributes", None)
    if values is None:
        return None
    try:
        check_stored_map(values, unset_ok=type(event).__name__ == "SearchAttributesUpserted")
    except SearchAttributeError as exc:
        return f"{type(event).__name__}.search_attributes: {exc.problem} ({exc.name!r})"
    return None
