"""The deterministic event loop: FIFO ready queue, workflow time, durable timers.

It only schedules. It never reads a clock (time is set per activation by the
instance) and never touches I/O or threads: timers go to a ``TimerSink``
that turns them into durable timer commands.
"""

from __future__ import annotations

import asyncio
import asyncio.tasks
import contextvars
import logging
import sys
import zlib
from asyncio import events
from collections.abc import Callable, Coroutine, Sequence
from types import CodeType, FrameType
from typing import Any, Protocol, TypeVar, TypeVarTuple, Unpack

from ._exceptions import ReadOnlyContextError, UnorderedTasksError, WorkflowLoopError
from ._locations import ENGINE_DIRS, task_created

T = TypeVar("T")
Ts = TypeVarTuple("Ts")
log = logging.getLogger("replay.core")


class TimerSink(Protocol):
    """Receives the loop's delayed callbacks and turns them into durable timers."""

    def start_timer(self, handle: DurableTimerHandle, delay: float) -> None:
        """A timer of ``delay`` seconds starts. Called by ``call_at`` and ``call_later``
        alone, through one more frame of the loop's (:data:`TIMER_ENGINE_FRAMES`)."""
        ...

    def cancel_timer(self, handle: DurableTimerHandle) -> None: ...


TIMER_ENGINE_FRAMES = 2
"""Frames of the loop's own between ``TimerSink.start_timer`` and the code that called
``call_at`` or ``call_later``: what the sink's command skips when it looks for the
line of workflow code that started the timer (see ``caller_location``)."""


# asyncio's handles are made and cancelled through a chain of Python methods that ask
# the loop, every time, whether it is in debug mode (ours never is). A workflow makes
# one or two per timer, so the loop's handles fill in asyncio's slots themselves, as
# those methods do with debug mode off: only while the slots are the ones these
# methods were written against (the same from Python 3.11 to 3.13).
_FILLS_SLOTS = (
    set(asyncio.Handle.__slots__) == {"_callback", "_args", "_cancelled", "_loop",
                                      "_source_traceback", "_repr", "__weakref__", "_context"}
    and set(asyncio.TimerHandle.__slots__) == {"_scheduled", "_when"})


def _fill_handle(handle: Any, callback: Callable[..., object],
                 args: tuple[Any, ...], loop: WorkflowEventLoop,
                 context: contextvars.Context | None) -> None:
    """asyncio.Handle.__init__ with the loop's debug mode off (no debug-mode calls)."""
    handle._context = contextvars.copy_context() if context is None else context
    handle._loop = loop
    handle._callback = callback
    handle._args = args
    handle._cancelled = False
    handle._repr = None
    handle._source_traceback = None


class ReadyHandle(asyncio.Handle):
    """A ``call_soon`` handle of the workflow loop."""

    __slots__ = ()
    _context: contextvars.Context  # asyncio's slot (its stubs leave it out)

    def __init__(self, callback: Callable[..., object], args: tuple[Any, ...],
                 loop: WorkflowEventLoop, context: contextvars.Context | None) -> None:
        if not _FILLS_SLOTS:
            super().__init__(callback, args, loop, context)
            return
        _fill_handle(self, callback, args, loop, context)


class DurableTimerHandle(asyncio.TimerHandle):
    """A ``call_at`` handle backed by a durable timer command."""

    __slots__ = ("command", "workflow_loop")
    _context: contextvars.Context  # asyncio's slot (its stubs leave it out)

    def __init__(self, when: float, callback: Callable[..., object], args: tuple[Any, ...],
                 loop: WorkflowEventLoop, context: contextvars.Context | None) -> None:
        self.command: Any = None
        self.workflow_loop = loop
        if not _FILLS_SLOTS:
            super().__init__(when, callback, args, loop, context)
            return
        # asyncio.TimerHandle.__init__: Handle's slots, then the timer's own
        _fill_handle(self, callback, args, loop, context)
        self._when = when
        self._scheduled = False

    def cancel(self) -> None:
        if not _FILLS_SLOTS:
            super().cancel()
            return
        # asyncio.TimerHandle.cancel (and Handle's) with the loop's debug mode off
        if not self._cancelled:
            if self.command is not None:  # else nothing to cancel: see _timer_handle_cancelled
                self.workflow_loop._timer_handle_cancelled(self)
            self._cancelled = True
            # dropped as asyncio drops them (its stubs do not say the slots can be None)
            self._callback = None
            self._args = None  # type: ignore[assignment]


