"""Append throughput of SqliteStore next to raw sqlite3 inserts of the same rows.

Both sides write to a fresh file in the same directory, in WAL mode with
``synchronous=FULL`` (one fsync per commit), into the same events table (the
store's own DDL), one transaction per append. The raw side starts from the
events as JSON-able dicts and, inside the timed loop, writes each as compact
JSON (the same text the store writes) and inserts the row: what any
application storing JSON in SQLite does. The ratio charges the store for what
it adds: turning attrs events into dicts, validating the batch, reading the
run's head row, the index changes and the wake-up. Each row's note also gives
the stricter ratio against inserting rows whose JSON was encoded beforehand.
Samples of the sides alternate so that drift of the disk hits them alike.

Targets: one event per transaction costs at most 1.5x the raw insert
(throughput ratio >= 0.67); 100 events per transaction >= 50% of raw.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from replay.history import (
    Deliver,
    Event,
    MarkerRecorded,
    SignalReceived,
    SqliteStore,
    Start,
    WorkflowStarted,
    WorkflowTaskCompleted,
    event_to_data,
)
from replay.history._sqlite_rows import INSERT_EVENT, dumps, event_row
from replay.history._sqlite_schema import DDL

from ._harness import Row, Stats, alternate

SECTION = "append: SqliteStore vs raw sqlite3 (WAL, synchronous=FULL)"

T0 = datetime(2024, 1, 1, tzinfo=UTC)
RUN = "bench-run"
BATCH = 100
EVENTS_TABLE = next(s for s in DDL if s.startswith("CREATE TABLE events"))


def _started() -> WorkflowStarted:
    return WorkflowStarted(event_id=1, time=T0, workflow_type="Bench", workflow_id="bench",
                           task_queue="q", args=[{"order": 42, "items": ["a", "b"]}])


def _signals(count: int) -> list[Event]:
    return [SignalReceived(event_id=i + 2, time=T0 + timedelta(milliseconds=i),
                           signal_name="add_item", args=[{"sku": f"sku-{i}", "qty": 1}])
            for i in range(count)]


def _activation_batches(batches: int) -> list[list[Event]]:
    """Batches of 99 markers and a WorkflowTaskCompleted, as one activation appends."""
    out: list[list[Event]] = []
    next_id = 2
    for _ in range(batches):
        batch: list[Event] = [
            MarkerRecorded(event_id=next_id + i, time=T0, name="side_effect",
                           marker_id=str(next_id + i), details={"value": next_id + i})
            for i in range(BATCH - 1)]
        batch.append(WorkflowTaskCompleted(event_id=next_id + BATCH - 1, time=T0,
                                           identity="bench"))
        out.append(batch)
        next_id += BATCH
    return out


class _Files:
    """A scratch directory with a new database file per sample."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="bench-append-", dir=Path.cwd()))
        self.count = 0

    def new(self) -> Path:
        self.count += 1
        return self.dir / f"{self.count}.db"

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _raw(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(EVENTS_TABLE)
    conn.execute(INSERT_EVENT, event_row(RUN, _started()))
    return conn


def _timed(count: int, fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return count / (time.perf_counter() - start)


def store_single(files: _Files, events: list[Event], deliver: bool) -> float:
    store = SqliteStore(files.new())
    store.commit([Start(RUN, _started())])

    def appends() -> None:
        for e in events:
            store.append(RUN, [e], e.event_id - 1)

    def delivers() -> None:
        for e in events:
            store.commit([Deliver(RUN, e)])

    try:
        return _timed(len(events), delivers if deliver else appends)
    finally:
        store.close()


def _dicts(events: list[Event]) -> list[tuple[str, int, str, str, dict[str, object]]]:
    return [(RUN, e.event_id, e.kind, e.time.isoformat(), event_to_data(e)) for e in events]


def raw_single(files: _Files, events: list[Event], encoded: bool = False) -> float:
    conn = _raw(files.new())
    rows = _dicts(events)
    ready = [event_row(RUN, e) for e in events]

    def inserts() -> None:
        for run_id, event_id, kind, at, data in rows:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(INSERT_EVENT, (run_id, event_id, kind, at, dumps(data)))
            conn.execute("COMMIT")

    def inserts_encoded() -> None:
        for row in ready:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(INSERT_EVENT, row)
            conn.execute("COMMIT")

    try:
        return _timed(len(rows), inserts_encoded if encoded else inserts)
    finally:
        conn.close()


def store_batched(files: _Files, batches: list[list[Event]]) -> float:
    store = SqliteStore(files.new())
    store.commit([Start(RUN, _started())])

    def appends() -> None:
        for batch in batches:
            store.append(RUN, batch, batch[0].event_id - 1)

    try:
        return _timed(BATCH * len(batches), appends)
    finally:
        store.close()


def raw_batched(files: _Files, batches: list[list[Event]], encoded: bool = False) -> float:
    conn = _raw(files.new())
    dicts = [_dicts(batch) for batch in batches]
    ready = [[event_row(RUN, e) for e in batch] for batch in batches]

    def inserts() -> None:
        for rows in dicts:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(INSERT_EVENT, [(r, i, k, t, dumps(d)) for r, i, k, t, d in rows])
            conn.execute("COMMIT")

    def inserts_encoded() -> None:
        for rows in ready:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(INSERT_EVENT, rows)
            conn.execute("COMMIT")

    try:
        return _timed(BATCH * len(batches), inserts_encoded if encoded else inserts)
    finally:
        conn.close()


def _strict(ours: Stats, encoded: Stats) -> str:
    return f"; vs pre-encoded rows: {ours.median / encoded.median:.2f}x"


def run(quick: bool) -> list[Row]:
    """Three rows: append of one event, deliver of one event, append of 100 events."""
    singles = _signals(500 if quick else 2000)
    batches = _activation_batches(20 if quick else 100)
    files = _Files()
    try:
        one, dlv, raw_one, pre_one = alternate(
            lambda: store_single(files, singles, False),
            lambda: store_single(files, singles, True),
            lambda: raw_single(files, singles),
            lambda: raw_single(files, singles, encoded=True))
        many, raw_many, pre_many = alternate(
            lambda: store_batched(files, batches),
            lambda: raw_batched(files, batches),
            lambda: raw_batched(files, batches, encoded=True))
    finally:
        files.close()
    peer = "raw sqlite3"
    return [
        Row(metric="append, 1 event/transaction", value=one, unit="events/s", peer=peer,
            peer_value=raw_one, target="ratio >= 0.67 (cost <= 1.5x raw)",
            note="store.append(run, [signal], expected_last_id) per event"
            + _strict(one, pre_one)),
        Row(metric="deliver, 1 event/transaction", value=dlv, unit="events/s", peer=peer,
            peer_value=raw_one, target="ratio >= 0.67",
            note="store.commit([Deliver(run, signal)]): the id is assigned by the store"
            + _strict(dlv, pre_one)),
        Row(metric=f"append, {BATCH} events/transaction", value=many, unit="events/s",
            peer=peer, peer_value=raw_many, target="ratio >= 0.50",
            note="99 MarkerRecorded + WorkflowTaskCompleted per append vs executemany"
            + _strict(many, pre_many)),
    ]
