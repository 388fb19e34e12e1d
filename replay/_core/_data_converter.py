"""DataConverter: a payload converter, a failure converter and an optional codec.

It is a frozen dataclass, as in the familiar SDK, so
``dataclasses.replace(converter.default(), payload_codec=MyCodec())`` works.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from replay.history import (
    Failure,
    History,
    JsonValue,
    PayloadCodec,
    PayloadConverter,
    ReplayError,
    decode_history,
    decode_payloads,
    encode_payloads,
)

from ._converters import DefaultPayloadConverter
from ._failure import from_failure, to_failure


class FailureConverter:
    """Turns exceptions into recorded :class:`~replay.history.Failure` s and back."""

    def to_failure(self, exception: BaseException,
                   payload_converter: PayloadConverter) -> Failure:
        """Record ``exception`` (and its cause chain)."""
        return to_failure(exception, payload_converter)

    def from_failure(self, failure: Failure,
                     payload_converter: PayloadConverter) -> BaseException:
        """The exception a recorded failure stands for (an ``ApplicationError``, a
        ``TimeoutError`` ...; details stay payload data)."""
        return from_failure(failure)


class DefaultFailureConverter(FailureConverter):
    """The failure converter the engine uses: type, message, stack trace, details,
    cause chain and the ApplicationError fields, recorded as they are."""


class UnsupportedConverterError(ReplayError):
    """A DataConverter part this engine cannot use (a custom failure converter)."""

    code = "RPL-CV04"

    def __init__(self, what: str, given: str) -> None:
        super().__init__(
            f"DataConverter({what}={given}) is not supported: the engine records failures "
            "with DefaultFailureConverter only (a custom failure converter would have to "
            "run inside workflow code and in every reader of a history). Leave "
            f"{what} at its default; to keep failure messages out of storage, raise "
            "errors whose message holds nothing secret and put data in details, which "
            "the payload codec encodes")
        self.what = what


@dataclasses.dataclass(frozen=True)
class DataConverter:
    """How values become payloads and back, and what happens to payloads at rest.

    * ``payload_converter_class``: called with no arguments to make the payload
      converter (a class such as ``DefaultPayloadConverter``, or any factory).
    * ``payload_codec``: applied to every payload at the edge of storage (see
      ``replay.converter.PayloadCodec``); None stores payloads as the converter
      made them.
    * ``failure_converter_class``: only ``DefaultFailureConverter`` (UnsupportedConverterError
      otherwise).
    """

    payload_converter_class: Callable[[], PayloadConverter] = DefaultPayloadConverter
    payload_codec: PayloadCodec | None = None
    failure_converter_class: type[FailureConverter] = DefaultFailureConverter
    payload_converter: PayloadConverter = dataclasses.field(init=False, repr=False,
                                                            compare=False)
    failure_converter: FailureConverter = dataclasses.field(init=False, repr=False,
                                                            compare=False)

    default: ClassVar[DataConverter]
    """The default: ``DefaultPayloadConverter``, no codec."""

    def __post_init__(self) -> None:
        if not issubclass(self.failure_converter_class, DefaultFailureConverter):
            raise UnsupportedConverterError("failure_converter_class",
                                            self.failure_converter_class.__qualname__)
        made = self.payload_converter_class()
        if not isinstance(made, PayloadConverter):
            raise TypeError(
                f"DataConverter(payload_converter_class=...) made a {type(made).__name__}, "
                "not a PayloadConverter: pass a subclass of "
                "replay.converter.CompositePayloadConverter (or PayloadConverter)")
        object.__setattr__(self, "payload_converter", made)
        object.__setattr__(self, "failure_converter", self.failure_converter_class())

    @classmethod
    def wrapping(cls, payload_converter: PayloadConverter,
                 payload_codec: PayloadCodec | None = None) -> DataConverter:
        """A data converter around an existing payload converter instance."""
        return cls(payload_converter_class=lambda: payload_converter,
                   payload_codec=payload_codec)

    async def encode(self, values: Sequence[Any]) -> list[JsonValue]:
        """``values`` as payloads, through the codec when there is one."""
        data = self.payload_converter.to_payloads(values)
        if self.payload_codec is None:
            return data
        return await encode_payloads(self.payload_codec, data)

    async def decode(self, payloads: Sequence[JsonValue],
                     type_hints: Sequence[Any] | None = None) -> list[Any]:
        """Payloads (as a history holds them) back to values, through the codec first."""
        data = list(payloads)
        if self.payload_codec is not None:
            data = await decode_payloads(self.payload_codec, data)
        hints = list(type_hints or [])
        return [self.payload_converter.from_payload(d, hints[i] if i < len(hints) else Any)
                for i, d in enumerate(data)]

    async def decode_history(self, history: History) -> History:
        """``history`` with its payloads decoded by the codec (itself if there is none)."""
        if self.payload_codec is None:
            return history
        return await decode_history(self.payload_codec, history)


DataConverter.default = DataConverter()


def default() -> DataConverter:
    """The default data converter (``DataConverter.default``)."""
    return DataConverter.default
