"""Wake-ups: tell waiters (on any thread or event loop) that a store changed.

A :class:`ChangeNotifier` counts commits. Writers in this process call
:meth:`~ChangeNotifier.notify` right after committing, naming the runs they
touched, or None when they saw on the way that another connection had
committed meanwhile. For commits of other processes that no commit of ours
sees, an optional poll function (for SQLite: ``PRAGMA data_version`` on the
store's own writing connection, which changes only when *another* connection
commits) is called every few milliseconds by a helper thread, but only while
someone is waiting, so an idle store costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any, TypeVar

from ._events import Event
from ._kinds import TERMINAL_KINDS

T = TypeVar("T")

POLL_INTERVAL = 0.005
"""Seconds between two cross-process checks while someone waits."""
SCOPES_KEPT = 4096
"""How many runs' newest change versions a notifier remembers (for waiters' ``since``)."""


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class ChangeNotifier:
    """A commit counter that async waiters on any event loop can wait on."""

    def __init__(self, poll: Callable[[], bool] | None = None,
                 interval: float = POLL_INTERVAL,
                 on_close: Callable[[], None] | None = None) -> None:
        self._cond = threading.Condition()
        self._waiters: dict[asyncio.Future[None],
                            tuple[asyncio.AbstractEventLoop, frozenset[str] | None]] = {}
        self._version = 0
        # The version of each scope's (run's) newest change, newest last, so that a
        # waiter given ``since`` returns at once only for a change it cares about.
        # Scopes dropped to bound the map raise the floor: a waiter on an unknown
        # scope counts every change up to it (as for another process's commits).
        self._scoped: dict[str, int] = {}
        self._floor = 0
        self._poll = poll
        self._interval = interval
        self._closed = False
        self._thread: threading.Thread | None = None
        self._on_close = on_close
        self.polls = 0
        """How many polls the helper thread has made (tests wait on it)."""

    @property
    def version(self) -> int:
        """How many changes were seen so far; pass it to :meth:`wait` as ``since``."""
        return self._version

    def notify(self, runs: AbstractSet[str] | None = None) -> None:
        """Record a change and wake the waiters it concerns.

        ``runs`` names the runs the change touched (None: unknown, wake every
        waiter); a waiter watching one run sleeps through changes to others.
        """
        with self._cond:
            self._version += 1
            if runs is None:
                self._floor = self._version
            else:
                for run in runs:
                    self._scoped.pop(run, None)
                    self._scoped[run] = self._version
                if len(self._scoped) > SCOPES_KEPT:
                    self._forget_oldest()
            waiters = [(fut, loop) for fut, (loop, scope) in self._waiters.items()
                       if scope is None or runs is None or not scope.isdisjoint(runs)]
        for fut, loop in waiters:
            # A closed loop raises RuntimeError; its waiter is gone with it.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_wake, fut)

    async def wait(self, timeout: float, since: int | None = None,
                   run_id: str | AbstractSet[str] | None = None) -> bool:
        """True once a change is seen (after ``since``, if given), False on timeout.

        With ``run_id``, only changes to that run (or of unknown scope, such as
        another process's commits) end the wait; given a set of scope keys, changes
        to any of them do.
        """
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        scope = None if run_id is None else (
            frozenset((run_id,)) if isinstance(run_id, str) else frozenset(run_id))
        with self._cond:
            if since is not None and self._changed_since(since, scope):
                return True
            if timeout <= 0:
                return False
            self._waiters[fut] = (loop, scope)
            self._start_poller()
            self._cond.notify_all()
        try:
            async with asyncio.timeout(timeout):
                await fut
            return True
        except TimeoutError:
            return False
        finally:
            with self._cond:
                self._waiters.pop(fut, None)

    def _changed_since(self, since: int, scope: frozenset[str] | None) -> bool:
        """Was anything ``scope`` cares about (None: anything) changed after ``since``?"""
        if since == self._version:
            return False
        if scope is None:
            return True
        return max([self._floor, *(self._scoped.get(key, 0) for key in scope)]) > since

    def _forget_oldest(self) -> None:
        for run in list(self._scoped)[: SCOPES_KEPT // 2]:
            self._floor = max(self._floor, self._scoped.pop(run))

    def close(self) -> None:
        """Stop the polling thread (waiters then only see in-process changes)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)
        if self._on_close is not None:
            self._on_close()

    def _start_poller(self) -> None:
        if self._poll is None or self._closed or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run_poller, name="replay-store-poller",
                                        daemon=True)
        self._thread.start()

    def _run_poller(self) -> None:
        assert self._poll is not None
        while True:
            with self._cond:
                while not self._waiters and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                self._cond.wait(self._interval)
                if self._closed:
                    return
            try:
                changed = self._poll()
                self.polls += 1
            except Exception:  # a poll can fail while the file is being closed; try again
                continue
            if changed:
                self.notify()


