"""Racing awaitables in workflow code: ``workflow.wait`` and ``workflow.as_completed``.

asyncio's ``wait`` and ``as_completed`` keep what they are given in sets.
``asyncio.as_completed`` even wraps coroutines in tasks in set order, which
follows memory addresses, so a replay could start them (and issue their
commands) in another order. These two keep the caller's order instead, as the
familiar SDK's functions of the same names do: ``wait`` returns lists in the
order given; ``as_completed`` starts coroutines in the order given and yields
results in completion order (those that complete in the same step, or were
already done, in the order given). A timeout is a durable timer: the workflow
loop's ``call_later``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

T = TypeVar("T")
FT = TypeVar("FT", bound="asyncio.Future[Any]")

_RETURN_WHEN = (asyncio.FIRST_COMPLETED, asyncio.FIRST_EXCEPTION, asyncio.ALL_COMPLETED)


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _in_order(fs: Iterable[Any], function: str) -> list[Any]:
    """``fs`` as a list in the order given, each item once (asyncio keeps a set)."""
    if asyncio.isfuture(fs) or asyncio.iscoroutine(fs):
        raise TypeError(f"workflow.{function}() expects an iterable of awaitables, "
                        f"not one {type(fs).__name__}; pass a list")
    return list(dict.fromkeys(fs))


def _satisfied(f: asyncio.Future[Any], remaining: int, return_when: str) -> bool:
    """Whether ``wait`` may return now that ``f`` is done and ``remaining`` are not."""
    if remaining <= 0 or return_when == asyncio.FIRST_COMPLETED:
        return True
    return (return_when == asyncio.FIRST_EXCEPTION and not f.cancelled()
            and f.exception() is not None)


async def wait(fs: Iterable[FT], *, timeout: float | timedelta | None = None,
               return_when: str = asyncio.ALL_COMPLETED) -> tuple[list[FT], list[FT]]:
    """Wait for tasks or futures; returns ``(done, pending)``, lists in the order given.

    The deterministic ``asyncio.wait`` (use it instead of that one in workflows):
    ``return_when`` is ``asyncio.FIRST_COMPLETED``, ``asyncio.FIRST_EXCEPTION`` or
    ``asyncio.ALL_COMPLETED`` (the default). With ``timeout`` (seconds or a
    timedelta; a durable timer) it returns what is done when the timer fires.
    Nothing is cancelled: cancel ``pending`` yourself, walking the list. Coroutines
    are refused (TypeError) as by asyncio: wrap each in ``asyncio.create_task``
    first. Returns at once, starting no timer, when ``return_when`` already holds.
    """
    futures: list[FT] = _in_order(fs, "wait")
    if not futures:
        raise ValueError("workflow.wait() needs at least one task or future")
    if return_when not in _RETURN_WHEN:
        raise ValueError(f"workflow.wait(): invalid return_when value {return_when!r}; use "
                         "asyncio.FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED")
    strays = [f for f in futures if not asyncio.isfuture(f)]
    if strays:
        for f in strays:
            if asyncio.iscoroutine(f):
                f.close()  # refused unstarted: not reported as never awaited
        raise TypeError(f"workflow.wait() takes tasks or futures, not "
                        f"{type(strays[0]).__name__}: wrap each coroutine in "
                        "asyncio.create_task(...) first")
    pending = [f for f in futures if not f.done()]
    if pending and not any(_satisfied(f, len(pending), return_when)
                           for f in futures if f.done()):
        await _until(pending, timeout, return_when)
    return [f for f in futures if f.done()], [f for f in futures if not f.done()]


async def _until(pending: list[FT], timeout: float | timedelta | None, return_when: str
                 ) -> None:
    """Suspend until ``return_when`` holds for ``pending`` or the timeout's timer fires."""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()
    remaining = len(pending)

    def on_done(f: asyncio.Future[Any]) -> None:
        nonlocal remaining
        remaining -= 1
        if not waiter.done() and _satisfied(f, remaining, return_when):
            waiter.set_result(None)

    def on_timeout() -> None:
        if not waiter.done():
            waiter.set_result(None)

    for f in pending:
        f.add_done_callback(on_done)
    timer = loop.call_later(_seconds(timeout), on_timeout) if timeout is not None else None
    try:
        await waiter
    finally:
        if timer is not None:
            timer.cancel()
        for f in pending:
            f.remove_done_callback(on_done)


def as_completed(fs: Iterable[Awaitable[T]], *, timeout: float | timedelta | None = None
                 ) -> Iterator[Awaitable[T]]:
    """Iterate over awaitables, each giving the next result in completion order.

    The deterministic ``asyncio.as_completed`` (use it instead of that one in
    workflows): coroutines and other awaitables are wrapped in tasks at once, in
    the order given; results come in the order they complete, and those that
    complete in the same step (or were already done) in the order given. Await
    each item: ``for next_done in workflow.as_completed(tasks): result = await
    next_done``; it raises what that task raised. With ``timeout`` (seconds or a
    timedelta; a durable timer) the items not yet done when it fires raise
    ``asyncio.TimeoutError``. Nothing is cancelled.
    """
    awaitables = _in_order(fs, "as_completed")
    loop = asyncio.get_running_loop()
    todo: list[asyncio.Future[T]] = [asyncio.ensure_future(a, loop=loop) for a in awaitables]
    return _Completions(loop, todo, timeout).items()


class _Completions:
    """Futures as they complete (None for each one the timeout cut off), one per ``next``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, todo: list[asyncio.Future[T]],
                 timeout: float | timedelta | None) -> None:
        self._count = len(todo)
        self._todo = todo
        self._done: asyncio.Queue[asyncio.Future[Any] | None] = asyncio.Queue()
        for f in todo:
            f.add_done_callback(self._on_done)
        self._timer = (loop.call_later(_seconds(timeout), self._on_timeout)
                       if todo and timeout is not None else None)

    def _on_done(self, f: asyncio.Future[Any]) -> None:
        if f not in self._todo:
            return  # the timeout came first
        self._todo.remove(f)
        self._done.put_nowait(f)
        if not self._todo and self._timer is not None:
            self._timer.cancel()

    def _on_timeout(self) -> None:
        for f in self._todo:
            f.remove_done_callback(self._on_done)
            self._done.put_nowait(None)
        self._todo.clear()

    async def _next(self) -> Any:
        f = await self._done.get()
        if f is None:
            raise TimeoutError("workflow.as_completed(): the timeout fired first")
        return f.result()

    def items(self) -> Iterator[Awaitable[Any]]:
        for _ in range(self._count):
            yield self._next()
