"""A separate process writing to a SQLite store (run by tests/history/test_sqlite.py).

``python -m tests.history.append_worker appender DB RUN READY GO N``: N conditional
appends of one signal each, printing "<successes> <conflicts>".
``python -m tests.history.append_worker tail-writer DB RUN READY GO``: 10 signals
and a WorkflowCompleted, for a tail in the test process.
Each touches READY once its store is open and starts when GO exists.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from pathlib import Path

from replay.history import (
    AppendConflictError,
    Deliver,
    SignalReceived,
    SqliteStore,
    WorkflowCompleted,
)
from tests.strategies import T0


def _wait_for(ready: str, go: str) -> None:
    Path(ready).touch()
    while not os.path.exists(go):
        time.sleep(0.001)


def appender(store: SqliteStore, run_id: str, attempts: int) -> str:
    ok = conflicts = 0
    name = f"pid-{os.getpid()}"
    for i in range(attempts):
        last = store.last_event_id(run_id)
        time.sleep(0.0005 * (i % 3))  # widen the window between reading and appending
        event = SignalReceived(event_id=last + 1, time=T0 + timedelta(seconds=i),
                               signal_name=name, args=[i])
        try:
            store.append(run_id, [event], last)
            ok += 1
        except AppendConflictError:
            conflicts += 1
    return f"{ok} {conflicts}"


def tail_writer(store: SqliteStore, run_id: str) -> str:
    for i in range(10):
        time.sleep(0.005)
        store.commit([Deliver(run_id, SignalReceived(event_id=0, time=T0, signal_name=f"s{i}"))])
    last = store.last_event_id(run_id)
    store.append(run_id, [WorkflowCompleted(event_id=last + 1, time=T0)], last)
    return "done"


def main(argv: list[str]) -> int:
    mode, path, run_id, ready, go, *rest = argv
    store = SqliteStore(path)
    try:
        _wait_for(ready, go)
        out = appender(store, run_id, int(rest[0])) if mode == "appender" else tail_writer(
            store, run_id)
    finally:
        store.close()
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