class WorkflowTask(asyncio.Task[T]):
    """A task of the workflow loop: it hashes by its creation order on that loop.

    Sets of tasks (a TaskGroup's children, which it cancels by iterating the set
    when one fails; ``asyncio.wait``'s ``done`` and ``pending``) iterate in the
    order of their members' hashes. A plain task hashes by its address, which
    differs between replays and processes, so a replay could cancel or wake tasks
    in another order and issue its commands in another order. Creation order (plus
    the run's :func:`task_hash_base`) is the same in every replay. Equality stays
    identity (``object.__eq__``).
    """

    # The number is drawn when the task is first hashed, which asyncio does as it
    # creates it (it registers every task in a weak set), so it is the creation
    # order; on a Python that did not, it would be the order of first use in a set or
    # dict, as deterministic. Drawing it here, not in an __init__, keeps task creation
    # at C speed: only this method runs Python code. A slot holds it: an attribute
    # would give every task a __dict__ of its own.
    __slots__ = ("_hash_order",)
    _hash_order: int

    def __hash__(self) -> int:
        try:
            return self._hash_order
        except AttributeError:  # the first hash: the task is being created
            pass
        loop = self.get_loop()
        if not isinstance(loop, WorkflowEventLoop):
            return object.__hash__(self)
        number = loop.tasks_created
        loop.tasks_created = number + 1
        base = loop.task_hash_base
        # the run's first task (its main one) shares the base's int object
        order = self._hash_order = base + number if number else base
        return order


def task_hash_base(run_id: str) -> int:
    """What a run's tasks add to their creation number to form their hash.

    asyncio keeps every task of the process in one weak set; if the first task
    of every run hashed 0, each new task would probe past all the others there.
    So each run adds its own base, a multiple of 2**32 (the low bits stay the
    creation number) drawn from the run id: the same on every replay of the run,
    so every set of its tasks still iterates the same way.
    """
    return (zlib.crc32(run_id.encode()) & 0x0FFF_FFFF) << 32


def _set_ordered_creators() -> frozenset[CodeType]:
    """Code of the asyncio functions that wrap awaitables in tasks while iterating a set."""
    codes: set[CodeType] = set()
    iterator = getattr(asyncio.tasks, "_AsCompletedIterator", None)  # Python 3.13+
    for fn in (asyncio.tasks.as_completed, getattr(iterator, "__init__", None)):
        code = getattr(fn, "__code__", None)
        if isinstance(code, CodeType):
            codes.add(code)  # and its set comprehension (a code of its own before 3.12)
            codes.update(c for c in code.co_consts
                         if isinstance(c, CodeType) and c.co_name == "<setcomp>")
    return frozenset(codes)


# private in asyncio (not in its stubs), but it is what calls create_task for ensure_future
_ENSURE_FUTURE: CodeType = asyncio.tasks._ensure_future.__code__  # type: ignore[attr-defined]
_SET_ORDERED = _set_ordered_creators()


def _refuse_set_order(frame: FrameType | None, coro: Any) -> None:
    """Raise UnorderedTasksError if ``frame`` (ensure_future's) was called by as_completed."""
    for _ in range(2):  # ensure_future, then its caller
        if frame is None or frame.f_code in _SET_ORDERED:
            break
        frame = frame.f_back
    if frame is None or frame.f_code not in _SET_ORDERED:
        return
    given: list[Any] | None = None  # what as_completed was given, when it was a collection
    for f in (frame, frame.f_back):  # the comprehension and as_completed itself
        for name in ("fs", "aws"):
            value = f.f_locals.get(name) if f is not None else None
            if isinstance(value, list | tuple | set | frozenset):
                given = list(value)
    if given is not None and sum(not asyncio.isfuture(a) for a in given) <= 1:
        return  # one task to create: no order to get wrong
    # Close the coroutines (never started) so that none is reported as never awaited.
    _close_coroutines(coro, *(given or ()))
    user = frame.f_back
    while user is not None and user.f_code.co_filename.startswith(ENGINE_DIRS):
        user = user.f_back
    where = f"{user.f_code.co_filename}:{user.f_lineno}" if user is not None else None
    raise UnorderedTasksError("asyncio.as_completed", where)


