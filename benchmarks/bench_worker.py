"""Durable execution: commit rate, workflow/activity throughput, latency, recovery, memory.

Everything runs against SqliteStore files at synchronous=FULL (the default).
The baseline is raw sqlite3 doing one-row transactions in WAL mode with
synchronous=FULL: every activity step costs several such commits, so it
bounds what any design on this file can reach.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import tempfile
import threading
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

from fixtures.workload import samples
from fixtures.workload.procs import kill, start_worker
from fixtures.workload.samples import CounterWorkflow, StepsWorkflow
from replay.client import Client
from replay.history import Store
from replay.worker import Worker

from ._harness import Row, Stats, repeat

SECTION = "worker: durable execution on SQLite (synchronous=FULL)"

QUEUE = "bench"


def _stats(values: list[float]) -> Stats:
    return Stats(median=statistics.median(values), min=min(values), max=max(values),
                 samples=tuple(values))


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def sqlite_commit_rate(n: int) -> float:
    with tempfile.TemporaryDirectory() as d:
        conn = sqlite3.connect(Path(d) / "raw.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        start = time.perf_counter()
        for i in range(n):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (v) VALUES (?)", (f"row {i}",))
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - start
        conn.close()
    return n / elapsed


async def _steps(workflows: int, steps: int) -> tuple[float, float]:
    """(workflows/s, activity steps/s) for ``workflows`` concurrent StepsWorkflow runs."""
    with tempfile.TemporaryDirectory() as d:
        client = await Client.connect(f"sqlite:///{Path(d) / 'b.db'}")
        async with Worker(client, task_queue=QUEUE, workflows=[StepsWorkflow],
                          activities=[samples.step], max_concurrent_activities=200):
            start = time.perf_counter()
            handles = [await client.start_workflow(StepsWorkflow.run, args=[steps, 10.0],
                                                   id=f"s{i}", task_queue=QUEUE)
                       for i in range(workflows)]
            await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 600)
            elapsed = time.perf_counter() - start
        client.close()
    return workflows / elapsed, workflows * steps / elapsed


async def _sequential(count: int, steps: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as d:
        client = await Client.connect(f"sqlite:///{Path(d) / 'b.db'}")
        async with Worker(client, task_queue=QUEUE, workflows=[StepsWorkflow],
                          activities=[samples.step]):
            start = time.perf_counter()
            for i in range(count):
                h = await client.start_workflow(StepsWorkflow.run, args=[steps, 10.0],
                                                id=f"s{i}", task_queue=QUEUE)
                await asyncio.wait_for(h.result(), 60)
            elapsed = time.perf_counter() - start
        client.close()
    return count / elapsed, count * steps / elapsed


async def _signal_latency(n: int) -> list[float]:
    """Seconds from handle.signal() to a query that sees the handler's effect."""
    with tempfile.TemporaryDirectory() as d:
        client = await Client.connect(f"sqlite:///{Path(d) / 'b.db'}")
        out: list[float] = []
        async with Worker(client, task_queue=QUEUE, workflows=[CounterWorkflow]):
            h = await client.start_workflow(CounterWorkflow.run, 0, id="lat",
                                            task_queue=QUEUE)
            await h.execute_update(CounterWorkflow.set_total, 0)  # first activation done
            for i in range(1, n + 1):
                start = time.perf_counter()
                await h.signal(CounterWorkflow.add, 1)
                while await h.query(CounterWorkflow.value) != i:
                    await asyncio.sleep(0)
                out.append(time.perf_counter() - start)
        client.close()
    return out


async def _signal_latency_cross_process(n: int) -> list[float]:
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "x.db"
        client = await Client.connect(f"sqlite:///{db}")
        proc = await asyncio.to_thread(start_worker, db, queue=QUEUE)
        out: list[float] = []
        try:
            h = await client.start_workflow(CounterWorkflow.run, 0, id="lat",
                                            task_queue=QUEUE)
            await asyncio.wait_for(h.execute_update(CounterWorkflow.set_total, 0), 30)
            for i in range(1, n + 1):
                start = time.perf_counter()
                await h.signal(CounterWorkflow.add, 1)
                while await h.query(CounterWorkflow.value) != i:
                    await asyncio.sleep(0.0002)
                out.append(time.perf_counter() - start)
        finally:
            kill(proc)
            client.close()
    return out


