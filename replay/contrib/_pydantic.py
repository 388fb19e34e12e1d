"""The pydantic payload converter: values through pydantic's own JSON conversion."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pydantic
import pydantic_core

from replay.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    EncodingPayloadConverter,
    JSONPlainPayloadConverter,
    Payload,
)
from replay.exceptions import PayloadError, ReservedPayloadKeyError
from replay.history import ENVELOPE_KEY, JsonValue
from replay.sandbox import unrestricted

if not pydantic.VERSION.startswith("2."):  # pragma: no cover - only pydantic 1 gets here
    raise ImportError(f"replay.contrib.pydantic needs pydantic 2, found {pydantic.VERSION}: "
                      "pip install 'replay-engine[pydantic]'")


class PydanticJSONPlainPayloadConverter(EncodingPayloadConverter):
    """``json/plain`` by pydantic: models (also inside lists, dicts, Optional), and
    whatever else pydantic serializes (dataclasses, datetimes, UUIDs, enums ...).

    Values are written with ``pydantic_core.to_jsonable_python`` and read back with a
    ``TypeAdapter`` of the type hint, so a model comes back as its class from the
    handler's annotation, never from the data.
    """

    def __init__(self) -> None:
        self._adapters: dict[Any, pydantic.TypeAdapter[Any]] = {}

    @property
    def encoding(self) -> str:
        return "json/plain"

    def to_payload(self, value: Any) -> Payload | None:
        text = json.dumps(self.to_data(value), separators=(",", ":"))
        return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())

    def from_payload(self, payload: Payload, type_hint: Any = None) -> Any:
        return self.from_data(json.loads(payload.data), type_hint)

    def to_data(self, value: Any) -> JsonValue:
        try:
            with unrestricted():  # pydantic's own machinery (see from_data)
                data = pydantic_core.to_jsonable_python(value)
        except pydantic_core.PydanticSerializationError as exc:
            name = type(value).__name__
            raise PayloadError(f"pydantic cannot serialize a value of type {name}: {exc}",
                               type_name=name, path="$") from exc
        if type(data) is dict and len(data) == 1 and ENVELOPE_KEY in data:
            raise ReservedPayloadKeyError(type(value).__name__)
        return data

    def from_data(self, data: JsonValue, type_hint: Any = None) -> Any:
        if type_hint is None or type_hint is Any:
            return data
        try:
            # Converting runs inside workflow code's guard, but it is engine work, not the
            # workflow's: pydantic reads its plugin settings from the environment once,
            # when it first builds an adapter for a type, which must not count as the
            # workflow reading its environment. What a payload decodes to depends only
            # on the data and the hint.
            with unrestricted():
                return self._adapter(type_hint).validate_python(data)
        except pydantic.ValidationError as exc:
            name = getattr(type_hint, "__name__", repr(type_hint))
            raise PayloadError(f"cannot decode payload as {name}: {exc}", type_name=name,
                               path="$") from exc

    def _adapter(self, type_hint: Any) -> pydantic.TypeAdapter[Any]:
        try:
            return self._adapters[type_hint]
        except (KeyError, TypeError):  # TypeError: an unhashable hint
            adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(type_hint)
            with contextlib.suppress(TypeError):  # an unhashable hint is not kept
                self._adapters[type_hint] = adapter
            return adapter


class PydanticPayloadConverter(CompositePayloadConverter):
    """The default converter with its ``json/plain`` part done by pydantic."""

    def __init__(self) -> None:
        parts = [PydanticJSONPlainPayloadConverter()
                 if isinstance(c, JSONPlainPayloadConverter) else c
                 for c in DefaultPayloadConverter.default_encoding_payload_converters]
        super().__init__(*parts)

    def register(self, cls: type, to_payload: Any, from_payload: Any) -> None:
        raise TypeError("PydanticPayloadConverter.register: teach pydantic the type instead "
                        "(a model field, or Annotated[..., PlainSerializer, PlainValidator])")


pydantic_data_converter = DataConverter(payload_converter_class=PydanticPayloadConverter)
"""A DataConverter whose payloads are converted by pydantic (v2)."""
