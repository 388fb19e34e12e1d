"""The one converter: events and user payloads to JSON-able data and back.

Decoding always takes the target type from the caller (a handler's annotation,
an event class), never from the data, so loading a history can not import or
construct anything the data names (DESIGN invariant 7).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn

from ._errors import HistoryError, PayloadError
from ._events import Event, JsonValue
from ._kinds import EVENT_KINDS

_JSON_SCALARS = (str, int, float, bool, type(None))


def _unstructure_datetime(value: datetime) -> str:
    return value.isoformat()


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _structure_timedelta(value: Any, _: type) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected seconds as a number, got {type(value).__name__}")
    return timedelta(seconds=value)


def _structure_any(value: Any, _: Any) -> Any:
    return value


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_unstructure_hook(datetime, _unstructure_datetime)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(timedelta, lambda td: td.total_seconds())
    conv.register_structure_hook(timedelta, _structure_timedelta)
    # `object` annotates "any value": the data stays as decoded from JSON
    conv.register_structure_hook_func(lambda t: t is object, _structure_any)
    return conv


class PayloadConverter:
    """Converts user values to JSON-able payloads and back, guided by type hints.

    Supported: attrs classes, dataclasses, enums (including ``IntEnum``),
    ``datetime``, ``timedelta``, ``Optional``, lists, tuples, dicts with string
    keys and JSON primitives. Anything else raises :class:`PayloadError` naming
    the type and where it sits. Register more types with :meth:`register`.
    """

    def __init__(self) -> None:
        self._conv = _make_converter()
        self._custom: dict[type, Callable[[Any], JsonValue]] = {}

    def register(
        self,
        cls: type,
        to_payload: Callable[[Any], JsonValue],
        from_payload: Callable[[JsonValue], Any],
    ) -> None:
        """Teach the converter a type of your own (both directions)."""
        self._custom[cls] = to_payload
        self._conv.register_unstructure_hook(cls, to_payload)
        self._conv.register_structure_hook(cls, lambda data, _: from_payload(data))

    def to_payload(self, value: Any) -> JsonValue:
        """Encode ``value`` as JSON-able data; raises PayloadError if it cannot."""
        return self._encode(value, "$")

    def to_payloads(self, values: Any) -> list[JsonValue]:
        """Encode each of a sequence of values (handler or run arguments)."""
        return [self._encode(v, f"$[{i}]") for i, v in enumerate(values)]

    def from_payload(self, data: JsonValue, type_hint: Any = Any) -> Any:
        """Decode ``data`` into ``type_hint`` (``Any`` returns the data unchanged)."""
        if type_hint is Any or type_hint is None or type_hint is type(None):
            return data
        try:
            return self._conv.structure(data, type_hint)
        except Exception as exc:
            name = getattr(type_hint, "__name__", repr(type_hint))
            detail = "; ".join(cattrs.transform_error(exc)) if isinstance(
                exc, cattrs.BaseValidationError
            ) else f"{type(exc).__name__}: {exc}"
            raise PayloadError(
                f"cannot decode payload {_preview(data)} as {name}: {detail}",
                type_name=name,
                path="$",
            ) from exc

    def _encode(self, value: Any, path: str) -> JsonValue:
        # Walks the value once, converting as it goes, so an error can name the
        # exact path of the value that has no JSON form.
        if value is None or isinstance(value, bool | str):
            return value
        if isinstance(value, enum.Enum):
            return self._encode(value.value, path)
        if isinstance(value, int | float):
            return value
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, timedelta):
            return value.total_seconds()
        custom = self._custom.get(type(value))
        if custom is not None:
            return custom(value)
        if isinstance(value, list | tuple):
            return [self._encode(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            out: dict[str, JsonValue] = {}
            for k, v in value.items():
                key = k.value if isinstance(k, enum.Enum) else k
                if not isinstance(key, str | int):
                    raise PayloadError(
                        f"dict key of type {type(k).__name__} at {path} has no JSON form; "
                        "use str keys",
                        type_name=type(k).__name__,
                        path=path,
                    )
                out[str(key)] = self._encode(v, f"{path}.{key}")
            return out
        if attrs.has(type(value)):
            return {
                f.name: self._encode(getattr(value, f.name), f"{path}.{f.name}")
                for f in attrs.fields(type(value))
            }
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {
                f.name: self._encode(getattr(value, f.name), f"{path}.{f.name}")
                for f in dataclasses.fields(value)
            }
        name = type(value).__qualname__
        raise PayloadError(
            f"value of type {name} at {path} has no JSON form; pass attrs classes, "
            "dataclasses, enums, datetimes, lists, dicts or primitives, or register a "
            "converter for it with PayloadConverter.register()",
            type_name=name,
            path=path,
        )


def _preview(data: Any) -> str:
    text = repr(data)
    return text if len(text) <= 60 else text[:57] + "..."


_default = PayloadConverter()


def default_converter() -> PayloadConverter:
    """The process-wide payload converter that workflows and clients share."""
    return _default


# --- events -----------------------------------------------------------------------------------

_event_conv = _make_converter()
_EVENT_ENCODERS: dict[type[Event], Callable[[Any], dict[str, Any]]] = {}
_EVENT_DECODERS: dict[type[Event], Callable[[Any, Any], Any]] = {}
for _cls in EVENT_KINDS.values():
    _EVENT_ENCODERS[_cls] = make_dict_unstructure_fn(_cls, _event_conv)
    _EVENT_DECODERS[_cls] = make_dict_structure_fn(
        _cls, _event_conv, _cattrs_forbid_extra_keys=True
    )


def event_to_data(event: Event) -> dict[str, JsonValue]:
    """An event as a JSON-able dict, with its kind under ``"kind"`` first."""
    data = {"kind": type(event).__name__}
    data.update(_EVENT_ENCODERS[type(event)](event))
    return data


def event_from_data(data: Any, *, source: str | None = None) -> Event:
    """Decode one event dict; raises HistoryError naming the event and the rule."""
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
        detail = (
            "; ".join(cattrs.transform_error(exc))
            if isinstance(exc, cattrs.BaseValidationError)
            else f"{type(exc).__name__}: {exc}"
        )
        raise HistoryError(
            f"bad {kind} event: {detail}",
            source=source,
            event_id=eid,
            rule="event-fields",
        ) from exc
    return event


def failure_to_data(failure: Any) -> dict[str, JsonValue]:
    """A recorded Failure as JSON-able data (used by stores for indexes)."""
    result: dict[str, JsonValue] = _event_conv.unstructure(failure)
    return result
