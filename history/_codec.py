"""The one converter: events and user payloads to JSON-able data and back.

One cattrs configuration (:func:`_make_converter`) both unstructures and
structures, so every type converts the same way in both directions. Encoding
follows the value's own classes; decoding always takes the target type from the
caller (a handler's annotation, an event class), never from the data, so loading
a history can not import or construct anything the data names (DESIGN
invariant 7).

A payload's converted data is checked to be exactly JSON; only when it is not
does :mod:`history._json_check` walk it again to name the offending type and its
path in a :class:`PayloadError`. Events skip that check: their payload fields
already hold data that :meth:`PayloadConverter.to_payload` produced, and are
copied through as they are.
"""

from __future__ import annotations

import contextlib
import enum
import json
import types
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Union, get_args, get_origin
from uuid import UUID

import cattrs
from cattrs.cols import is_mapping
from cattrs.fns import identity
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._errors import HistoryError, InternalError, PayloadError
from ._events import Event, Failure, JsonValue, added_later
from ._fast_decode import decode_event
from ._json_check import Encoder, explain_data, explain_value, is_json
from ._kinds import EVENT_KINDS
from ._lazy_table import LazyTable
from ._payload import EncodedPayloadError, ReservedPayloadKeyError, envelope_encoding, is_envelope

Hook = Callable[[Any], Any]

# --- hooks --------------------------------------------------------------------------------------


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _structure_date(value: Any, _: type) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 date string, got {type(value).__name__}")
    return date.fromisoformat(value)


def _structure_timedelta(value: Any, _: type) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected seconds as a number, got {type(value).__name__}")
    return timedelta(seconds=value)


def _structure_uuid(value: Any, _: type) -> UUID:
    if isinstance(value, UUID):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected a UUID string, got {type(value).__name__}")
    return UUID(value)


def _structure_decimal(value: Any, _: type) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"expected a decimal string, got {type(value).__name__}")
    return Decimal(value)


def _structure_any(value: Any, _: Any) -> Any:
    return value


def _sorted_list(items: Iterable[Any]) -> list[Any]:
    """A set's converted elements in an order that is the same in every process."""
    out = list(items)
    try:
        out.sort()
    except TypeError:  # mixed kinds (None and ints, dicts...): order by their JSON text
        with contextlib.suppress(TypeError, ValueError):  # not JSON: the check names it
            out.sort(key=partial(json.dumps, sort_keys=True))
    return out


def _is_enum(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, enum.Enum)


def _unstructure_enum(conv: cattrs.Converter, member: enum.Enum) -> Any:
    value = member._value_
    return value if type(value) is str or type(value) is int else conv.unstructure(value)


def _structure_enum(value: Any, cls: type[enum.Enum]) -> enum.Enum:
    try:
        return cls(value)
    except ValueError:
        if isinstance(value, str):  # an int-valued member as a dict key: "1"
            for member in cls:
                if type(member.value) is int and str(member.value) == value:
                    return member
        raise


def _is_tuple_subclass(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, tuple) and t is not tuple


def _unstructure_tuple_subclass(conv: cattrs.Converter, value: tuple[Any, ...]) -> list[Any]:
    return [conv.unstructure(item) for item in value]  # named tuples: a list, as tuples


def _unstructure_str(conv: cattrs.Converter, text: str) -> Any:
    if type(text) is str:
        return text
    if isinstance(text, enum.Enum):  # (str, Enum) and StrEnum members
        return _unstructure_enum(conv, text)
    return str.__str__(text)


def _unstructure_object(conv: cattrs.Converter, value: Any) -> Any:
    # a field annotated `object` holds anything: convert by the value's own class
    return value if value.__class__ is object else conv.unstructure(value)


def _is_optional(t: Any) -> bool:
    args = get_args(t)
    return get_origin(t) in (Union, types.UnionType) and len(args) == 2 and type(None) in args


def _optional_unstructurer(conv: cattrs.Converter, cl: Any) -> Hook:
    (other,) = (a for a in get_args(cl) if a is not type(None))
    hook = conv.get_unstructure_hook(other)
    if hook is identity:
        return identity  # inlined by the generated class functions

    def unstructure_optional(value: Any) -> Any:
        return None if value is None else hook(value)

    return unstructure_optional


def _json_key(key: Any, hook: Hook) -> Any:
    data = hook(key)
    if type(data) is str:
        return data
    if type(data) is int:
        return str(data)
    return key  # no JSON form: the check after conversion names it


