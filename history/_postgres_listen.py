"""Wake-ups across hosts: LISTEN on the store's channel, wake this process's waiters.

Every commit of a :class:`~history.PostgresStore` sends one ``NOTIFY`` on the
store's channel (delivered by PostgreSQL when the transaction commits, to every
listening process on any host). Its payload names where the commit came from,
the runs it touched, the runs it ended and the task queues that may have new
work, so a waiter on one run (``tail``), on one run's end (``result()``) or on
one task queue (a worker) sleeps through the rest. A listener thread per store
object holds one connection; if it is lost, every waiter is woken (something may
have been missed) and it reconnects.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ._notify import ChangeNotifier, closed_scope
from ._postgres_conn import DB_ERRORS

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("replay.history")

QUEUE_SCOPE = "\x1equeue:"
"""The prefix of a task queue's scope key among run ids (no run id holds it)."""

MAX_PAYLOAD = 7900
"""NOTIFY payloads must stay under 8000 bytes; a longer scope is sent as 'everything'."""


def queue_scope(task_queue: str) -> str:
    """The scope key that wakes waiters of one task queue."""
    return QUEUE_SCOPE + task_queue


def scopes(runs: Iterable[str], queues: Iterable[str], closed: Iterable[str] = ()
           ) -> set[str]:
    """The scope keys of a commit to ``runs`` that may give ``queues`` new work and ended
    the runs ``closed``."""
    return {*runs, *(queue_scope(q) for q in queues), *map(closed_scope, closed)}


def payload(origin: str, runs: Iterable[str] = (), queues: Iterable[str] = (),
            closed: Iterable[str] = (), *, everything: bool = False) -> str:
    """The NOTIFY payload of one commit (``everything``: wake every waiter)."""
    if everything:
        return json.dumps({"o": origin})
    data: dict[str, Any] = {"o": origin, "r": sorted(runs), "q": sorted(queues)}
    if closed:
        data["c"] = sorted(closed)
    text = json.dumps(data, separators=(",", ":"))
    if len(text.encode()) > MAX_PAYLOAD:
        return json.dumps({"o": origin})
    return text


def parse(text: str) -> tuple[str, set[str] | None]:
    """(origin, scope keys or None for 'anything') of a payload."""
    try:
        data = json.loads(text)
        origin = str(data.get("o", ""))
    except (ValueError, AttributeError):
        return "", None
    if "r" not in data:
        return origin, None
    return origin, scopes(data.get("r", []), data.get("q", []), data.get("c", []))


class PolledQueues:
    """The task queues that workers using one store object poll, by worker.

    A worker waits for *its* work: an unscoped ``wait_changed`` of a store whose
    workers poll task queues wakes for commits that give those queues work (new
    workflow or activity tasks, released leases, queries, update requests,
    cancellations: each commit names the queues it concerns) and for commits of
    unknown scope, not for every commit of every host. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_owner: dict[str, frozenset[str]] = {}
        self._keys: frozenset[str] | None = None

    def polled(self, owner: str, task_queue: str) -> None:
        """``owner`` polls ``task_queue`` through this store object."""
        with self._lock:
            queues = self._by_owner.get(owner, frozenset())
            if task_queue not in queues:
                self._by_owner[owner] = queues | {task_queue}
                self._keys = None

    def retired(self, owner: str) -> None:
        """``owner`` stopped (or was found dead): its queues no longer count."""
        with self._lock:
            if self._by_owner.pop(owner, None) is not None:
                self._keys = None

    def scope(self) -> frozenset[str] | None:
        """The scope keys of every polled queue; None (everything) while none is polled."""
        with self._lock:
            if not self._by_owner:
                return None
            if self._keys is None:
                self._keys = frozenset(queue_scope(q) for qs in self._by_owner.values()
                                       for q in qs)
            return self._keys


class Listener:
    """A thread that LISTENs on ``channel`` and forwards other processes' commits."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], channel: str,
                 origin: str, notifier: ChangeNotifier) -> None:
        self._connect = connect
        self._channel = channel
        self._origin = origin
        self._notifier = notifier
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="replay-pg-listener",
                                        daemon=True)

    def start(self, timeout: float) -> None:
        """Start listening; returns once LISTEN is in effect (or raises why it is not)."""
        self._thread.start()
        if not self._ready.wait(timeout) and self._error is None:
            self.stop()
            raise TimeoutError(f"LISTEN was not set up within {timeout:g} s")
        if self._error is not None:
            self.stop()
            raise self._error

    def stop(self) -> None:
        """Ask the thread to end (it notices within a quarter of a second, or at once
        when a NOTIFY wakes it)."""
        self._stop.set()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        delay = 0.05
        while not self._stop.is_set():
            try:
                conn = self._connect()
            except DB_ERRORS as exc:
                if not self._ready.is_set():
                    self._error = exc
                    self._ready.set()
                    return
                log.warning("store listener cannot reconnect (%s); retrying", exc)
                self._stop.wait(delay)
                delay = min(delay * 2, 2.0)
                continue
            try:
                conn.execute(f'LISTEN "{self._channel}"')
                if self._ready.is_set():
                    self._notifier.notify(None)  # reconnected: something may have been missed
                self._ready.set()
                delay = 0.05
                self._listen(conn)
            except DB_ERRORS as exc:
                if not self._stop.is_set():
                    log.warning("store listener lost its connection (%s); reconnecting", exc)
                    self._notifier.notify(None)
            finally:
                conn.close()

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        while not self._stop.is_set():
            for note in conn.notifies(timeout=0.25):
                if self._stop.is_set():
                    return
                origin, keys = parse(note.payload)
                if origin != self._origin:  # our own commits woke our waiters already
                    self._notifier.notify(keys)
