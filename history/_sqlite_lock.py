"""Taking a SQLite file's write lock, and holding it briefly, when other processes want it.

Every write of a ``SqliteStore`` is one ``BEGIN IMMEDIATE`` transaction, so the
processes on one file take turns at its write lock. SQLite's own busy handler
sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50... ms between tries, so a writer that
finds the lock taken notices its release milliseconds after it happened, while
the transaction it waited behind took a fraction of a millisecond.
:func:`begin_immediate` tries again itself instead, after sleeps of 50 us doubling
to 0.5 ms, until the store's busy timeout has passed (then SQLite's "database is
locked" is raised, as before). The writer connection's own busy timeout is 0, so
SQLite never sleeps on its schedule.

While a thread of this process waits for or holds the write lock
(:func:`urgent`), the interpreter switches threads every 0.1 ms instead of every
5 ms: each statement releases the GIL while SQLite runs it, and a commit written
in a worker's thread would otherwise wait up to 5 ms for the GIL after each one
while the worker's event loop runs workflow code -- holding the file's write lock
all the while, with the other processes waiting behind it. The setting is put
back when no thread holds or waits for the lock any more.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator

from ._sqlite_faults import primary_code

FIRST_RETRY = 0.00005
"""Seconds slept after the first try finds the write lock taken..."""
LONGEST_RETRY = 0.0005
"""...doubling up to this."""
URGENT_SWITCH_INTERVAL = 0.0001
"""The interpreter's thread switch interval (seconds) while the lock is wanted or held."""

_urgent_lock = threading.Lock()
_urgent_count = 0
_saved_interval = 0.0


def begin_immediate(conn: sqlite3.Connection, timeout: float,
                    sleep: Callable[[float], None] = time.sleep) -> None:
    """``BEGIN IMMEDIATE`` on ``conn`` (whose busy timeout is 0), tried again after short
    sleeps (``sleep``) while another connection holds the write lock, for up to
    ``timeout`` seconds; then the last ``sqlite3.OperationalError`` (SQLITE_BUSY) is
    raised."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        return
    except sqlite3.OperationalError as exc:
        if primary_code(exc) != sqlite3.SQLITE_BUSY:
            raise
    deadline = time.monotonic() + timeout
    wait = FIRST_RETRY
    while True:
        sleep(wait)
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if primary_code(exc) != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                raise
        wait = min(wait * 2, LONGEST_RETRY)


@contextlib.contextmanager
def urgent() -> Iterator[None]:
    """Switch threads every :data:`URGENT_SWITCH_INTERVAL` while inside (any thread of
    the process; the interval in force before the first entered is restored after the
    last leaves, unless it was already shorter)."""
    global _urgent_count, _saved_interval
    with _urgent_lock:
        if _urgent_count == 0:
            _saved_interval = sys.getswitchinterval()
            if _saved_interval > URGENT_SWITCH_INTERVAL:
                sys.setswitchinterval(URGENT_SWITCH_INTERVAL)
        _urgent_count += 1
    try:
        yield
    finally:
        with _urgent_lock:
            _urgent_count -= 1
            if _urgent_count == 0 and _saved_interval > URGENT_SWITCH_INTERVAL:
                sys.setswitchinterval(_saved_interval)