def _mapping_unstructurer(conv: cattrs.Converter, cl: Any) -> Hook:
    args = get_args(cl)
    key_hint, value_hint = (args[0], Any) if len(args) == 1 else args or (Any, Any)
    key_hook = conv.get_unstructure_hook(key_hint)
    value_hook = conv.get_unstructure_hook(value_hint)
    if key_hook is identity and value_hook is identity and key_hint is str:
        return dict

    def unstructure_mapping(mapping: Any) -> dict[str, Any]:
        return {
            (key if type(key) is str else _json_key(key, key_hook)): value_hook(value)
            for key, value in mapping.items()
        }

    return unstructure_mapping


def _make_converter(*, events: bool = False) -> cattrs.Converter:
    """The converter configuration; ``events`` copies ``Any`` fields as they are."""
    conv = cattrs.Converter(
        forbid_extra_keys=True,
        unstruct_collection_overrides={Sequence: list, AbstractSet: _sorted_list},
    )
    # the C methods themselves: no Python frame on the hot path of every event
    conv.register_unstructure_hook(datetime, datetime.isoformat)
    conv.register_unstructure_hook(date, date.isoformat)
    conv.register_unstructure_hook(timedelta, timedelta.total_seconds)
    conv.register_unstructure_hook(UUID, str)
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_structure_hook(date, _structure_date)
    conv.register_structure_hook(timedelta, _structure_timedelta)
    conv.register_structure_hook(UUID, _structure_uuid)
    conv.register_structure_hook(Decimal, _structure_decimal)
    # `object` annotates "any value": the data stays as decoded from JSON
    conv.register_structure_hook_func(lambda t: t is object, _structure_any)
    conv.register_structure_hook_func(_is_enum, _structure_enum)
    # before `int`, which int enums would otherwise reach first by their MRO
    conv.register_structure_hook(enum.IntEnum, _structure_enum)
    conv.register_structure_hook(enum.IntFlag, _structure_enum)
    conv.register_unstructure_hook_func(_is_enum, partial(_unstructure_enum, conv))
    conv.register_unstructure_hook_func(
        _is_tuple_subclass, partial(_unstructure_tuple_subclass, conv)
    )
    conv.register_unstructure_hook_factory(is_mapping, partial(_mapping_unstructurer, conv))
    conv.register_unstructure_hook_factory(_is_optional, partial(_optional_unstructurer, conv))
    if events:
        conv.register_unstructure_hook_func(lambda t: t is Any, identity)
    else:
        conv.register_unstructure_hook(str, partial(_unstructure_str, conv))
        conv.register_unstructure_hook_func(
            lambda t: t is object, partial(_unstructure_object, conv)
        )
    return conv


# --- payloads -----------------------------------------------------------------------------------


class PayloadConverter:
    """Converts user values to JSON-able payloads and back, guided by type hints.

    Supported: attrs classes, dataclasses, enums (including ``IntEnum``),
    ``datetime``, ``date``, ``timedelta``, ``UUID``, ``Decimal``, ``Optional``,
    lists, tuples, sets, frozensets, deques, dicts (str keys; int, enum, UUID and
    date keys are written as strings) and JSON primitives. Sets encode as lists
    in sorted order, so equal sets give equal payloads in every process. Anything
    else, and values JSON can not hold (NaN, infinity, a string with an unpaired
    surrogate, a list that contains itself), raises :class:`PayloadError` naming
    the type and where it sits. Register more types with :meth:`register`.
    """

    def __init__(self) -> None:
        self._conv = _make_converter()
        self._encoders: dict[type, Encoder] = {}

    def register(
        self,
        cls: type,
        to_payload: Callable[[Any], JsonValue],
        from_payload: Callable[[JsonValue], Any],
    ) -> None:
        """Teach the converter a type of your own (both directions).

        ``to_payload`` also applies to subclasses of ``cls``; what it returns is
        encoded like any other value (so it may return attrs classes, datetimes...),
        and ``from_payload`` receives that JSON data.
        """
        self._encoders[cls] = to_payload
        unstructure = self._conv.unstructure
        self._conv.register_unstructure_hook(cls, lambda value: unstructure(to_payload(value)))
        self._conv.register_structure_hook(cls, lambda data, _: from_payload(data))

    def to_payload(self, value: Any) -> JsonValue:
        """Encode ``value`` as JSON-able data; raises PayloadError if it cannot."""
        return self._encode(value, "$")

    def to_payloads(self, values: Any) -> list[JsonValue]:
        """Encode each of a sequence of values (handler or run arguments)."""
        return [self._encode(v, f"$[{i}]") for i, v in enumerate(values)]

    def from_payload(self, data: JsonValue, type_hint: Any = Any) -> Any:
        """Decode ``data`` into ``type_hint`` (``Any`` returns the data unchanged).

        An encoded payload (see ``replay.converter``) raises EncodedPayloadError:
        only the converter or codec that wrote it can read it.
        """
        if type(data) is dict and is_envelope(data):
            raise EncodedPayloadError(envelope_encoding(data), type_name=_hint_name(type_hint))
        if type_hint is Any or type_hint is None or type_hint is type(None):
            return data
        try:
            return self._conv.structure(data, type_hint)
        except Exception as exc:
            name = _hint_name(type_hint)
            raise PayloadError(
                f"cannot decode payload {_preview(data)} as {name}: {_detail(exc)}",
                type_name=name,
                path="$",
            ) from exc

    def _encode(self, value: Any, path: str) -> JsonValue:
        try:
            data = self._conv.unstructure(value)
            if is_json(data):
                if type(data) is dict and is_envelope(data):
                    raise ReservedPayloadKeyError(type(value).__name__)
                return data
            found = explain_data(data, path, self._could_encode)
        except PayloadError:
            raise  # from an encoder that encodes with this converter itself
        except Exception as exc:  # a cycle, or a registered encoder that raised
            raise explain_value(value, path, self._encoder_for, exc) from exc
        if found is None:
            raise InternalError(f"is_json refused the payload at {path} but nothing in it")
        raise found

    def _encoder_for(self, cls: type) -> Encoder | None:
        for base in cls.__mro__:
            if base in self._encoders:
                return self._encoders[base]
        return None

    def _could_encode(self, value: Any) -> bool:
        try:
            return is_json(self._conv.unstructure(value))
        except Exception:  # only asked to choose an error message
            return False


