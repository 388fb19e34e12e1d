"""Payload codecs: transform payloads on their way into and out of a store or file.

A codec (compression, encryption) sees :class:`~history._payload.Payload` objects,
as in the familiar SDK. Everything that holds payloads goes through it at the
edge of storage: the events a store appends and returns, its run records and task
records, update and query requests, and history files read for a replay. Code
above the edge (workflow code, activities, the worker's cache, replay matching)
only ever sees decoded payloads, so a codec whose output differs on every call
(a fresh nonce per encryption) still replays.

The familiar codec interface is asynchronous; stores are called synchronously,
so :class:`CodecRunner` runs the codec's coroutines on an event loop of its own,
in one thread, and waits for them.
"""

from __future__ import annotations

import abc
import asyncio
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from ._errors import ReplayError
from ._events import Event, JsonValue
from ._history import History
from ._payload import Payload, data_to_payload, payload_to_data
from ._payload_walk import collect, rebuild

T = TypeVar("T")


class PayloadCodecError(ReplayError):
    """A payload codec failed or broke its contract (one payload out per payload in)."""

    code = "RPL-CV02"

    def __init__(self, message: str, *, codec: str) -> None:
        super().__init__(message)
        self.codec = codec


class PayloadCodec(abc.ABC):
    """Encode and decode lists of payloads (for compression, encryption ...).

    ``encode`` gets payloads as the payload converter made them and returns one
    payload for each, in order; ``decode`` undoes it. ``decode`` also receives
    payloads the codec did not encode (plain ``json/plain`` ones, those from
    before the codec was used): return them unchanged.
    """

    @abc.abstractmethod
    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encode ``payloads`` (one result per payload, same order)."""

    @abc.abstractmethod
    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decode ``payloads`` (one result per payload, same order)."""


def _name(codec: PayloadCodec) -> str:
    return type(codec).__qualname__


async def _apply(codec: PayloadCodec, data: list[JsonValue], encode: bool) -> list[JsonValue]:
    if not data:
        return data
    payloads = [data_to_payload(d) for d in data]
    what = "encode" if encode else "decode"
    try:
        out = await (codec.encode(payloads) if encode else codec.decode(payloads))
    except ReplayError:
        raise
    except Exception as exc:
        raise PayloadCodecError(
            f"payload codec {_name(codec)}.{what}() raised {type(exc).__name__}: {exc}",
            codec=_name(codec)) from exc
    if not isinstance(out, list | tuple) or len(out) != len(payloads) or not all(
            isinstance(p, Payload) for p in out):
        got = f"{len(out)} items" if isinstance(out, list | tuple) else type(out).__name__
        raise PayloadCodecError(
            f"payload codec {_name(codec)}.{what}() must return a list of {len(payloads)} "
            f"Payload objects (one per payload given, same order), got {got}",
            codec=_name(codec))
    return [payload_to_data(p) for p in out]


async def encode_payloads(codec: PayloadCodec, data: list[JsonValue]) -> list[JsonValue]:
    """Payload data (as a history holds it) through ``codec.encode``."""
    return await _apply(codec, data, True)


async def decode_payloads(codec: PayloadCodec, data: list[JsonValue]) -> list[JsonValue]:
    """Payload data (as a history holds it) through ``codec.decode``."""
    return await _apply(codec, data, False)


async def encode_records(codec: PayloadCodec, objs: list[T]) -> list[T]:
    """Events, operations or store records with every payload inside encoded."""
    found = collect(objs)
    return rebuild(objs, await _apply(codec, found, True)) if found else objs


async def decode_records(codec: PayloadCodec, objs: list[T]) -> list[T]:
    """Events, operations or store records with every payload inside decoded."""
    found = collect(objs)
    return rebuild(objs, await _apply(codec, found, False)) if found else objs


async def decode_history(codec: PayloadCodec, history: History) -> History:
    """``history`` with its payloads decoded (a new History; events keep their ids)."""
    events: list[Event] = await decode_records(codec, list(history.events))
    return History(history.run_id, events)


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    try:
        loop.run_forever()
    finally:
        loop.close()


class CodecRunner:
    """Runs a codec's coroutines to completion for synchronous callers.

    One daemon thread with its own event loop, started on first use; callers
    block until the codec returns. Never call it from inside the codec.
    """

    def __init__(self, codec: PayloadCodec) -> None:
        self.codec = codec
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the codec's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._running_loop()).result()

    def encode(self, objs: list[T]) -> list[T]:
        return self.run(encode_records(self.codec, objs)) if collect(objs) else objs

    def decode(self, objs: list[T]) -> list[T]:
        return self.run(decode_records(self.codec, objs)) if collect(objs) else objs

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=_serve, args=(loop,), daemon=True,
                                          name=f"replay-codec-{_name(self.codec)}")
                thread.start()
                self._loop = loop
            return self._loop

    def close(self) -> None:
        """Stop the codec's thread (a later call starts a new one)."""
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)


for _cls in (PayloadCodecError, PayloadCodec, CodecRunner):
    _cls.__module__ = "replay.history"  # public home; replay.exceptions re-exports the error
del _cls
