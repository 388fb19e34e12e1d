"""Our side of the durable comparisons: a workflow of ``n`` sequential activities.

The code matches the peers' workflows step for step (``step(i)`` returns
``i * i``; the workflow sums them). Runs go through ``Client`` and ``Worker``
on a ``SqliteStore`` file opened at the ``synchronous`` level under test.
``bare_*`` run the same coroutine code on a plain asyncio loop, with the
activity awaited directly: no history, no store, no worker (the loop's limit).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from replay import activity, workflow
from replay.client import Client
from replay.history import SqliteStore, store_from_url
from replay.worker import Worker

QUEUE = "bench-peers"
WAIT = 600.0  # seconds: a run that takes longer is a hang, not a figure


@activity.defn(name="bench_step")
async def step(i: int) -> int:
    """One durable step."""
    return i * i


@workflow.defn(name="BenchSteps")
class StepsWorkflow:
    """``n`` activities one after another (``timeout``: each one's start_to_close, s)."""

    @workflow.run
    async def run(self, n: int, timeout: float) -> int:
        total = 0
        for i in range(n):
            total += await workflow.execute_activity(
                step, i, start_to_close_timeout=timedelta(seconds=timeout))
        return total


async def bare_workflow(n: int) -> int:
    """``StepsWorkflow.run`` without durability: the activity is a plain await."""
    total = 0
    for i in range(n):
        total += await step(i)
    return total


def client(path: Path | str, synchronous: str) -> Client:
    """A client on a SqliteStore file at ``synchronous``, or on the store a
    ``postgresql://`` URL names (``synchronous`` is then the server's business)."""
    if isinstance(path, str) and path.startswith("postgresql://"):
        store = store_from_url(path)
        assert store is not None
        return Client(store)
    return Client(SqliteStore(path, synchronous=synchronous))


def _start_worker_process(path: Path | str, synchronous: str) -> subprocess.Popen[bytes]:
    """Another worker process on the same file (``benchmarks.peers.ours_worker``)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.peers.ours_worker", str(path), synchronous],
        cwd=Path(__file__).resolve().parents[2], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != b"ready":
        proc.kill()
        raise RuntimeError("the benchmark's worker process did not start")
    return proc


def _stop_worker_process(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _nothing() -> None:
    pass


def _ignore(pids: list[int]) -> None:
    pass


async def timed_runs(count: int, steps: int, synchronous: str, *, concurrent: bool,
                     on_start: Callable[[], None] = _nothing,
                     on_stop: Callable[[], None] = _nothing, processes: int = 1,
                     url: str | None = None,
                     on_helpers: Callable[[list[int]], None] = _ignore) -> float:
    """``count`` workflows per second; ``on_start``/``on_stop`` bracket the timed part
    (``on_helpers`` is told the process ids of the extra worker processes first).

    ``url``: a ``postgresql://`` store (a fresh schema each time) instead of a new
    SQLite file.
    """
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as d:
        target: Path | str = url if url is not None else Path(d) / "ours.db"
        c = client(target, synchronous)
        helpers = [_start_worker_process(target, synchronous) for _ in range(processes - 1)]
        on_helpers([proc.pid for proc in helpers])
        try:
            async with Worker(c, task_queue=QUEUE, workflows=[StepsWorkflow],
                              activities=[step], max_concurrent_activities=200):
                on_start()
                start = time.perf_counter()
                if concurrent:  # started at once, as an asyncio application would
                    handles = await asyncio.gather(*(
                        c.start_workflow(StepsWorkflow.run, args=[steps, 10.0], id=f"w{i}",
                                         task_queue=QUEUE) for i in range(count)))
                    await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)),
                                           WAIT)
                else:
                    for i in range(count):
                        h = await c.start_workflow(StepsWorkflow.run, args=[steps, 10.0],
                                                   id=f"w{i}", task_queue=QUEUE)
                        await asyncio.wait_for(h.result(), WAIT)
                elapsed = time.perf_counter() - start
                on_stop()
        finally:
            for proc in helpers:
                _stop_worker_process(proc)
            c.close()
    return count / elapsed


def workflows_per_second(count: int, steps: int, synchronous: str, *, concurrent: bool,
                         processes: int = 1, url: str | None = None) -> float:
    """``count`` workflows of ``steps`` activities, one after another or all at once.

    ``processes``: worker processes on the file (this one, plus ``processes - 1``
    started for the sample, each with its own worker identity).
    """
    return asyncio.run(timed_runs(count, steps, synchronous, concurrent=concurrent,
                                  processes=processes, url=url))


def bare_per_second(count: int, steps: int, *, concurrent: bool) -> float:
    """The same coroutine ``count`` times on a bare asyncio loop."""
    async def main() -> float:
        start = time.perf_counter()
        if concurrent:
            await asyncio.gather(*(bare_workflow(steps) for _ in range(count)))
        else:
            for _ in range(count):
                await bare_workflow(steps)
        return count / (time.perf_counter() - start)

    return asyncio.run(main())
