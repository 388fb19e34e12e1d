"""Payloads as bytes with metadata, and how an encoded one sits in a history.

A payload in a history is JSON data: the value's JSON form (the ``json/plain``
encoding), written as it is. A payload in any other form (a ``bytes`` value, the
output of a payload codec that compresses or encrypts) is a :class:`Payload`
(metadata and bytes, the familiar SDK's shape) and is written as an *envelope*,
a JSON object with the single key ``"$payload"``::

    {"$payload": {"metadata": {"encoding": "binary/zlib"}, "data": "eJzL..."}}

The data is base64 (standard alphabet, padded). A metadata value is its text when
it is UTF-8, else ``{"base64": "..."}``. The JSON
payload converter refuses to write a plain value that looks like an envelope
(:data:`ENVELOPE_KEY` as its only key), so the two can never be confused.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

import attrs

from ._errors import PayloadError
from ._events import JsonValue
from ._json_check import depth_error

ENVELOPE_KEY = "$payload"
"""The one key of an encoded payload's JSON object."""

JSON_PLAIN = b"json/plain"
"""The encoding of a payload written as plain JSON."""


def _metadata(value: Mapping[str, bytes]) -> dict[str, bytes]:
    return dict(value)


@attrs.frozen
class Payload:
    """A payload as bytes with metadata (``metadata["encoding"]`` names its form).

    What encoding payload converters produce and payload codecs transform, as in
    the familiar SDK (where it is a protobuf message): ``Payload(metadata=...,
    data=...)``, ``SerializeToString()`` and ``Payload.FromString()`` behave alike,
    so a codec that wraps one payload inside another ports unchanged. The bytes
    ``SerializeToString`` writes are this project's own (JSON), not protobuf.
    """

    metadata: dict[str, bytes] = attrs.field(factory=dict, converter=_metadata)
    data: bytes = b""

    def SerializeToString(self) -> bytes:  # the familiar protobuf name
        """This payload as bytes (read back with :meth:`FromString`)."""
        return json.dumps(_envelope_body(self), separators=(",", ":")).encode()

    @classmethod
    def FromString(cls, raw: bytes) -> Payload:  # the familiar protobuf name
        """A payload from :meth:`SerializeToString`'s bytes; PayloadError if they are not."""
        try:
            body = json.loads(raw)
        except (ValueError, TypeError) as exc:
            raise PayloadError(f"bytes given to Payload.FromString are not a payload: {exc}",
                               type_name="Payload", path="$") from exc
        return _from_body(body)

    @property
    def encoding(self) -> str:
        """``metadata["encoding"]`` as text (``""`` when absent)."""
        return self.metadata.get("encoding", b"").decode("utf-8", "replace")


def is_envelope(data: Any) -> bool:
    """Whether payload data from a history is an encoded payload's envelope."""
    return type(data) is dict and len(data) == 1 and ENVELOPE_KEY in data


def payload_to_data(payload: Payload) -> JsonValue:
    """How ``payload`` is written in a history: plain JSON for a ``json/plain``
    payload with no other metadata, else an envelope."""
    if payload.metadata == {"encoding": JSON_PLAIN}:
        try:
            data = json.loads(payload.data)
        except (ValueError, RecursionError) as exc:
            raise PayloadError(f"a json/plain payload holds no JSON: {exc}",
                               type_name="Payload", path="$") from exc
        too_deep = depth_error(data, "$")
        if too_deep is not None:
            raise too_deep
        return data
    return {ENVELOPE_KEY: _envelope_body(payload)}


def data_to_payload(data: JsonValue) -> Payload:
    """The :class:`Payload` that history data stands for (plain JSON is ``json/plain``)."""
    if is_envelope(data):
        return _from_body(data[ENVELOPE_KEY])
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return Payload(metadata={"encoding": JSON_PLAIN}, data=text.encode())


def envelope_encoding(data: JsonValue) -> str:
    """The encoding an envelope names (``"?"`` if it names none or is damaged)."""
    try:
        return data_to_payload(data).encoding or "?"
    except PayloadError:
        return "?"


def envelope_summary(data: JsonValue) -> str:
    """A short text for an envelope a reader cannot decode: its encoding and size."""
    try:
        payload = data_to_payload(data)
    except PayloadError:
        return "<encoded payload, damaged>"
    return f"<encoded {payload.encoding or '?'}, {len(payload.data)} bytes>"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _meta_value(raw: bytes) -> Any:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": _b64(raw)}


def _meta_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict) and set(value) == {"base64"}:
        return base64.b64decode(value["base64"], validate=True)
    raise ValueError(f"a metadata value must be text or {{'base64': ...}}, got {value!r}")


def _envelope_body(payload: Payload) -> dict[str, Any]:
    return {"metadata": {key: _meta_value(value) for key, value in payload.metadata.items()},
            "data": _b64(payload.data)}


def _from_body(body: Any) -> Payload:
    try:
        if not isinstance(body, dict) or set(body) != {"metadata", "data"}:
            raise ValueError("expected an object with 'metadata' and 'data'")
        meta = body["metadata"]
        if not isinstance(meta, dict):
            raise ValueError("'metadata' is not an object")
        metadata = {str(k): _meta_bytes(v) for k, v in meta.items()}
        return Payload(metadata=metadata, data=base64.b64decode(body["data"], validate=True))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise PayloadError(f"damaged encoded payload: {exc}", type_name="Payload",
                           path="$") from exc


class EncodedPayloadError(PayloadError):
    """An encoded payload reached a converter that cannot read it.

    The payload was written by a payload codec (or in an encoding such as
    ``binary/plain``) that the reader was not given; ``encoding`` names it.
    """

    code = "RPL-CV01"

    def __init__(self, encoding: str, *, type_name: str) -> None:
        super().__init__(
            f"payload is encoded ({encoding!r}) and cannot be decoded as {type_name}: no "
            "payload codec or converter here handles that encoding. Pass the data converter "
            "that wrote it (Client.connect(data_converter=...), Replayer(data_converter=...), "
            "--data-converter module:attribute on the command line)",
            type_name=type_name, path="$")
        self.encoding = encoding


class ReservedPayloadKeyError(PayloadError):
    """A plain value would be written as an object whose only key is ``"$payload"``,
    which is how a history marks an encoded payload."""

    code = "RPL-CV03"

    def __init__(self, type_name: str) -> None:
        super().__init__(
            f"a value of type {type_name} converts to an object whose only key is "
            f"{ENVELOPE_KEY!r}, which histories reserve for encoded payloads; rename the "
            "key or add another one", type_name=type_name, path="$")


for _cls in (Payload, EncodedPayloadError, ReservedPayloadKeyError):
    _cls.__module__ = "replay.history"  # public home; replay.exceptions re-exports the errors
del _cls
