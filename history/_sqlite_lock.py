"""Holding a SQLite file's write lock briefly while this process also runs Python elsewhere.

Every write of a ``SqliteStore`` is one ``BEGIN IMMEDIATE`` transaction, and a
worker writes its group commits in a thread of its own while its event loop runs
workflow code. Each statement, the fsync'd ``COMMIT`` above all, releases the GIL
while SQLite runs it; with the interpreter's default switch interval (5 ms) the
writing thread then waits up to 5 ms to get it back from the busy loop -- after
every statement, holding the file's write lock (and the store object's own) all
the while, with the client's calls and the other processes waiting behind it.

So while a thread of this process waits for the write lock (the store object's
own, between its threads, or SQLite's, in its busy handler) or for the fsync of
its ``COMMIT`` (:func:`urgent`), the interpreter switches threads every 0.1 ms
instead. Beside a thread running Python without pause, a thread writing fsync'd
three-batch group commits back to back took a median 0.55-1.2 ms per commit
instead of 8.7-9.0 ms, and made 2.4 to 8.6 times as many, while the busy thread
ran no less. The planning between the statements is not covered: there two
threads both run Python and switching every 0.1 ms only costs switches (a lone
worker with 200 runs ready, whose group commits plan ~100 batches each, lost
about a fifth of its throughput that way). The setting is put back when no
thread of the process is waiting any more.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator

URGENT_SWITCH_INTERVAL = 0.0001
"""The interpreter's thread switch interval (seconds) while a thread waits for the lock or
the fsync."""

_urgent_lock = threading.Lock()
_urgent_count = 0
_saved_interval = 0.0


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
