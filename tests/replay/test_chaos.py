"""Chaos: worker processes SIGKILLed and paused at random while the write lock is held at
random; afterwards healthy workers finish everything, and nothing was lost or doubled.

Seeded (``REPLAY_CHAOS_SEED``); ``REPLAY_CHAOS_FAULTS`` sets how many faults to inject
(200 here; ``make soak`` runs a longer version). The faults are paced by the seeded
schedule; what the test asserts waits on facts only: every run's result, then its
history.
"""

from __future__ import annotations

import asyncio
import collections
import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from fixtures.workload.procs import kill, start_worker
from fixtures.workload.samples import NotesWorkflow
from replay.client import Client, WorkflowHandle
from replay.history import SignalReceived, SqliteStore

from .workers.harness import bounded, check_history

FAULTS = int(os.environ.get("REPLAY_CHAOS_FAULTS", "200"))
SEED = int(os.environ.get("REPLAY_CHAOS_SEED", "1913"))
WORKERS = 3
BUSY_MS = 200  # the workers' busy timeout: many lock holds below outlast it
RUNS = max(40, FAULTS // 5)
STEPS = 3
NOTES = 3  # signals per run
TIMEOUT = 1.0  # an activity's start_to_close: a paused worker's lease expires after 2 s


class Chaos:
    """The worker processes and the faults done to them, counted."""

    def __init__(self, db: Path, logs: Path, rng: random.Random) -> None:
        self.db = db
        self.logs = logs
        self.rng = rng
        self.live: list[subprocess.Popen[bytes]] = []
        self.stopped: set[int] = set()
        self.killed: set[int] = set()
        self.faults: collections.Counter[str] = collections.Counter()
        self.background: set[asyncio.Task[None]] = set()
        self._started = 0
        self._locker = sqlite3.connect(db, isolation_level=None, check_same_thread=False,
                                       timeout=120)
        self._locked = False

    def _spawn(self, coro: collections.abc.Coroutine[object, object, None]) -> None:
        task = asyncio.ensure_future(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def start_worker(self) -> None:
        self._started += 1
        proc = await asyncio.to_thread(start_worker, self.db, busy_timeout_ms=BUSY_MS,
                                       log=self.logs / f"worker-{self._started}.log")
        self.live.append(proc)

    def running(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.live if p.pid not in self.stopped]

    async def inject(self) -> None:
        """One fault, of a kind drawn by the seeded schedule (waiting until it can be
        done: the lock is free, a worker is alive, one is running)."""
        kind = self.rng.choices(["kill", "stop", "lock"], weights=[2, 4, 4])[0]
        while not self._possible(kind):
            await asyncio.sleep(0.01)
        if kind == "lock":
            self._locked = True
            self._spawn(self._hold_lock(self.rng.uniform(0.02, 2.5 * BUSY_MS / 1000)))
        elif kind == "kill":
            proc = self.rng.choice(self.live)
            self.live.remove(proc)
            self.killed.add(proc.pid)
            await asyncio.to_thread(kill, proc)  # SIGKILL, paused or not
            self._spawn(self.start_worker())
        else:
            proc = self.rng.choice(self.running())
            os.kill(proc.pid, signal.SIGSTOP)
            self.stopped.add(proc.pid)
            self._spawn(self._resume(proc, self.rng.uniform(0.05, 1.0)))
        self.faults[kind] += 1

    def _possible(self, kind: str) -> bool:
        if kind == "lock":
            return not self._locked
        return bool(self.live if kind == "kill" else self.running())

    async def _hold_lock(self, seconds: float) -> None:
        # BEGIN IMMEDIATE waits while a (maybe paused) worker holds the lock.
        await asyncio.to_thread(self._locker.execute, "BEGIN IMMEDIATE")
        try:
            await asyncio.sleep(seconds)
        finally:
            self._locker.execute("ROLLBACK")
            self._locked = False

    async def _resume(self, proc: subprocess.Popen[bytes], after: float) -> None:
        await asyncio.sleep(after)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
        self.stopped.discard(proc.pid)

    async def settle(self) -> None:
        """Let every pending resume, lock release and restart happen."""
        while self.background:
            await asyncio.gather(*self.background)

    def close(self) -> None:
        for proc in self.live:
            kill(proc)
        self._locker.close()


async def _start_and_signal(client: Client, i: int, rng: random.Random,
                            handles: dict[str, WorkflowHandle[Any, Any]]) -> None:
    handle = await client.start_workflow(NotesWorkflow.run, args=[STEPS, NOTES, TIMEOUT],
                                         id=f"chaos-{i}", task_queue="tests")
    handles[handle.id] = handle
    for n in range(NOTES):
        await asyncio.sleep(rng.uniform(0.0, 0.5))
        await handle.signal(NotesWorkflow.note, f"{i}.{n}")


@pytest.mark.slow
async def test_chaos_loses_and_doubles_nothing(tmp_path: Path) -> None:
    began = time.monotonic()
    rng = random.Random(SEED)
    db, logs = tmp_path / "chaos.db", tmp_path / "logs"
    logs.mkdir()
    client = Client(SqliteStore(db, busy_timeout_ms=120_000))  # the test's calls wait it out
    chaos = Chaos(db, logs, rng)
    handles: dict[str, WorkflowHandle[Any, Any]] = {}
    senders: list[asyncio.Task[None]] = []
    try:
        await asyncio.gather(*(chaos.start_worker() for _ in range(WORKERS)))
        for n in range(FAULTS):
            if len(senders) < RUNS and n % max(1, FAULTS // RUNS) == 0:
                senders.append(asyncio.ensure_future(
                    _start_and_signal(client, len(senders), random.Random(rng.random()),
                                      handles)))
            await asyncio.sleep(rng.uniform(0.0, 0.12))
            await chaos.inject()
        while len(senders) < RUNS:
            senders.append(asyncio.ensure_future(
                _start_and_signal(client, len(senders), random.Random(rng.random()),
                                  handles)))
        chaos_seconds = time.monotonic() - began
        # Healthy from here on: every pause ends, the lock is released, workers restarted.
        await chaos.settle()
        while len(chaos.running()) < WORKERS:
            await chaos.start_worker()
        await bounded(asyncio.gather(*senders), 120)
        results = await bounded(asyncio.gather(*(h.result() for h in handles.values())), 180)
        crashed = [p.pid for p in chaos.live if p.poll() is not None]
    finally:
        await chaos.settle()
        chaos.close()
    total = sum(i * i for i in range(STEPS))
    assert len(handles) == RUNS
    for i, (handle, result) in enumerate(zip(handles.values(), results, strict=True)):
        n = int(handle.id.split("-")[1])
        # every signal applied exactly once, every activity's result recorded once
        assert result == {"total": total, "notes": [f"{n}.{k}" for k in range(NOTES)]}, i
        [run] = client.store.list_runs(workflow_id=handle.id)  # started exactly once
        history = check_history(client.store, run.run_id)  # valid, completed exactly once
        tags = [e.args[0] for e in history.events if isinstance(e, SignalReceived)]
        assert sorted(tags) == [f"{n}.{k}" for k in range(NOTES)]
    assert client.store.count_runs() == RUNS
    assert crashed == []  # no worker stopped on its own: every fault was survived
    episodes = sum(log.read_text().count("the store is unavailable")
                   for log in logs.iterdir())
    stopped_by_store = sum(log.read_text().count(" stopped: ") for log in logs.iterdir())
    client.close()
    assert stopped_by_store == 0
    print(f"{sum(chaos.faults.values())} faults injected in {chaos_seconds:.1f}s "
          f"({dict(chaos.faults)}); {RUNS} runs, {RUNS * NOTES} signals, "
          f"{RUNS * STEPS} activities: none lost or doubled; the workers waited out "
          f"{episodes} store-fault episodes; {time.monotonic() - began:.1f}s in all")
