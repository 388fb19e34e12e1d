"""Payload converters in the familiar SDK's shape: one per encoding, composed in order.

Every payload converter is a :class:`replay.history.PayloadConverter` (the engine
calls ``to_payload``, ``to_payloads`` and ``from_payload`` on it, and payloads are
JSON data as a history holds them). :class:`CompositePayloadConverter` tries its
:class:`EncodingPayloadConverter` parts in order when encoding and picks the part
by the payload's encoding when decoding. A ``json/plain`` payload is written as
plain JSON; a payload in any other encoding as an envelope
(``replay.history.Payload``, see docs/history-format.md).
"""

from __future__ import annotations

import abc
import json
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from replay.history import (
    ENVELOPE_KEY,
    EncodedPayloadError,
    JsonValue,
    Payload,
    PayloadConverter,
    PayloadError,
    data_to_payload,
    default_converter,
    payload_to_data,
)


class _Unhandled:
    def __repr__(self) -> str:
        return "UNHANDLED"


UNHANDLED: Any = _Unhandled()
"""What :meth:`EncodingPayloadConverter.to_data` returns for a value it does not handle."""

_JSON_PLAIN = b"json/plain"


class EncodingPayloadConverter(abc.ABC):
    """Converts values of one encoding to :class:`~replay.history.Payload` and back.

    ``to_payload`` returns None for a value this converter does not handle, so a
    :class:`CompositePayloadConverter` asks the next one.
    """

    @property
    @abc.abstractmethod
    def encoding(self) -> str:
        """The ``metadata["encoding"]`` this converter writes and reads."""

    @abc.abstractmethod
    def to_payload(self, value: Any) -> Payload | None:
        """``value`` as a payload, or None if this converter does not handle it."""

    @abc.abstractmethod
    def from_payload(self, payload: Payload, type_hint: Any = None) -> Any:
        """The value ``payload`` holds, shaped by ``type_hint`` where it applies."""

    def to_data(self, value: Any) -> JsonValue:
        """``value`` as history data (plain JSON or an envelope), or :data:`UNHANDLED`.

        The composite calls this; override it to skip building a Payload (the JSON
        converter writes its data directly).
        """
        payload = self.to_payload(value)
        return UNHANDLED if payload is None else payload_to_data(payload)

    def from_data(self, data: JsonValue, type_hint: Any = None) -> Any:
        """The value history ``data`` of this converter's encoding holds."""
        return self.from_payload(data_to_payload(data), type_hint)


class JSONPlainPayloadConverter(EncodingPayloadConverter):
    """Values as plain JSON (``json/plain``), by the engine's one cattrs converter.

    Handles every type ``replay.history.PayloadConverter`` does (attrs classes,
    dataclasses, enums, datetimes, collections, ...), typed by the hint on the way
    back; teach it more with :meth:`register`. ``json_converter`` is the
    converter it uses (default: the process-wide one, so types registered there
    are known here too).
    """

    def __init__(self, json_converter: PayloadConverter | None = None) -> None:
        self.json = json_converter if json_converter is not None else PayloadConverter()

    @property
    def encoding(self) -> str:
        return "json/plain"

    def register(self, cls: type, to_payload: Callable[[Any], JsonValue],
                 from_payload: Callable[[JsonValue], Any]) -> None:
        """Teach this converter a type (see ``replay.history.PayloadConverter.register``)."""
        self.json.register(cls, to_payload, from_payload)

    def to_payload(self, value: Any) -> Payload | None:
        text = json.dumps(self.json.to_payload(value), separators=(",", ":"))
        return Payload(metadata={"encoding": _JSON_PLAIN}, data=text.encode())

    def from_payload(self, payload: Payload, type_hint: Any = None) -> Any:
        return self.json.from_payload(json.loads(payload.data), _hint(type_hint))

    def to_data(self, value: Any) -> JsonValue:
        return self.json.to_payload(value)

    def from_data(self, data: JsonValue, type_hint: Any = None) -> Any:
        return self.json.from_payload(data, _hint(type_hint))


def _hint(type_hint: Any) -> Any:
    return Any if type_hint is None else type_hint


class BinaryNullPayloadConverter(EncodingPayloadConverter):
    """``None`` as ``binary/null``. In a history it is JSON ``null``, as always."""

    @property
    def encoding(self) -> str:
        return "binary/null"

    def to_payload(self, value: Any) -> Payload | None:
        return Payload(metadata={"encoding": b"binary/null"}) if value is None else None

    def from_payload(self, payload: Payload, type_hint: Any = None) -> Any:
        return None

    def to_data(self, value: Any) -> JsonValue:
        return None if value is None else UNHANDLED