def _close_coroutines(*items: Any) -> None:
    for item in items:
        if asyncio.iscoroutine(item):
            item.close()


class WorkflowEventLoop(asyncio.AbstractEventLoop):
    """Runs ready callbacks in FIFO order until none is left; no I/O, no threads."""

    # one loop per live run, and a worker caches many runs
    __slots__ = ("_closed", "_exception_handler", "_now", "_ready", "_running", "_sink",
                 "_unhandled", "read_only", "task_hash_base", "tasks_created")

    def __init__(self, timer_sink: TimerSink, *, task_hash_base: int = 0) -> None:
        # a list, not a deque: an idle run's empty list costs 56 bytes, a deque 600
        self._ready: list[asyncio.Handle] = []
        self._now = 0.0
        self._sink = timer_sink
        self._closed = False
        self._running = False
        self._exception_handler: Any = None
        self._unhandled: list[dict[str, Any]] | None = None  # see ``unhandled``
        # how many tasks this loop has made: their creation order is their hash (see
        # WorkflowTask), plus a base per run (see task_hash_base)
        self.tasks_created = 0
        self.task_hash_base = task_hash_base
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
        try:
            while self._ready:
                # what the batch schedules is queued behind it: FIFO, as a deque would
                batch, self._ready = self._ready, []
                for i, handle in enumerate(batch):
                    if handle._cancelled:  # what asyncio's own loops read
                        continue
                    try:
                        handle._run()  # asyncio's own loops run handles the same way
                    except BaseException:  # SystemExit, KeyboardInterrupt: keep the rest
                        self._ready[:0] = batch[i + 1:]
                        raise
        finally:
            self._running = False
            events._set_running_loop(previous)

    def fire(self, handle: DurableTimerHandle) -> None:
        """A timer fired: queue its callback unless it was cancelled."""
        if not handle._cancelled:
            self._ready.append(handle)

    # --- scheduling --------------------------------------------------------------------

    def time(self) -> float:
        return self._now

    def call_soon(self, callback: Callable[[Unpack[Ts]], object], *args: *Ts,
                  context: contextvars.Context | None = None) -> asyncio.Handle:
        if self.read_only is not None:
            raise ReadOnlyContextError("scheduling a callback on the workflow loop",
                                       self.read_only)
        handle = ReadyHandle(callback, args, self, context)
        self._ready.append(handle)
        return handle

    def call_soon_threadsafe(self, callback: Callable[[Unpack[Ts]], object], *args: *Ts,
                             context: contextvars.Context | None = None) -> asyncio.Handle:
        raise WorkflowLoopError("call_soon_threadsafe")

    def call_later(self, delay: float, callback: Callable[[Unpack[Ts]], object], *args: *Ts,
                   context: contextvars.Context | None = None) -> asyncio.TimerHandle:
        return self._timer(self._now + delay, callback, args, context)

    def call_at(self, when: float, callback: Callable[[Unpack[Ts]], object], *args: *Ts,
                context: contextvars.Context | None = None) -> asyncio.TimerHandle:
        return self._timer(when, callback, args, context)

    def _timer(self, when: float, callback: Callable[..., object], args: tuple[Any, ...],
               context: contextvars.Context | None) -> asyncio.TimerHandle:
        """``call_at``'s work, called by it and ``call_later`` alone (the frames between
        the sink and workflow code are counted: TIMER_ENGINE_FRAMES)."""
        if self.read_only is not None:
            raise ReadOnlyContextError("starting a durable timer", self.read_only)
        handle = DurableTimerHandle(when, callback, args, self, context)
        now = self._now
        if when <= now:
            self._ready.append(handle)
        else:
            self._sink.start_timer(handle, when - now)
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
        caller = sys._getframe(1)
        if caller.f_code is _ENSURE_FUTURE:  # cheap test first: most tasks come another way
            _refuse_set_order(caller.f_back, coro)
        task = WorkflowTask(coro, loop=self, name=name, context=context)
        task_created(task, coro)  # where workflow code made it, for its commands' locations
        return task

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

    @property
    def unhandled(self) -> Sequence[dict[str, Any]]:
        """What the loop's exception handler was given (callbacks that raised, ...)."""
        return () if self._unhandled is None else self._unhandled

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        if self._unhandled is None:
            self._unhandled = []
        self._unhandled.append(context)
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