def _hint_name(type_hint: Any) -> str:
    return str(getattr(type_hint, "__name__", repr(type_hint)))


def _preview(data: Any) -> str:
    text = repr(data)
    return text if len(text) <= 60 else text[:57] + "..."


def _detail(exc: Exception) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(exc))
    return f"{type(exc).__name__}: {exc}"


_default = PayloadConverter()


def default_converter() -> PayloadConverter:
    """The process-wide payload converter that workflows and clients share."""
    return _default


# --- events -------------------------------------------------------------------------------------

_event_conv = _make_converter(events=True)


def _omitted_at_default(cls: type[Any]) -> dict[str, Any]:
    """Fields added to the format later stay out of a file while at their default."""
    return {name: override(omit_if_default=True) for name in added_later(cls)}


# a Failure inside an event leaves its later fields (category) out at their default too
_event_conv.register_unstructure_hook(
    Failure, make_dict_unstructure_fn(Failure, _event_conv, **_omitted_at_default(Failure)))

_EVENT_ENCODERS: LazyTable[type[Event], Callable[[Any], dict[str, Any]]] = LazyTable(
    lambda cls: make_dict_unstructure_fn(cls, _event_conv, **_omitted_at_default(cls)),
    EVENT_KINDS.values())
_EVENT_DECODERS: LazyTable[type[Event], Callable[[Any, Any], Any]] = LazyTable(
    lambda cls: make_dict_structure_fn(cls, _event_conv, _cattrs_forbid_extra_keys=True),
    EVENT_KINDS.values())


def event_to_data(event: Event) -> dict[str, JsonValue]:
    """An event as a JSON-able dict, with its kind under ``"kind"`` first.

    Payload fields are shared with the event, not copied: treat the dict as
    read-only, as the event is.
    """
    data = {"kind": type(event).__name__}
    data.update(_EVENT_ENCODERS[type(event)](event))
    return data


def event_from_data(data: Any, *, source: str | None = None) -> Event:
    """Decode one event dict; raises HistoryError naming the event and the rule.

    An event exactly as the codec writes it is built by its kind's one-pass
    decoder (:mod:`history._fast_decode`); anything else goes through
    :func:`structure_event`, which converts what it can and names what it cannot.
    """
    event = decode_event(data)
    return event if event is not None else structure_event(data, source=source)


def structure_event(data: Any, *, source: str | None = None) -> Event:
    """Decode one event dict with the converter (no one-pass decoder tried first)."""
    if not isinstance(data, dict):
        raise HistoryError(
            f"each event must be a JSON object, got {type(data).__name__}",
            source=source,
            rule="event-object",
        )
    event_id = data.get("event_id")
    eid = event_id if isinstance(event_id, int) else None
    kind = data.get("kind")
    cls = EVENT_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(sorted(EVENT_KINDS))
        raise HistoryError(
            f"unknown event kind {kind!r}; known kinds: {known}",
            source=source,
            event_id=eid,
            rule="unknown-kind",
        )
    fields = {k: v for k, v in data.items() if k != "kind"}
    try:
        event: Event = _EVENT_DECODERS[cls](fields, cls)
    except Exception as exc:
        raise HistoryError(
            f"bad {kind} event: {_detail(exc)}",
            source=source,
            event_id=eid,
            rule="event-fields",
        ) from exc
    return event
