"""Group commit of a client's writes: starts and signals asked for at once share one
store transaction.

Every start (and signal) a client writes is one store commit: on SQLite at
``synchronous=FULL`` an fsync, on PostgreSQL a round trip. An application that starts
many runs at once (``asyncio.gather`` of ``start_workflow`` calls) would have them
written one after another. A :class:`CommitQueue` writes them the classic group-commit
way:

* A commit asked for while none of this client's is being written is written at once,
  alone: a lone start costs what it did before (no timer, no wait to gather a batch).
* Commits asked for while one is being written wait for it, then are written together
  in one transaction (``Store.commit_each``), each in a savepoint of its own: one that
  fails (an id already in use) fails alone with its own error, and nothing of it is
  written; the others are kept.
* A caller may stop waiting (its task cancelled): a batch that waits for the commit being
  written and has not yet been taken is dropped, as a store call not yet begun in the
  thread pool is; a batch taken (and the first one, which is taken at once) is written,
  once, whatever became of its caller.

A store that never waits (the in-memory store) is written inline on the caller's
thread, so no commit of it is ever "being written" when another task asks. There, the
inline commit holds the rest of its event-loop turn: commits other tasks ask for in
that turn (``asyncio.gather``'s tasks all run in one turn) are written together at its
end. The task that wrote inline goes on writing inline, so sequential starts never wait.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Sequence

from replay.history import Event, Operation, Store

from ._store_calls import StoreCalls

_Taken = tuple[Sequence[Operation], "concurrent.futures.Future[list[Event]]"]


class _Turn:
    """The event-loop turn an inline commit holds (in-memory store), and who waits on it."""

    __slots__ = ("loop", "owner", "waiting")

    def __init__(self, loop: asyncio.AbstractEventLoop,
                 owner: asyncio.Task[object] | None) -> None:
        self.loop = loop
        self.owner = owner
        self.waiting: list[tuple[Sequence[Operation], asyncio.Future[list[Event]]]] = []


class CommitQueue:
    """One client's commits, written alone when nothing is being written, else grouped.

    ``await queue.commit(ops)`` is ``store.commit(ops)`` off the event loop (see
    :class:`StoreCalls`): same result, same errors, same atomicity for ``ops``.
    """

    def __init__(self, store: Store, calls: StoreCalls) -> None:
        self._store = store
        self._calls = calls
        self._lock = threading.Lock()
        self._queue: list[_Taken] = []
        self._writing = False
        self._turn: _Turn | None = None

    @property
    def waiting(self) -> int:
        """How many commits wait for the one being written (to be written together)."""
        with self._lock:
            turn = self._turn
            return len(self._queue) + (len(turn.waiting) if turn is not None else 0)

    async def commit(self, ops: Sequence[Operation]) -> list[Event]:
        """Write ``ops`` atomically (in a group with other commits asked for meanwhile);
        the events written, or the error that refused ``ops`` (nothing of them written)."""
        if self._calls.inline:
            return await self._commit_inline(ops)
        fut: concurrent.futures.Future[list[Event]] = concurrent.futures.Future()
        with self._lock:
            self._queue.append((ops, fut))
            lead = not self._writing
            self._writing = True
        if not lead:
            return await asyncio.wrap_future(fut)
        # Nothing was being written: this call is one store call, as a lone commit always
        # was, that writes what is queued by the time a thread takes it (its own first).
        # Once asked for, it runs: it may carry other callers' batches.
        outcome = await self._calls.unstoppable(self._write_led, fut)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    # --- a store written in threads ----------------------------------------------------

    def _write_led(self, own: concurrent.futures.Future[list[Event]]
                   ) -> list[Event] | BaseException:
        """The leading call's work: write the queued group, which holds ``own``; its outcome."""
        self._write_queued()
        failed = own.exception()
        return failed if failed is not None else own.result()

    def _write_queued(self) -> None:
        """Write what is queued as one group (in a client thread); what is queued meanwhile
        is the next group, written by the next call, handed on before this one's callers
        are told (so telling them is the last thing this thread does)."""
        with self._lock:
            taken, self._queue = self._queue, []
            if not taken:
                self._writing = False
                return
        # a caller that stopped waiting before its batch was taken: nothing written
        taken = [t for t in taken if t[1].set_running_or_notify_cancel()]
        outcomes = write_group(self._store, [ops for ops, _ in taken]) if taken else []
        with self._lock:
            more = bool(self._queue)
            self._writing = more
        if more:
            self._calls.submit(self._write_queued)
        for (_, fut), outcome in zip(taken, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                fut.set_exception(outcome)
            else:
                fut.set_result(outcome)

    # --- a store written inline (in memory) --------------------------------------------

    async def _commit_inline(self, ops: Sequence[Operation]) -> list[Event]:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        turn = self._turn
        if turn is not None and turn.loop is loop and (turn.owner is not task
                                                        or turn.waiting):
            waiter: asyncio.Future[list[Event]] = loop.create_future()
            turn.waiting.append((ops, waiter))
            return await waiter
        events = self._store.commit(ops)
        if turn is None:
            self._turn = _Turn(loop, task)
            loop.call_soon(self._end_turn)
        return events

    def _end_turn(self) -> None:
        """At the end of the turn an inline commit held: write what waited, in one group."""
        turn, self._turn = self._turn, None
        if turn is None:
            return
        waiting = [(ops, w) for ops, w in turn.waiting if not w.done()]
        if not waiting:
            return
        for (_, w), outcome in zip(waiting, write_group(self._store, [t[0] for t in waiting]),
                                   strict=True):
            if isinstance(outcome, BaseException):
                w.set_exception(outcome)
            else:
                w.set_result(outcome)


def write_group(store: Store, batches: Sequence[Sequence[Operation]]
                ) -> list[list[Event] | Exception]:
    """Each batch's outcome (the events it wrote, or the error that refused it), all
    written in one transaction: one batch alone by ``commit``, several by ``commit_each``.
    A fault of the whole transaction (nothing written) is every batch's outcome."""
    try:
        if len(batches) == 1:
            return [store.commit(batches[0])]
        return [r for r in store.commit_each(batches)]
    except Exception as exc:  # each caller raises it
        return [exc] * len(batches)
