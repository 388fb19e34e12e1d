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
        :meth:`close` cancels before a thread took it still runs, on the event loop (what
        it writes then meets the closed store's error, which it reports to its waiters).
        For work that carries other callers' writes (a group commit)."""
        pool = None if self.inline else self._executor()
        call = functools.partial(fn, *args, **kwargs)
        if pool is None:
            return call()
        loop = asyncio.get_running_loop()
        try:
            inner = loop.run_in_executor(pool, call)
        except RuntimeError:  # shut down meanwhile: run it here
            return call()
        inner.add_done_callback(lambda f: call() if f.cancelled() else None)
        return await asyncio.shield(inner)

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