async def _update_latency(n: int) -> list[float]:
    with tempfile.TemporaryDirectory() as d:
        client = await Client.connect(f"sqlite:///{Path(d) / 'b.db'}")
        out: list[float] = []
        async with Worker(client, task_queue=QUEUE, workflows=[CounterWorkflow]):
            h = await client.start_workflow(CounterWorkflow.run, 0, id="upd",
                                            task_queue=QUEUE)
            await h.execute_update(CounterWorkflow.set_total, 0)
            for i in range(n):
                start = time.perf_counter()
                await h.execute_update(CounterWorkflow.set_total, i)
                out.append(time.perf_counter() - start)
        client.close()
    return out


class _FirstNewEvent:
    """Watches a run from a thread of its own: the moment its first event after
    ``last`` is committed (``perf_counter``), or None.

    The thread waits on the store's change notifier in its own event loop, which this
    process's commits wake as they finish, so the moment is not held back while the
    worker's loop (where the commit was made) carries on with its pass.
    """

    def __init__(self, store: Store, run_id: str, last: int) -> None:
        self._store, self._run_id, self._last = store, run_id, last
        self._ready = threading.Event()
        self._stop = threading.Event()
        self.at: float | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._watch(),),
                                        name="first-new-event", daemon=True)
        self._thread.start()
        self._ready.wait(30)

    async def _watch(self) -> None:
        store = self._store
        store.last_event_id(self._run_id)  # this thread's connection, opened before timing
        self._ready.set()
        while not self._stop.is_set():
            token = store.change_token()
            woke = time.perf_counter()
            if store.last_event_id(self._run_id) > self._last:
                self.at = woke
                return
            await store.wait_changed(0.05, since=token, run_id=self._run_id)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)


async def _recovery(steps: int, lease: float) -> tuple[float, float, int]:
    """Kill a worker process mid-run; seconds from a new worker's start to the first new
    event of the run (the pending activity's result, run again) and to its completion.

    Returns (to completion, to the first new event, steps still to do at the kill). The
    new worker frees the dead one's leases at once (same machine: its PID is gone).
    """
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "r.db"
        client = await Client.connect(f"sqlite:///{db}")
        proc = await asyncio.to_thread(start_worker, db, queue=QUEUE, lease=lease)
        h = await client.start_workflow(StepsWorkflow.run, args=[steps, 0.2], id="rec",
                                        task_queue=QUEUE)
        run_id = h.result_run_id or ""
        while client.store.last_event_id(run_id) < steps * 3 // 2:  # about halfway
            await asyncio.sleep(0.005)
        kill(proc)
        events = client.store.read(run_id)
        left = steps - sum(1 for e in events if type(e).__name__ == "ActivityCompleted")
        last = events[-1].event_id
        watch = _FirstNewEvent(client.store, run_id, last)
        start = time.perf_counter()
        try:
            async with Worker(client, task_queue=QUEUE, workflows=[StepsWorkflow],
                              activities=[samples.step],
                              workflow_task_lease=timedelta(seconds=lease)):
                await asyncio.wait_for(h.result(), 120)
                elapsed = time.perf_counter() - start
        finally:
            watch.close()
        first_event = client.store.read(run_id, after_event_id=last)[0]
        client.close()
    if watch.at is None or type(first_event).__name__ != "ActivityCompleted":
        raise RuntimeError(f"the first event after the restart was {first_event!r}, not the "
                           "pending activity's result")
    return elapsed, watch.at - start, left