class BinaryPlainPayloadConverter(EncodingPayloadConverter):
    """``bytes`` values as ``binary/plain`` (an envelope in the history)."""

    @property
    def encoding(self) -> str:
        return "binary/plain"

    def to_payload(self, value: Any) -> Payload | None:
        if isinstance(value, bytes | bytearray):
            return Payload(metadata={"encoding": b"binary/plain"}, data=bytes(value))
        return None

    def from_payload(self, payload: Payload, type_hint: Any = None) -> Any:
        return payload.data


class CompositePayloadConverter(PayloadConverter):
    """Tries each encoding converter in order to encode; decodes by the payload's
    encoding. Plain JSON in a history is decoded by the ``json/plain`` part.

    It is a :class:`~replay.history.PayloadConverter` so that the engine takes it
    wherever it takes one; it overrides every conversion, and the JSON machinery it
    inherits is not used (its parts bring their own).
    """

    def __init__(self, *converters: EncodingPayloadConverter) -> None:
        super().__init__()
        self.converters: dict[str, EncodingPayloadConverter] = {}
        """The parts by encoding, in the order they are tried."""
        for conv in converters:
            self.converters[conv.encoding] = conv
        self._order = tuple(self.converters.values())
        plain = self.converters.get("json/plain")
        # the default parts, exactly: convert without going through each part in turn
        self._core = plain.json if type(plain) is JSONPlainPayloadConverter else None
        self._fast = self._core is not None and [type(c) for c in self._order] == [
            BinaryNullPayloadConverter, BinaryPlainPayloadConverter, JSONPlainPayloadConverter]

    def register(self, cls: type, to_payload: Callable[[Any], JsonValue],
                 from_payload: Callable[[JsonValue], Any]) -> None:
        """Teach the ``json/plain`` part a type of your own (both directions)."""
        part = self.converters.get("json/plain")
        if not isinstance(part, JSONPlainPayloadConverter):
            raise TypeError(f"{type(self).__name__}.register: this converter has no "
                            "JSONPlainPayloadConverter part to register the type with")
        part.register(cls, to_payload, from_payload)

    def to_payload(self, value: Any) -> JsonValue:
        if self._fast and self._core is not None and value is not None and not isinstance(
                value, bytes | bytearray):
            return self._core.to_payload(value)
        for conv in self._order:
            data = conv.to_data(value)
            if data is not UNHANDLED:
                return data
        raise PayloadError(
            f"no payload converter handles a value of type {type(value).__name__} (tried "
            f"{', '.join(self.converters)})", type_name=type(value).__name__, path="$")

    def to_payloads(self, values: Iterable[Any]) -> list[JsonValue]:
        items = values if isinstance(values, list | tuple) else list(values)
        core = self._core
        if self._fast and core is not None:
            for v in items:
                if v is None or isinstance(v, bytes | bytearray):
                    break
            else:
                return core.to_payloads(items)  # its errors name the position ($[1]...)
        return [self.to_payload(v) for v in items]

    def from_payload(self, data: JsonValue, type_hint: Any = Any) -> Any:
        if type(data) is not dict or len(data) != 1 or ENVELOPE_KEY not in data:
            core = self._core  # plain JSON: the json/plain part (its core, directly)
            if core is not None:
                return core.from_payload(data, type_hint)
            plain = self.converters.get("json/plain")
            if plain is None:
                raise PayloadError("this converter has no json/plain part to decode plain "
                                   "JSON payloads with", type_name="JSON", path="$")
            return plain.from_data(data, type_hint)
        payload = data_to_payload(data)
        conv = self.converters.get(payload.encoding)
        if conv is None:
            raise EncodedPayloadError(payload.encoding or "?",
                                      type_name=getattr(type_hint, "__name__", repr(type_hint)))
        return conv.from_payload(payload, type_hint)

    def from_payloads(self, data: Iterable[JsonValue],
                      type_hints: Iterable[Any] | None = None) -> list[Any]:
        """Decode each payload, with the matching hint (``Any`` where none is given)."""
        items = list(data)
        hints = list(type_hints) if type_hints is not None else []
        return [self.from_payload(d, hints[i] if i < len(hints) else Any)
                for i, d in enumerate(items)]


class DefaultPayloadConverter(CompositePayloadConverter):
    """The default: ``binary/null``, ``binary/plain`` (bytes) and ``json/plain``.

    Its ``json/plain`` part uses the process-wide JSON converter
    (``replay.history.default_converter()``), so :meth:`register` teaches every
    default converter in the process, as registering there always did.
    """

    default_encoding_payload_converters: ClassVar[tuple[EncodingPayloadConverter, ...]] = (
        BinaryNullPayloadConverter(),
        BinaryPlainPayloadConverter(),
        JSONPlainPayloadConverter(default_converter()),
    )

    def __init__(self) -> None:
        super().__init__(*self.default_encoding_payload_converters)
