"""Where a value has no JSON form: the checks behind a PayloadError's type and path.

The converter in :mod:`history._codec` does every conversion; this module only
looks. :func:`is_json` says whether converted data is exactly JSON: str-keyed
dicts, lists, strings that UTF-8 can encode, finite floats, ints, bools and
``None``. Only when it is not (or when converting raised) do the slower walks
run, to name the first offending value and where it sits (``$``,
``$.items[2]``, ...):

* :func:`explain_data` walks converted data (paths there match the value's:
  field names, dict keys, list indexes, and a set's position in its sorted list);
* :func:`explain_value` walks the value itself, for what conversion cannot
  survive: a reference cycle, or an encoder registered for a type that raises.

Converted data nested deeper than :data:`MAX_PAYLOAD_DEPTH` is not JSON a
history can hold (see :mod:`history._limits`): :func:`is_json` refuses it and
:func:`explain_data` names the first array or object past the limit.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

import attrs

from ._errors import PayloadError
from ._limits import MAX_PAYLOAD_DEPTH

Encoder = Callable[[Any], Any]

_SURROGATE = re.compile("[\ud800-\udfff]")

_SUPPORTED = (
    "pass attrs classes, dataclasses, enums, datetimes, dates, timedeltas, UUIDs, "
    "Decimals, lists, tuples, sets, dicts or primitives, or register a converter for "
    "it with PayloadConverter.register()"
)


def is_json(data: Any, room: int = MAX_PAYLOAD_DEPTH) -> bool:
    """Whether ``data`` is exactly JSON (no subclasses, no NaN, no lone surrogates)
    nesting at most ``room`` arrays and objects (so data that contains itself is not).

    A container's strings and integers are checked in place, without a call.
    """
    t = type(data)
    if t is str:
        return data.isascii() or _SURROGATE.search(data) is None
    if t is dict or t is list:
        if room <= 0:
            return False
        if t is dict:
            for key in data:
                if type(key) is not str or not (key.isascii() or _SURROGATE.search(key) is None):
                    return False
        inner = room - 1
        for item in data.values() if t is dict else data:
            kind = type(item)
            if kind is str:
                if not (item.isascii() or _SURROGATE.search(item) is None):
                    return False
            elif kind is not int and kind is not bool and not is_json(item, inner):
                return False
        return True
    if t is int or t is bool or data is None:
        return True
    if t is float:
        return math.isfinite(data)
    return False


def explain_data(
    data: Any, path: str, could_encode: Callable[[Any], bool], room: int = MAX_PAYLOAD_DEPTH
) -> PayloadError | None:
    """The first value in converted ``data`` that is not JSON, as a PayloadError.

    ``could_encode(value)`` tells a type the converter handles (so it only got
    here through a field annotated with another type) from one it does not;
    ``room`` is how many more arrays and objects may nest at ``path``.
    """
    t = type(data)
    if (t is dict or t is list) and room <= 0:
        return too_deep(path)
    if t is dict:
        for key, item in data.items():
            if type(key) is not str:
                name = type(key).__qualname__
                return PayloadError(
                    f"dict key of type {name} at {path} has no JSON form; use str keys "
                    "(int, enum, UUID, date and datetime keys are written as strings)",
                    type_name=name,
                    path=path,
                )
            if _SURROGATE.search(key):
                return _surrogate_error(key, f"dict key at {path}", path)
            found = explain_data(item, f"{path}.{key}", could_encode, room - 1)
            if found is not None:
                return found
        return None
    if t is list:
        for i, item in enumerate(data):
            found = explain_data(item, f"{path}[{i}]", could_encode, room - 1)
            if found is not None:
                return found
        return None
    if t is str:
        return _surrogate_error(data, f"str at {path}", path) if _SURROGATE.search(data) else None
    if t is float and not math.isfinite(data):
        return PayloadError(
            f"float {data!r} at {path} has no JSON form: JSON has no NaN or Infinity; "
            "use None or a string for it",
            type_name="float",
            path=path,
        )
    if t in (int, bool, float, type(None)):
        return None
    return _no_json_form(data, path, could_encode(data))


def too_deep(path: str) -> PayloadError:
    """The PayloadError for an array or object at ``path`` past MAX_PAYLOAD_DEPTH."""
    return PayloadError(
        f"the payload nests deeper than {MAX_PAYLOAD_DEPTH} arrays and objects at {path}; "
        "a history could not be read back with it: flatten the value (or pass it as a "
        "string)",
        type_name="JSON",
        path=path,
    )


def depth_error(data: Any, path: str) -> PayloadError | None:
    """``too_deep`` for the first array or object of JSON ``data`` past the limit, if any.

    Walks with an explicit stack, so data of any depth is measured.
    """
    stack: list[tuple[Any, str, int]] = [(data, path, MAX_PAYLOAD_DEPTH)]
    while stack:
        value, where, room = stack.pop()
        if type(value) is not dict and type(value) is not list:
            continue
        if room <= 0:
            return too_deep(where)
        pairs = value.items() if type(value) is dict else enumerate(value)
        form = "{}.{}" if type(value) is dict else "{}[{}]"
        inner = [(item, form.format(where, key), room - 1) for key, item in pairs
                 if type(item) is dict or type(item) is list]
        stack.extend(reversed(inner))
    return None


def _no_json_form(value: Any, path: str, convertible: bool) -> PayloadError:
    name = type(value).__qualname__
    if convertible:
        return PayloadError(
            f"value of type {name} at {path} was not converted: the field or element "
            f"that holds it is annotated with another type; annotate it as {name} "
            "(or object)",
            type_name=name,
            path=path,
        )
    return PayloadError(
        f"value of type {name} at {path} has no JSON form; {_SUPPORTED}",
        type_name=name,
        path=path,
    )


def _surrogate_error(text: str, what: str, path: str) -> PayloadError:
    char = _SURROGATE.search(text)
    assert char is not None
    return PayloadError(
        f"{what} holds an unpaired surrogate {char.group()!r}, which UTF-8 (and so JSON "
        "text) cannot encode; decode bytes with errors='replace' or keep binary data "
        "out of payloads",
        type_name="str",
        path=path,
    )


def explain_value(
    value: Any, path: str, encoder_for: Callable[[type], Encoder | None], cause: BaseException
) -> PayloadError:
    """Why converting ``value`` raised ``cause``: a cycle, a failing encoder, or else."""
    try:
        found = _walk(value, path, encoder_for, set())
    except RecursionError:
        found = None
        cause = RecursionError()
    if found is not None:
        return found
    name = type(value).__qualname__
    if isinstance(cause, RecursionError):
        return PayloadError(
            f"value of type {name} at {path} is nested too deeply to encode",
            type_name=name,
            path=path,
        )
    return PayloadError(
        f"value of type {name} at {path} cannot be encoded: {type(cause).__name__}: {cause}",
        type_name=name,
        path=path,
    )


def _walk(
    value: Any, path: str, encoder_for: Callable[[type], Encoder | None], active: set[int]
) -> PayloadError | None:
    name = type(value).__qualname__
    if id(value) in active:
        return PayloadError(
            f"value of type {name} at {path} contains itself; JSON has no form for a "
            "reference cycle",
            type_name=name,
            path=path,
        )
    encoder = encoder_for(type(value))
    if encoder is not None:
        try:
            encoded = encoder(value)
        except Exception as exc:  # a user's encoder: any failure is reported as such
            return PayloadError(
                f"the encoder registered for {name} failed on the value at {path}: "
                f"{type(exc).__name__}: {exc}",
                type_name=name,
                path=path,
            )
        if encoder_for(type(encoded)) is encoder:
            return PayloadError(
                f"the encoder registered for {name} returned a {type(encoded).__qualname__} "
                f"at {path}, which it would encode again; return JSON data instead",
                type_name=name,
                path=path,
            )
        children: Iterator[tuple[Any, str]] = iter([(encoded, path)])
    else:
        children = _children(value, path)
    active.add(id(value))
    try:
        for child, child_path in children:
            found = _walk(child, child_path, encoder_for, active)
            if found is not None:
                return found
    finally:
        active.discard(id(value))
    return None


def _children(value: Any, path: str) -> Iterator[tuple[Any, str]]:
    """The parts a value is converted from, in the order the converter visits them."""
    if isinstance(value, enum.Enum):
        yield value.value, path
    elif isinstance(value, str | bytes | int | float):
        return
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            yield getattr(value, field.name), f"{path}.{field.name}"
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for dc_field in dataclasses.fields(value):
            yield getattr(value, dc_field.name), f"{path}.{dc_field.name}"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield item, f"{path}.{_key_text(key)}"
    elif isinstance(value, Collection):
        for i, item in enumerate(value):
            yield item, f"{path}[{i}]"


def _key_text(key: Any) -> str:
    return str(key.value) if isinstance(key, enum.Enum) else str(key)