async def _idle_memory(n: int) -> float:
    """Bytes per idle cached CounterWorkflow instance (tracemalloc, after the first task)."""
    with tempfile.TemporaryDirectory() as d:
        client = await Client.connect(f"sqlite:///{Path(d) / 'm.db'}")
        async with Worker(client, task_queue=QUEUE, workflows=[CounterWorkflow],
                          max_cached_workflows=n + 10) as worker:
            # warm up code paths before measuring
            h = await client.start_workflow(CounterWorkflow.run, 0, id="warm",
                                            task_queue=QUEUE)
            while h.result_run_id not in worker.cache:
                await asyncio.sleep(0.001)
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            for i in range(n):
                await client.start_workflow(CounterWorkflow.run, i, id=f"m{i}",
                                            task_queue=QUEUE)
            while len(worker.cache) < n + 1:
                await asyncio.sleep(0.005)
            used = tracemalloc.get_traced_memory()[0] - base
            tracemalloc.stop()
        client.close()
    return used / n


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def run(quick: bool) -> list[Row]:
    rows: list[Row] = []
    runs = 5
    baseline = repeat(lambda: sqlite_commit_rate(300 if quick else 2000), runs=runs)
    rows.append(Row(metric="raw sqlite3 one-row commits (WAL, FULL)", value=baseline,
                    unit="commits/s", note="the baseline: one fsync'd transaction each"))

    seq_n = 3 if quick else 20
    seq = [_run(_sequential(seq_n, 10)) for _ in range(runs + 1)][1:]
    rows.append(Row(metric="sequential: workflows of 10 activities", value=_stats(
        [w for w, _ in seq]), unit="workflows/s"))
    rows.append(Row(metric="sequential: activity steps", value=_stats([s for _, s in seq]),
                    unit="steps/s", target=">= 2,500 steps/s", peer="raw sqlite3 commits",
                    peer_value=baseline,
                    note="each step is one fsync'd group commit (the activity's result, the "
                         "activation it causes and the eager lease of the next activity); "
                         "the per-step profile is in peers_durable (see "
                         "docs/performance.md)"))

    conc_n = 100
    conc = [_run(_steps(conc_n, 10)) for _ in range((runs if not quick else 3) + 1)][1:]
    while len(conc) < 5:
        conc.append(_run(_steps(conc_n, 10)))
    rows.append(Row(metric="100 concurrent workflows of 10 activities",
                    value=_stats([w for w, _ in conc]), unit="workflows/s"))
    rows.append(Row(metric="100 concurrent: activity steps", value=_stats([s for _, s in conc]),
                    unit="steps/s", target=">= 10,000 steps/s", peer="raw sqlite3 commits",
                    peer_value=baseline,
                    note="group commit: the outcomes of all finished activities and the "
                         "activations they cause share one transaction per worker pass; "
                         "waiters on a run wake only for commits touching it"))

    lat_n = 50 if quick else 300
    lat = [_run(_signal_latency(lat_n)) for _ in range(runs + 1)][1:]
    rows.append(Row(metric="signal -> query-visible p50 (in-process)",
                    value=_stats([_pct(x, 50) * 1000 for x in lat]), unit="ms",
                    target="<= 1 ms"))
    rows.append(Row(metric="signal -> query-visible p99 (in-process)",
                    value=_stats([_pct(x, 99) * 1000 for x in lat]), unit="ms"))
    xlat = [_run(_signal_latency_cross_process(30 if quick else 200)) for _ in range(runs)]
    rows.append(Row(metric="signal -> query-visible p50 (worker in another process)",
                    value=_stats([_pct(x, 50) * 1000 for x in xlat]), unit="ms",
                    target="<= 10 ms"))
    rows.append(Row(metric="signal -> query-visible p99 (worker in another process)",
                    value=_stats([_pct(x, 99) * 1000 for x in xlat]), unit="ms"))

    upd = [_run(_update_latency(lat_n)) for _ in range(runs + 1)][1:]
    rows.append(Row(metric="execute_update round trip p50 (in-process)",
                    value=_stats([_pct(x, 50) * 1000 for x in upd]), unit="ms"))
    rows.append(Row(metric="execute_update round trip p99 (in-process)",
                    value=_stats([_pct(x, 99) * 1000 for x in upd]), unit="ms"))

    rec_steps = 200 if quick else 1000
    lease = 0.1
    rec = [_run(_recovery(rec_steps, lease)) for _ in range(3 if quick else runs)]
    while len(rec) < 5:
        rec.append(_run(_recovery(rec_steps, lease)))
    rows.append(Row(metric=f"recovery of a killed {rec_steps}-activity run",
                    value=_stats([s for s, _, _ in rec]), unit="s",
                    note=f"from the new worker's start to the run's completion: the dead "
                         f"worker's leases are freed at once (same machine), the run is "
                         f"replayed and its remaining steps run "
                         f"({min(x for *_, x in rec)}-{max(x for *_, x in rec)} left)"))
    first = _stats([f * 1000 for _, f, _ in rec])
    rows.append(Row(metric="a killed run resumes: new worker start -> first new step",
                    value=first, unit="ms", target="<= 50 ms",
                    note="the same runs: from the new worker's start to the commit of the "
                         "run's first new event, the result of the activity the dead worker "
                         "was running (its leases freed, the activity run again; seen by a "
                         "thread woken by the commit); "
                         + ("met" if first.median <= 50 else "MISSED")))

    mem_n = 200 if quick else 1000
    mem = [_run(_idle_memory(mem_n)) for _ in range(runs)]
    memory = _stats([m / 1024 for m in mem])
    rows.append(Row(metric="memory per idle cached workflow", value=memory, unit="KiB",
                    target="<= 5 KiB", note=f"{mem_n} idle CounterWorkflow instances in the "
                    "worker's cache (tracemalloc); "
                    + ("met" if memory.median <= 5 else "MISSED")))
    return rows