# --- one notifier per database file in this process -------------------------------------------

_registry_lock = threading.Lock()
_registry: dict[str, tuple[ChangeNotifier, list[Callable[[], bool]]]] = {}


def acquire_notifier(path: Path, poll: Callable[[], bool]) -> ChangeNotifier:
    """The shared notifier of a database file, which from now on also calls ``poll``.

    ``poll`` tells whether another connection committed since it last looked; the
    notifier's helper thread calls the polls of every store object open on the file
    (a commit of one of them is another connection's to the others: it wakes every
    waiter, which is more than needed, never less).
    """
    key = str(path)
    with _registry_lock:
        entry = _registry.get(key)
        if entry is None:
            polls: list[Callable[[], bool]] = []
            entry = (ChangeNotifier(lambda: _any_changed(polls)), polls)
            _registry[key] = entry
        entry[1].append(poll)
        return entry[0]


def _any_changed(polls: list[Callable[[], bool]]) -> bool:
    with _registry_lock:
        current = list(polls)
    changed = False
    for poll in current:  # every one: each poll moves its own mark on
        changed = poll() or changed
    return changed


def release_notifier(path: Path, poll: Callable[[], bool]) -> None:
    """Drop one store's ``poll``; the last one closes the notifier."""
    key = str(path)
    with _registry_lock:
        notifier, polls = _registry[key]
        polls.remove(poll)
        if polls:
            return
        del _registry[key]
    notifier.close()


# --- tail -------------------------------------------------------------------------------------

TAIL_RECHECK = 1.0
"""Seconds a tail waits for a wake-up before it reads again anyway."""


async def tail_events(
    notifier: ChangeNotifier,
    read: Callable[[int], list[Event]],
    is_closed: Callable[[], bool],
    after_event_id: int,
    *,
    in_thread: bool = False,
) -> AsyncIterator[Event]:
    """Yield events after ``after_event_id`` as they are committed, until the terminal one.

    With ``in_thread``, each read runs in a thread, so a store that can wait on a
    lock never blocks the caller's event loop.
    """
    async def call(fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args) if in_thread else fn(*args)

    last = after_event_id
    while True:
        since = notifier.version
        events = await call(read, last)
        for event in events:
            yield event
            last = event.event_id
            if isinstance(event, TERMINAL_KINDS):
                return
        if not events:
            if await call(is_closed):
                # The run may have closed between the read and this check.
                for event in await call(read, last):
                    yield event
                return
            await notifier.wait(TAIL_RECHECK, since=since)


class Notifying:
    """Wake-ups shared by the stores: ``tail``, ``wait_changed`` and ``change_token``.

    A store mixing this in sets ``_notifier`` and provides ``read`` and ``get_run``;
    one whose reads can block (on a file lock) sets ``_reads_block``, and ``tail``
    then reads in a thread.
    """

    _notifier: ChangeNotifier
    _reads_block = False

    def read(self, run_id: str, after_event_id: int = 0) -> list[Event]:
        raise NotImplementedError

    def run_is_open(self, run_id: str) -> bool:
        raise NotImplementedError

    def tail(self, run_id: str, after_event_id: int = 0) -> AsyncIterator[Event]:
        """Yield events as they are appended, by any process, until the run's terminal event."""
        return tail_events(self._notifier, lambda last: self.read(run_id, last),
                           lambda: not self.run_is_open(run_id), after_event_id,
                           in_thread=self._reads_block)

    async def wait_changed(self, timeout: float, since: int | None = None,
                           run_id: str | None = None) -> bool:
        """Return True when anything is committed (by any process), False after ``timeout``.

        With ``since`` (a :meth:`change_token`), return at once if anything was
        committed after the token was taken; with ``run_id``, sleep through this
        process's commits to other runs (those after ``since`` included).
        """
        return await self._notifier.wait(timeout, since, run_id)

    def change_token(self) -> int:
        """An opaque counter of commits seen; pass it to ``wait_changed(since=...)``."""
        return self._notifier.version


def closed_scope(run_id: str) -> str:
    """The scope key of a commit that ended run ``run_id`` (no run id starts with NUL)."""
    return "\0closed:" + run_id


class ClosingNotifying(Notifying):
    """:class:`Notifying` for a store whose commits also name the runs they end
    (:func:`closed_scope`), so a waiter on a run's end sleeps through its other commits."""

    async def wait_closed(self, run_id: str, timeout: float, since: int | None = None) -> bool:
        """True once a commit that ended ``run_id`` (or one of unknown scope, such as
        another process's) lands after ``since``, False after ``timeout``."""
        return await self._notifier.wait(timeout, since, closed_scope(run_id))
