"""A worker's store calls off its event loop: a bounded pool of threads.

On SQLite a write waits for the file's write lock and for its fsync; on
PostgreSQL every call is a network round trip. Made inline, each of those waits
would stop the worker's event loop, and with it every activity it runs and
every client call of its process. So the worker's leases, polls and
heartbeats go through a :class:`StoreIO`, which runs them in a few threads of
its own (``Worker(max_concurrent_store_calls=...)``). The store is safe to call
from any thread (the ``Store`` protocol says so); an in-memory store never
waits, so its calls stay inline, where a thread hop would only cost time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar

from replay.history import MemoryStore, ReplayError, Store

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_THREADS = 4
"""Store calls of one worker that may wait at the same time, unless configured."""


class StoreCallLimitError(ReplayError, ValueError):
    """``Worker(max_concurrent_store_calls=...)`` was not a positive whole number."""

    code = "RPL-W30"

    def __init__(self, given: object) -> None:
        super().__init__(
            f"Worker(max_concurrent_store_calls={given!r}): the worker needs at least one "
            "thread for its store calls (leases, polls, heartbeats). Pass a whole number "
            f"of 1 or more (the default is {DEFAULT_THREADS}); on PostgreSQL, at most the "
            "store's pool_size is useful.")
        self.given = given


def check_threads(given: object) -> int:
    """``given`` as a thread count; StoreCallLimitError unless it is an int >= 1."""
    if isinstance(given, bool) or not isinstance(given, int) or given < 1:
        raise StoreCallLimitError(given)
    return given


class PoolSource(Protocol):
    """Where a :class:`StoreIO` gets its threads (a client's ``StoreCalls``)."""

    def executor(self, threads: int, name: str
                 ) -> concurrent.futures.ThreadPoolExecutor | None: ...


class StoreIO:
    """Runs one worker's store calls in up to ``threads`` threads (inline in memory).

    ``await io(store.lease_workflow_tasks, ...)``. A call whose awaiting task
    is cancelled still completes in its thread (a lease is not undone).
    """

    def __init__(self, store: Store, threads: int, name: str = "replay-store",
                 pools: PoolSource | None = None) -> None:
        self.inline = isinstance(store, MemoryStore)
        """True when calls run on the caller's thread (the store never waits)."""
        self.threads = check_threads(threads)
        self.here = False
        """Set by the worker while nothing else could run on its loop (no activity in
        flight): calls then run on the caller's thread, where a hop to a thread and
        back would only cost time."""
        self._name = name
        self._pools = pools
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    def _executor(self) -> concurrent.futures.ThreadPoolExecutor | None:
        """The threads, made on first use (by ``pools``, the client's, which waits for
        them before it closes the store); None once the client closed them."""
        if self._pool is None:
            if self._pools is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    self.threads, thread_name_prefix=self._name)
            else:
                self._pool = self._pools.executor(self.threads, self._name)
        return self._pool

    @property
    def direct(self) -> bool:
        """True when calls run on the caller's thread now (inline, or ``here``)."""
        return self.inline or self.here

    async def __call__(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        if self.inline or self.here:
            return fn(*args, **kwargs)
        fut = self.submit(fn, *args, **kwargs)
        return fut.result() if fut.done() else await asyncio.wrap_future(fut)

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
               ) -> concurrent.futures.Future[T]:
        """Start ``fn`` in a thread (or run it now: inline, or ``here``); its future.

        Unlike an awaited call, the future outlives a cancelled waiter: whoever holds
        it can still act on the result (a lease taken all the same, say).
        """
        pool = None if self.inline or self.here else self._executor()
        if pool is not None:
            try:
                return pool.submit(fn, *args, **kwargs)
            except RuntimeError:  # the client closed the pool just now: the store is closed
                pass
        done: concurrent.futures.Future[T] = concurrent.futures.Future()
        try:  # in memory, or closed (the store then says it is closed)
            done.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            done.set_exception(exc)
        return done

    def close(self) -> None:
        """Let the calls in flight finish and stop the threads (a later call starts new ones)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

