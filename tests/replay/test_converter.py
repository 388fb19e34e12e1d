"""replay.converter: the familiar converter shapes (composite of encoding converters, a
custom encoding in front of the defaults, registering a type on the default
converter), DataConverter's encode/decode with a codec, the Payload envelope, and
what is refused."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest

from replay.client import Client
from replay.converter import (
    BinaryPlainPayloadConverter,
    CompositePayloadConverter,
    DataConverter,
    DefaultFailureConverter,
    DefaultPayloadConverter,
    EncodingPayloadConverter,
    FailureConverter,
    JSONPlainPayloadConverter,
    Payload,
    PayloadCodec,
    default,
)
from replay.exceptions import (
    ApplicationError,
    EncodedPayloadError,
    PayloadError,
    ReservedPayloadKeyError,
    UnsupportedConverterError,
)
from replay.history import MemoryStore, PayloadConverter, data_to_payload, payload_to_data
from replay.worker import Replayer


class Greeting:
    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Greeting) and other.text == self.text

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value


class GreetingConverter(EncodingPayloadConverter):
    """The familiar sample's shape: its own encoding, None for values it does not handle."""

    @property
    def encoding(self) -> str:
        return "text/greeting"

    def to_payload(self, value: Any) -> Payload | None:
        if not isinstance(value, Greeting):
            return None
        return Payload(metadata={"encoding": self.encoding.encode()}, data=value.text.encode())

    def from_payload(self, payload: Payload, type_hint: Any = None) -> Any:
        return Greeting(payload.data.decode())


class GreetingPayloadConverter(CompositePayloadConverter):
    def __init__(self) -> None:
        super().__init__(GreetingConverter(),
                         *DefaultPayloadConverter.default_encoding_payload_converters)


def test_a_custom_encoding_goes_first_and_the_defaults_handle_the_rest() -> None:
    conv = DataConverter(payload_converter_class=GreetingPayloadConverter).payload_converter
    data = conv.to_payload(Greeting("hi"))
    assert data == {"$payload": {"metadata": {"encoding": "text/greeting"}, "data": "aGk="}}
    assert conv.from_payload(data, Greeting) == Greeting("hi")
    assert conv.to_payloads([1, None, b"\x01"]) == [
        1, None, {"$payload": {"metadata": {"encoding": "binary/plain"}, "data": "AQ=="}}]
    assert conv.from_payload(conv.to_payload(b"\x01"), bytes) == b"\x01"
    assert conv.from_payload([1, 2], list[int]) == [1, 2]


def test_a_payload_in_an_encoding_no_part_knows_is_refused() -> None:
    only_json = CompositePayloadConverter(JSONPlainPayloadConverter())
    data = default().payload_converter.to_payload(b"x")
    with pytest.raises(EncodedPayloadError, match=r"RPL-CV01.*'binary/plain'"):
        only_json.from_payload(data, bytes)
    with pytest.raises(PayloadError, match="no payload converter handles a value of type "
                                           "Greeting"):
        CompositePayloadConverter(BinaryPlainPayloadConverter()).to_payload(Greeting("x"))


def test_register_on_the_default_converter_teaches_every_default_converter() -> None:
    class Point:
        def __init__(self, x: int, y: int) -> None:
            self.x, self.y = x, y

    DefaultPayloadConverter().register(Point, lambda p: [p.x, p.y], lambda d: Point(*d))
    fresh = default().payload_converter  # another instance, the same JSON part
    point = fresh.from_payload(fresh.to_payload(Point(1, 2)), Point)
    assert (point.x, point.y) == (1, 2)
    private = JSONPlainPayloadConverter()
    with pytest.raises(PayloadError, match="Point"):
        private.to_data(Point(1, 2))


def test_json_plain_payloads_are_plain_json_and_others_envelopes() -> None:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"a": [1]}')
    assert payload_to_data(plain) == {"a": [1]}
    assert data_to_payload({"a": [1]}).metadata == {"encoding": b"json/plain"}
    odd = Payload(metadata={"encoding": b"x/y", "key": b"\xff"}, data=b"\x00")
    data = payload_to_data(odd)
    assert data == {"$payload": {"metadata": {"encoding": "x/y", "key": {"base64": "/w=="}},
                                 "data": "AA=="}}
    assert data_to_payload(data) == odd
    assert Payload.FromString(odd.SerializeToString()) == odd
    with pytest.raises(PayloadError, match="damaged encoded payload"):
        data_to_payload({"$payload": {"metadata": {}, "data": "not base64!"}})
    with pytest.raises(PayloadError, match="not a payload"):
        Payload.FromString(b"\xff")


def test_a_plain_value_that_looks_like_an_envelope_is_refused() -> None:
    with pytest.raises(ReservedPayloadKeyError, match=r"RPL-CV03"):
        default().payload_converter.to_payload({"$payload": {"metadata": {}, "data": ""}})
    assert default().payload_converter.to_payload({"$payload": 1, "other": 2}) == {
        "$payload": 1, "other": 2}


class Reverse(PayloadCodec):
    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload(metadata={"encoding": b"binary/reversed"},
                        data=p.SerializeToString()[::-1]) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload.FromString(p.data[::-1]) if p.encoding == "binary/reversed" else p
                for p in payloads]


def test_data_converter_encode_and_decode_go_through_the_codec() -> None:
    conv = dataclasses.replace(default(), payload_codec=Reverse())
    assert isinstance(conv.payload_converter, DefaultPayloadConverter)
    encoded = asyncio.run(conv.encode([{"n": 1}, "s", None]))
    assert all(d["$payload"]["metadata"] == {"encoding": "binary/reversed"} for d in encoded)
    assert asyncio.run(conv.decode(encoded, [dict[str, int], str])) == [{"n": 1}, "s", None]
    assert asyncio.run(default().encode([1])) == [1]


def test_only_the_default_failure_converter_is_accepted() -> None:
    class Mine(FailureConverter):
        pass

    with pytest.raises(UnsupportedConverterError, match=r"RPL-CV04.*failure_converter_class="
                                                          r".*Mine"):
        DataConverter(failure_converter_class=Mine)
    failure = default().failure_converter.to_failure(ApplicationError("no", 7, type="Bad"),
                                                     default().payload_converter)
    assert failure.type == "Bad" and failure.details == [7]
    back = DefaultFailureConverter().from_failure(failure, default().payload_converter)
    assert isinstance(back, ApplicationError) and back.message == "no"


def test_a_payload_converter_class_must_make_a_payload_converter() -> None:
    with pytest.raises(TypeError, match="made a str, not a PayloadConverter"):
        DataConverter(payload_converter_class=lambda: "nope")  # type: ignore[arg-type,return-value]  # the wrong thing on purpose


async def test_the_client_and_the_replayer_hand_out_the_converter_they_were_given() -> None:
    conv = DataConverter(payload_converter_class=GreetingPayloadConverter)
    client = await Client.connect("memory://", data_converter=conv)
    assert client.data_converter is conv and client.converter is conv.payload_converter
    assert client.config()["data_converter"] is conv
    client.close()
    bare = PayloadConverter()
    wrapped = Client(MemoryStore(), converter=bare)
    assert wrapped.converter is bare and wrapped.data_converter.payload_codec is None
    assert Replayer(workflows=[], data_converter=conv).data_converter is conv
    with pytest.raises(TypeError, match="not both"):
        Replayer(workflows=[], data_converter=conv, payload_converter=bare)
    with pytest.raises(TypeError, match=r"must be a replay\.converter\.DataConverter"):
        Client(MemoryStore(), data_converter=bare)  # type: ignore[arg-type]  # on purpose
