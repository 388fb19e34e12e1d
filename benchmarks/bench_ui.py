"""The web UI's runs list over a store holding 50,000 runs (target: under 100 ms).

A SQLite store is filled with 50,000 runs (four workflow types, ids with
prefixes, start times spread over a month, a fifth of them completed). Each
figure is the wall time of one whole ``GET`` of the runs page through the app
(httpx's ASGI transport, no network): the list query, the per-status counts and
the page rendering. The baseline is the bare SQL a hand-written page would run
for the same first page (``SELECT * FROM runs ORDER BY seq DESC LIMIT 51`` on an
open connection) on the same file, so the ratio shows what the UI adds to the query:
the list query through the client, seven status counts and the rendering.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ._harness import Row, Stats, repeat

SECTION = "ui: the runs list over 50,000 runs (one GET, in-process)"
RUNS = 50_000
T0 = datetime(2026, 10, 1, tzinfo=UTC)
TYPES = ("Order", "Payment", "Shipment", "Refund")


def _fill(path: Path, count: int) -> None:
    from replay.history import Append, SqliteStore, Start, WorkflowCompleted, WorkflowStarted

    store = SqliteStore(str(path))
    try:
        batch: list[list[Start | Append]] = []
        for i in range(count):
            moment = T0 + timedelta(seconds=i * 50)
            run_id = f"run-{i:06d}"
            started = WorkflowStarted(event_id=1, time=moment, workflow_type=TYPES[i % 4],
                                      workflow_id=f"{TYPES[i % 4].lower()}-{i:06d}",
                                      task_queue="bench", args=[i])
            ops: list[Start | Append] = [Start(run_id, started)]
            if i % 5 == 0:
                ops.append(Append(run_id, [WorkflowCompleted(
                    event_id=2, time=moment + timedelta(seconds=1), result=i)], 1))
            batch.append(ops)
            if len(batch) == 1_000:
                store.commit_each(batch)
                batch = []
        if batch:
            store.commit_each(batch)
    finally:
        store.close()


def _get_ms(path: Path, urls: list[str], runs: int) -> dict[str, Stats]:
    import httpx

    from replay._ui import create_app
    from replay.client import Client

    async def go() -> dict[str, Stats]:
        client = await Client.connect(f"sqlite:///{path}")
        try:
            app = create_app(client)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ui") as http:
                out: dict[str, list[float]] = {u: [] for u in urls}
                for _ in range(runs + 1):
                    for url in urls:
                        start = time.perf_counter()
                        response = await http.get(url)
                        elapsed = (time.perf_counter() - start) * 1000
                        if response.status_code != 200:
                            raise RuntimeError(f"GET {url}: {response.status_code}")
                        out[url].append(elapsed)
                return {u: Stats(median=sorted(v[1:])[len(v[1:]) // 2], min=min(v[1:]),
                                 max=max(v[1:]), samples=tuple(v[1:])) for u, v in out.items()}
        finally:
            client.close()

    return asyncio.run(go())


def _raw_ms(conn: sqlite3.Connection) -> float:
    """The first page as a hand-written page would read it: newest first by the runs
    table's start order, on an open connection."""
    start = time.perf_counter()
    conn.execute("SELECT * FROM runs ORDER BY seq DESC LIMIT 51").fetchall()
    return (time.perf_counter() - start) * 1000


def run(quick: bool) -> list[Row]:
    count = 5_000 if quick else RUNS
    tmp = Path(tempfile.mkdtemp(prefix="replay-bench-ui-"))
    try:
        path = tmp / "ui.db"
        _fill(path, count)
        pages = {
            "runs page, no filter": "/",
            "status = Completed": "/?status=Completed",
            "id prefix 'order-01'": "/?id_prefix=order-01",
            "type = Refund, started in a week": (
                "/?workflow_type=Refund&started_after=2026-10-10&started_before=2026-10-17"),
        }
        timed = _get_ms(path, list(pages.values()), 3 if quick else 7)
        conn = sqlite3.connect(path)
        try:
            raw = repeat(lambda: _raw_ms(conn), runs=7)
        finally:
            conn.close()
        rows = []
        for label, url in pages.items():
            stats = timed[url]
            rows.append(Row(metric=f"{label} ({count:,} runs)", value=stats, unit="ms",
                            peer="bare SQL, first page" if url == "/" else None,
                            peer_value=raw if url == "/" else None, target="< 100 ms",
                            note=("ratio: the UI's whole GET over the bare query"
                                  if url == "/" else "")))
        return rows
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
