"""The deterministic event loop: FIFO ready queue, workflow time, durable timers.

It only schedules. It never reads a clock (time is set per activation by the
instance) and never touches I/O or threads: timers go to a ``TimerSink``
that turns them into durable timer commands.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import logging
from asyncio import events
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar, TypeVarTuple, Unpack

from ._exceptions import ReadOnlyContextError, WorkflowLoopError

T = TypeVar("T")
Ts = TypeVarTuple("Ts")
log = logging.getLogger("replay.loop")


class TimerSink(Protocol):
    """Receives the loop's delayed callbacks and turns them into durable timers."""

    def start_timer(self, handle: DurableTimerHandle) -> None: ...
    def cancel_timer(self, handle: DurableTimerHandle) -> None: ...


class DurableTimerHandle(asyncio.TimerHandle):
    """A ``call_at`` handle backed by a durable timer command."""

    __slots__ = ("command", "workflow_loop")

    def __init__(self, when: float, callback: Callable[..., object], args: tuple[Any, ...],
                 loop: WorkflowEventLoop, context: contextvars.Context | None) -> None:
        super().__init__(when, callback, args, loop, context)
        self.command: Any = None
        self.workflow_loop = loop


class WorkflowEventLoop(asyncio.AbstractEventLoop):
    """Runs ready callbacks in FIFO order until none is left; no I/O, no threads."""

    def __init__(self, timer_sink: TimerSink) -> None:
        self._ready: collections.deque[asyncio.Handle] = collections.deque()
        self._now = 0.0
        self._sink = timer_sink
        self._closed = False
        self._running = False
        self._exception_handler: Any = None
        self.unhandled: list[dict[str, Any]] = []
        # Set while a query handler or update validator runs: anything scheduled then
        # would run in a later activation, a change of course a replay cannot reproduce.
        self.read_only: str | None = None

    # --- driving -------------------------------------------------------------------

    def set_time(self, now: float) -> None:
        """Set workflow time for the next activation (seconds since the epoch)."""
        self._now = now

    def run_until_quiescent(self) -> None:
        """Run ready callbacks (and those they schedule) until none is left."""
        previous = events._get_running_loop()
        events._set_running_loop(self)
        self._running = True
        ready = self._ready
        try:
            while ready:
                handle = ready.popleft()
                if not handle.cancelled():
                    handle._run()  # asyncio's own loops run handles the same way
        finally:
            self._running = False
            events._set_running_loop(previous)

    def fire(self, handle: DurableTimerHandle) -> None:
        """A timer fired: queue its callback unless it was cancelled."""
        if not handle.cancelled():
            self._ready.append(handle)

    # --- scheduling --------------------------------------------------------------------

    def time(self) -> float:
        return self._now

    def call_soon(self, callback: Callable[[Unpack[Ts]], object], *args: *Ts,
                  context: contextvars.Context | None = None) -> asyncio.Handle:
        if self.read_only is not None:
            raise ReadOnlyContextError("scheduling a callback on the workflow loop",
                                       self.read_only)
        handle = asyncio.Handle(callback, args, self, context)
        self._ready.append(handle)
        return handle

    def call_soon_threadsafe(self, callback: Callable[[Unpack[Ts]], object], *args: *Ts,
                             context: contextvars.Context | None = None) -> asyncio.Handle:
        raise WorkflowLoopError("call_soon_threadsafe")

    def call_later(self, delay: float, callback: Callable[[Unpack[Ts]], object], *args: *Ts,
                   context: contextvars.Context | None = None) -> asyncio.TimerHandle:
        return self.call_at(self._now + delay, callback, *args, context=context)

    def call_at(self, when: float, callback: Callable[[Unpack[Ts]], object], *args: *Ts,
                context: contextvars.Context | None = None) -> asyncio.TimerHandle:
        if self.read_only is not None:
            raise ReadOnlyContextError("starting a durable timer", self.read_only)
        handle = DurableTimerHandle(when, callback, args, self, context)
        if when <= self._now:
            self._ready.append(handle)
        else:
            self._sink.start_timer(handle)
        return handle

    def _timer_handle_cancelled(self, handle: asyncio.TimerHandle) -> None:
        if isinstance(handle, DurableTimerHandle) and handle.command is not None:
            self._sink.cancel_timer(handle)

    def create_future(self) -> asyncio.Future[Any]:
        return asyncio.Future(loop=self)

    def create_task(self, coro: Coroutine[Any, Any, T] | Any, *, name: str | None = None,
                    context: contextvars.Context | None = None) -> asyncio.Task[T]:
        if self.read_only is not None:
            if asyncio.iscoroutine(coro):
                coro.close()  # never started: close it so it is not reported as unawaited
            raise ReadOnlyContextError("creating an asyncio task", self.read_only)
        return asyncio.Task(coro, loop=self, name=name, context=context)

    # --- state -----------------------------------------------------------------------

    def is_running(self) -> bool:
        return self._running

    def is_closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        self._ready.clear()

    def get_debug(self) -> bool:
        return False

    def set_debug(self, enabled: bool) -> None:
        pass

    def run_forever(self) -> None:
        raise WorkflowLoopError("run_forever")

    def run_until_complete(self, future: Any) -> Any:
        raise WorkflowLoopError("run_until_complete")

    def stop(self) -> None:
        raise WorkflowLoopError("stop")

    async def shutdown_asyncgens(self) -> None:
        return None

    async def shutdown_default_executor(self, timeout: float | None = None) -> None:
        return None

    # --- errors ---------------------------------------------------------------------

    def get_exception_handler(self) -> Any:
        return self._exception_handler

    def set_exception_handler(self, handler: Any) -> None:
        self._exception_handler = handler

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        self.unhandled.append(context)
        log.debug("unhandled in workflow loop: %s", context.get("message"))

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        if self._exception_handler is not None:
            self._exception_handler(self, context)
        else:
            self.default_exception_handler(context)


def _unsupported(name: str) -> Callable[..., Any]:
    def method(self: WorkflowEventLoop, *args: Any, **kwargs: Any) -> Any:
        raise WorkflowLoopError(name)

    method.__name__ = name
    return method


for _name in (
    "run_in_executor", "set_default_executor", "getaddrinfo", "getnameinfo",
    "create_connection", "create_server", "create_unix_connection", "create_unix_server",
    "create_datagram_endpoint", "connect_read_pipe", "connect_write_pipe",
    "subprocess_exec", "subprocess_shell", "add_reader", "remove_reader", "add_writer",
    "remove_writer", "sock_recv", "sock_recv_into", "sock_sendall", "sock_connect",
    "sock_accept", "sock_sendfile", "sendfile", "start_tls", "connect_accepted_socket",
    "add_signal_handler", "remove_signal_handler", "sock_recvfrom", "sock_recvfrom_into",
    "sock_sendto",
):
    setattr(WorkflowEventLoop, _name, _unsupported(_name))
