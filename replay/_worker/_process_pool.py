"""Synchronous activities on a process pool: ``Worker(activity_executor=ProcessPoolExecutor(),
shared_state_manager=SharedStateManager.create_from_multiprocessing(manager))``.

An attempt runs in a pool process with a context of its own (:class:`_ChildContext`):
``activity.info()`` is the attempt's picklable :class:`ActivityInfo`;
``activity.heartbeat(*details)`` puts the details on a queue the worker's process
reads (one thread per worker), which records them as a heartbeat in this process; the
attempt's cancellation (requested by the workflow, or a timeout) sets an event shared
through the manager, which the child sees in ``activity.is_cancelled()`` and as
``CancelledError`` from its next heartbeat. Arguments and results cross the process
boundary pickled (the activity function must be importable: a module-level function).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import logging
import multiprocessing.managers
import pickle
import queue
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from replay.history import PayloadConverter, ReplayError, default_converter

from .._core._activity_defn import ActivityDefinition
from . import _activity_ctx
from ._interceptors import Interceptor

log = logging.getLogger("replay.worker")


class ProcessPoolNeedsSharedStateError(ReplayError, ValueError):
    """A process pool runs sync activities, but the worker has no shared-state manager."""

    code = "RPL-A05"

    def __init__(self, names: list[str]) -> None:
        super().__init__(
            "Worker(activity_executor=ProcessPoolExecutor(...)) runs the synchronous "
            f"activities {', '.join(repr(n) for n in names)} in other processes, where "
            "heartbeats and cancellation need state shared across processes: pass "
            "shared_state_manager=SharedStateManager.create_from_multiprocessing("
            "multiprocessing.Manager()) too (as the familiar SDK requires).")
        self.names = names


class UnpicklableActivityError(ReplayError, ValueError):
    """A sync activity for a process pool cannot be sent to another process."""

    code = "RPL-A06"

    def __init__(self, name: str, why: str) -> None:
        super().__init__(
            f"activity {name!r} cannot run on a process pool: it does not pickle ({why}). "
            "Define it as a module-level function (not a lambda, a local function or a "
            "bound method of an unpicklable object), or run it on a thread pool.")
        self.name = name


class ProcessPoolInterceptorsError(ReplayError, ValueError):
    """Activity interceptors and a process pool for sync activities were given together."""

    code = "RPL-A07"

    def __init__(self, interceptors: list[str]) -> None:
        super().__init__(
            "Worker(activity_executor=ProcessPoolExecutor(...)) cannot run synchronous "
            "activities through the activity interceptors "
            f"{', '.join(interceptors)}: an interceptor chain runs in the worker's process "
            "and its end cannot hand the call to another process. Use a thread pool, or "
            "leave intercept_activity() out of these interceptors.")
        self.interceptors = interceptors


class _SharedEvent(Protocol):
    def set(self) -> None: ...
    def is_set(self) -> bool: ...


class SharedStateManager:
    """State shared between a worker and the processes of its activity process pool.

    Make one with :meth:`create_from_multiprocessing` and pass it as
    ``Worker(shared_state_manager=...)``; it is accepted (and unused) with a thread pool.
    """

    def __init__(self, manager: multiprocessing.managers.SyncManager) -> None:
        self._manager = manager
        self._lock = threading.Lock()
        self._queue: Any = None

    @staticmethod
    def create_from_multiprocessing(
            mgr: multiprocessing.managers.SyncManager,
            queue_poller_executor: concurrent.futures.Executor | None = None,
    ) -> SharedStateManager:
        """A manager backed by ``mgr`` (a started ``multiprocessing.Manager()``).

        ``queue_poller_executor`` is accepted for familiar code; the heartbeat queue is
        read by one thread of the worker.
        """
        return SharedStateManager(mgr)

    def new_event(self) -> _SharedEvent:
        """An event visible to every process (an attempt's cancellation)."""
        event: _SharedEvent = self._manager.Event()
        return event

    def heartbeat_queue(self) -> Any:
        """The queue pool processes put heartbeats on (one per manager)."""
        with self._lock:
            if self._queue is None:
                self._queue = self._manager.Queue()
            return self._queue


def check_process_pool(executor: concurrent.futures.Executor | None,
                       manager: SharedStateManager | None,
                       activities: Iterable[ActivityDefinition],
                       interceptors: Iterable[Interceptor] = ()) -> ProcessBridge | None:
    """The bridge for a process pool that runs sync activities (None otherwise); raises
    :class:`ProcessPoolNeedsSharedStateError`, :class:`UnpicklableActivityError` or
    :class:`ProcessPoolInterceptorsError`."""
    if not isinstance(executor, concurrent.futures.ProcessPoolExecutor):
        return None
    sync = [d for d in activities if not d.is_async]
    if not sync:
        return None
    if manager is None:
        raise ProcessPoolNeedsSharedStateError(sorted(d.name or "(dynamic)" for d in sync))
    intercepting = [type(i).__name__ for i in interceptors
                    if type(i).intercept_activity is not Interceptor.intercept_activity]
    if intercepting:
        raise ProcessPoolInterceptorsError(intercepting)
    for d in sync:
        try:
            pickle.dumps(d.fn)
        except Exception as exc:  # what pickling raises varies by object
            raise UnpicklableActivityError(d.name or "(dynamic)", str(exc)) from None
    return ProcessBridge(executor, manager)


class _LinkedEvent:
    """The attempt's cancellation flag in the worker: setting it also sets the shared one."""

    def __init__(self, local: threading.Event, shared: _SharedEvent) -> None:
        self._local = local
        self._shared = shared

    def set(self) -> None:
        self._local.set()
        try:
            self._shared.set()
        except (OSError, EOFError) as exc:  # the manager is gone (shutting down)
            log.warning("could not tell a pool process of a cancellation: %s", exc)

    def is_set(self) -> bool:
        return self._local.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._local.wait(timeout)

    def clear(self) -> None:
        self._local.clear()


class ProcessBridge:
    """Runs sync attempts in the pool and carries heartbeats and cancellation across."""

    def __init__(self, executor: concurrent.futures.Executor,
                 manager: SharedStateManager) -> None:
        self.executor = executor
        self.manager = manager
        self._contexts: dict[str, _activity_ctx.ActivityContext] = {}
        self._keys = itertools.count(1)
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()

    def submit(self, fn: Callable[..., Any], args: list[Any],
               ctx: _activity_ctx.ActivityContext) -> asyncio.Future[Any]:
        """Run ``fn(*args)`` in a pool process with a context linked to ``ctx``."""
        key = str(next(self._keys))
        shared = self.manager.new_event()
        if ctx.cancelled.is_set():
            shared.set()
        ctx.cancelled = _LinkedEvent(ctx.cancelled, shared)  # type: ignore[assignment]
        with self._lock:
            self._contexts[key] = ctx
        self._start_reader()
        loop = asyncio.get_running_loop()
        job = loop.run_in_executor(self.executor, run_in_child, fn, args, ctx.info,
                                   _picklable(ctx.converter), shared,
                                   self.manager.heartbeat_queue(), key)
        job.add_done_callback(lambda _: self._forget(key))
        return job

    def _forget(self, key: str) -> None:
        with self._lock:
            self._contexts.pop(key, None)

    def _start_reader(self) -> None:
        with self._lock:
            if self._reader is None:
                self._reader = threading.Thread(target=self._read, daemon=True,
                                                name="replay-heartbeats")
                self._reader.start()

    def _read(self) -> None:
        beats = self.manager.heartbeat_queue()
        while not self._stop.is_set():
            try:
                key, details = beats.get(timeout=0.2)
            except queue.Empty:
                continue
            except (OSError, EOFError):  # the manager shut down
                return
            with self._lock:
                ctx = self._contexts.get(key)
            if ctx is None:
                continue
            try:
                ctx.heartbeat(*details)  # records it; sets ctx.cancelled if asked to stop
            except Exception as exc:  # one bad heartbeat must not stop others
                log.warning("heartbeat from a pool process not recorded: %s", exc)

    def close(self) -> None:
        """Stop reading heartbeats."""
        self._stop.set()
        if self._reader is not None:
            self._reader.join(timeout=5)


def _picklable(converter: PayloadConverter) -> PayloadConverter | None:
    try:
        pickle.dumps(converter)
    except Exception:  # cattrs hooks are often lambdas
        return None
    return converter


class _ChildContext(_activity_ctx.ActivityContext):
    """An attempt's context inside a pool process."""

    def __init__(self, info: _activity_ctx.ActivityInfo, converter: PayloadConverter,
                 cancelled: _SharedEvent, beats: Any, key: str) -> None:
        super().__init__(info, converter, lambda _: False)
        self.cancelled = cancelled  # type: ignore[assignment]
        self._beats = beats
        self._key = key

    def heartbeat(self, *details: Any) -> None:
        self._beats.put((self._key, details))


def run_in_child(fn: Callable[..., Any], args: list[Any], info: _activity_ctx.ActivityInfo,
                 converter: PayloadConverter | None, cancelled: _SharedEvent, beats: Any,
                 key: str) -> Any:
    """The pool process's side of one attempt (a module-level function: it is pickled)."""
    ctx = _ChildContext(info, converter or default_converter(), cancelled, beats, key)
    token = _activity_ctx.set_context(ctx)
    try:
        return fn(*args)
    finally:
        _activity_ctx.reset_context(token)
