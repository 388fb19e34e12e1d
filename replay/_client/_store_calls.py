"""Store work off the caller's event loop: what keeps awaited client calls non-blocking.

A SQLite store can wait on a file lock (up to its busy timeout) or on the disk;
done inline, that wait would freeze the application's whole event loop. So a
client runs each store call of an awaited method in a small thread pool of its
own. The SQLite store gives every thread its own connection and serialises
writers with SQLite's own lock, so its calls are safe from any thread. A store
that never waits (the in-memory store) is called inline: a thread hop would
only cost time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from replay.history import MemoryStore, Store

P = ParamSpec("P")
T = TypeVar("T")

MAX_THREADS = 4
"""Store calls of one client that may wait at the same time."""


class StoreCalls:
    """Runs a client's store calls in its own threads (inline for an in-memory store).

    ``await calls(store.get_run, run_id)``. If the awaiting task is cancelled,
    the call itself still completes in its thread (a commit is not undone).
    """

    def __init__(self, store: Store) -> None:
        self.inline = isinstance(store, MemoryStore)
        """True when calls run on the caller's thread (the store never waits)."""
        self._lock = threading.Lock()
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._others: list[concurrent.futures.ThreadPoolExecutor] = []
        self._closed = False

    async def __call__(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        pool = None if self.inline else self._executor()
        if pool is None:  # in memory, or closed (the store then says it is closed)
            return fn(*args, **kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, functools.partial(fn, *args, **kwargs))

    async def unstoppable(self, fn: Callable[P, T], /, *args: P.args,
                          **kwargs: P.kwargs) -> T:
        """``await calls(fn, ...)``, except that once asked for, ``fn`` runs: a cancelled
        caller stops waiting, not the call (even one no thread has begun), and a call that
        :meth:`close` cancels before a thread took it still runs, on the closing thread
        (what it writes then meets the closed store's error, which it reports to its
        waiters).
        For work that carries other callers' writes (a group commit)."""
        pool = None if self.inline else self._executor()
        call = functools.partial(fn, *args, **kwargs)
        if pool is None:
            return call()
        loop = asyncio.get_running_loop()
        try:
            running = pool.submit(call)
        except RuntimeError:  # shut down meanwhile: run it here
            return call()
        # The caller waits on a future of its own, told by the thread that ran the call:
        # a cancelled caller cancels only that future, never the call. (No shield: its
        # extra callback cost the waiter one more turn of a loop that a busy worker's
        # passes make long.)
        waiter: asyncio.Future[T] = loop.create_future()
        running.add_done_callback(functools.partial(_tell, loop, waiter, call))
        return await waiter

    def submit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` in one of the client's threads and return at once (inline when the
        store never waits or the client is closed). A call that :meth:`close` cancels
        before it began runs on the closing thread instead: what ``fn`` was to write is
        written before the store is closed, never dropped."""
        pool = None if self.inline else self._executor()
        if pool is not None:
            try:
                fut = pool.submit(fn)
            except RuntimeError:  # shut down meanwhile: run it here
                pass
            else:
                fut.add_done_callback(lambda f: fn() if f.cancelled() else None)
                return
        fn()

    def _executor(self) -> concurrent.futures.Executor | None:
        with self._lock:
            if self._pool is None and not self._closed:
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    MAX_THREADS, thread_name_prefix="replay-client")
            return self._pool

    def executor(self, threads: int, name: str) -> concurrent.futures.ThreadPoolExecutor | None:
        """A pool of ``threads`` threads for other store calls of this process (a worker's
        on this client), closed with the client's own: :meth:`close` waits for its calls
        in flight before the store is closed under them. None once closed."""
        with self._lock:
            if self._closed:
                return None
            pool = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix=name)
            self._others.append(pool)
            return pool

    def close(self) -> None:
        """Wait for the calls in flight (the other pools' too) and stop the threads."""
        with self._lock:
            pools = [p for p in (self._pool, *self._others) if p is not None]
            self._pool, self._others = None, []
            self._closed = True
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)


def _tell(loop: asyncio.AbstractEventLoop, waiter: asyncio.Future[T], call: Callable[[], T],
          done: concurrent.futures.Future[T]) -> None:
    """Hand the outcome of ``done`` to ``waiter`` on its loop (from the thread that ran it);
    a call that :meth:`StoreCalls.close` cancelled before a thread took it is run here."""
    value: T | None = None
    error: BaseException | None = None
    if done.cancelled():
        try:
            value = call()
        except BaseException as exc:  # told to the waiter, as a thread's error would be
            error = exc
    else:
        error = done.exception()
        if error is None:
            value = done.result()
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
        loop.call_soon_threadsafe(_settle, waiter, value, error)


def _settle(waiter: asyncio.Future[T], value: T | None, error: BaseException | None) -> None:
    if waiter.done():  # its caller stopped waiting
        return
    if error is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(value)  # type: ignore[arg-type]
