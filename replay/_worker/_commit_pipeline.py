"""The worker's group commits, written in a thread while its event loop runs on.

A group commit on SQLite waits for the file's write lock and an fsync; on
PostgreSQL for a round trip. Made on the event loop, that wait stops every
activity the worker runs, so the next commit finds only what finished in the
short time between two commits. A :class:`CommitPipeline` writes one commit at
a time in a thread of its own: while it is written, the loop runs activities,
client calls and polls, and the next commit carries everything that finished
meanwhile.

What stays as it was without the pipeline:

* Nothing moves on a batch before it is durable: its ``succeeded``/``failed``
  (which start the activities it leased, put its instance back in the sticky
  cache, report its run's end) run in :meth:`CommitPipeline.settle`, on the
  loop, after the commit returned. The worker builds its next batches
  (activations) only after settling the commit in flight, so an instance is
  never activated on top of an activation that is not yet written, and a
  query never reads one.
* A run's batches commit in the order they were built: one commit is in
  flight at a time, written by one thread.
* A batch's error reaches exactly its batch (``commit_each``'s savepoints); a
  store fault that wrote nothing is raised by ``settle`` after ``on_fault``
  gave the commit's work back, as a fault of an inline commit was.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from datetime import datetime

from replay.history import InternalError, Store, StoreError

from ._group_commit import Pending, Written, commit_group
from ._store_io import PoolSource


def _nothing() -> None:
    pass


class CommitPipeline:
    """At most one group commit in flight, written off the event loop, settled on it.

    ``inline``: commit at once on the caller's thread (a store that never waits,
    such as the in-memory one); ``settle`` then returns without waiting.
    """

    def __init__(self, store: Store, *, inline: bool, pools: PoolSource | None = None) -> None:
        self._store = store
        self._inline = inline
        self._pools = pools
        self._thread: concurrent.futures.ThreadPoolExecutor | None = None
        self._in_flight: concurrent.futures.Future[Written] | None = None
        self._runs: set[str] = set()  # the runs the commit in flight appends to
        self._on_fault: Callable[[], None] = _nothing
        self.submitted = 0
        """How many commits were submitted (tests wait on it)."""

    @property
    def busy(self) -> bool:
        """True while a commit is in flight or written but not yet settled."""
        return self._in_flight is not None

    def submit(self, pending: list[Pending], now: datetime,
               on_fault: Callable[[], None] = _nothing) -> None:
        """Start writing ``pending`` in one group commit; :meth:`settle` tells its batches.

        ``on_fault`` runs (on the loop, in ``settle``) if the commit raises a
        StoreError, so the caller can hand its work back before the error is raised.
        Only one commit may be in flight: settle the last one first.
        """
        if self._in_flight is not None:
            raise InternalError("a group commit was submitted while another is in flight")
        thread = None if self._inline else self._commit_thread()
        fut: concurrent.futures.Future[Written] | None = None
        if thread is not None:
            try:
                fut = thread.submit(commit_group, self._store, pending, now)
            except RuntimeError:  # the client closed it just now: the store is closed
                fut = None
        if fut is None:  # inline (in memory, or closed: the store then says it is closed)
            fut = concurrent.futures.Future()
            try:
                fut.set_result(commit_group(self._store, pending, now))
            except StoreError as exc:
                fut.set_exception(exc)
        self._in_flight = fut
        self._runs = {p.run_id for p in pending}
        self._on_fault = on_fault
        self.submitted += 1

    def in_flight_for(self, run_id: str) -> concurrent.futures.Future[Written] | None:
        """The commit in flight if it appends to ``run_id`` (done once written)."""
        fut = self._in_flight
        return fut if fut is not None and run_id in self._runs else None

    def _commit_thread(self) -> concurrent.futures.ThreadPoolExecutor | None:
        if self._thread is None:
            if self._pools is None:
                self._thread = concurrent.futures.ThreadPoolExecutor(
                    1, thread_name_prefix="replay-commit")
            else:  # the client's: it waits for the commit in flight before closing the store
                self._thread = self._pools.executor(1, "replay-commit")
        return self._thread

    async def settle(self) -> Written | None:
        """Wait for the commit in flight and tell each of its batches its outcome.

        None if no commit was in flight. If the awaiting task is cancelled, the
        commit is still written, and the next ``settle`` tells it. A StoreError
        of the commit is raised here, after ``on_fault``.
        """
        fut = self._in_flight
        if fut is None:
            return None
        try:
            # the thread's own future: a cancelled wait leaves the commit to this one's
            # next call (a wrapper, not asyncio.shield, which costs another loop turn)
            written = fut.result() if fut.done() else await asyncio.wrap_future(fut)
            if self._in_flight is not fut:  # settled meanwhile (settle_now)
                return None
        except StoreError:
            if self._in_flight is not fut:  # settle_now met it first
                return None
            self._in_flight = None
            self._on_fault()
            raise
        except asyncio.CancelledError:
            if fut.cancelled():  # cancelled before its thread took it: nothing was written
                self._in_flight = None
                self._on_fault()
            raise  # else the commit stays in flight: the next settle tells it
        except BaseException:
            self._in_flight = None
            raise
        self._in_flight = None
        written.settle()
        return written

    def commit_here(self, pending: list[Pending], now: datetime,
                    on_fault: Callable[[], None] = _nothing) -> Written:
        """Write ``pending`` in one group commit on the caller's thread, now (when nothing
        else could run while it is written, a hand-off to the thread only costs time).
        The caller settles it (``written.settle()``) once its pass has looked at the
        store. A StoreError is raised after ``on_fault``. None may be in flight."""
        if self._in_flight is not None:
            raise InternalError("a group commit was written while another is in flight")
        self.submitted += 1
        try:
            return commit_group(self._store, pending, now)
        except StoreError:
            on_fault()
            raise

    def settle_now(self) -> Written | None:
        """:meth:`settle`, blocking this thread until the commit in flight returns (an
        eager start, which cannot wait asynchronously, needs what it wrote settled)."""
        fut = self._in_flight
        if fut is None:
            return None
        self._in_flight = None
        try:
            written = fut.result()
        except StoreError:
            self._on_fault()
            raise
        written.settle()
        return written

    def close(self) -> None:
        """Stop the commit thread (after the last commit was settled)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.shutdown(wait=True)
