"""Awaited client and handle calls never block the caller's event loop on the store.

Another connection holds the SQLite write lock; a ticker coroutine on the same
loop must keep running while a client call waits for that lock, and the call
completes once the lock is released. Facts, not time: the call is known to be
waiting (it entered the store while the lock is held) and the ticker is counted.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from fixtures.workload.samples import CounterWorkflow
from replay.client import Client
from replay.history import MemoryStore, SqliteStore

from .workers.harness import QUEUE, bounded

TICKS = 200


class Ticker:
    """Counts its turns on the event loop."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            self.ticks += 1
            await asyncio.sleep(0)

    async def turns(self, n: int) -> None:
        """Return once the ticker has run ``n`` more times."""
        target = self.ticks + n
        while self.ticks < target:
            await asyncio.sleep(0)

    def stop(self) -> None:
        self._task.cancel()


def _spy_commits(monkeypatch: pytest.MonkeyPatch, client: Client) -> threading.Event:
    """An event set when a commit of the client's store begins (on any thread)."""
    entered = threading.Event()
    commit = client.store.commit

    def spying(ops: Any) -> Any:
        entered.set()
        return commit(ops)

    monkeypatch.setattr(client.store, "commit", spying)
    return entered


async def _until(flag: threading.Event) -> None:
    while not flag.is_set():
        await asyncio.sleep(0)


async def _start(client: Client) -> Any:
    return await client.start_workflow(CounterWorkflow.run, 1, id="blocked",
                                       task_queue=QUEUE)


async def _signal(client: Client) -> Any:
    handle = client.get_workflow_handle("blocked")
    return await handle.signal(CounterWorkflow.add, 2)


@pytest.mark.parametrize("call", [_start, _signal], ids=["start_workflow", "signal"])
async def test_a_call_waiting_on_the_write_lock_lets_the_loop_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        call: Callable[[Client], Awaitable[Any]]) -> None:
    path = tmp_path / "locked.db"
    client = Client(SqliteStore(path, busy_timeout_ms=10_000))
    if call is _signal:
        await _start(client)
    entered = _spy_commits(monkeypatch, client)
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    ticker = Ticker()
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another connection holds the write lock
        pending = asyncio.ensure_future(call(client))
        await bounded(_until(entered), 10)  # the call is inside the store, on the lock
        await bounded(ticker.turns(TICKS), 10)  # ...and the loop keeps turning meanwhile
        assert not pending.done()
        blocker.execute("ROLLBACK")
        await bounded(pending, 10)  # the lock is free: the call completes
    finally:
        ticker.stop()
        blocker.close()
        client.close()
    with SqliteStore(path) as store:
        [run] = store.list_runs(workflow_id="blocked")
        kinds = [type(e).__name__ for e in store.read(run.run_id)]
    assert kinds == ["WorkflowStarted"] + (["SignalReceived"] if call is _signal else [])


async def test_an_in_memory_store_is_called_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client(MemoryStore())
    threads: list[threading.Thread] = []
    commit = client.store.commit

    def spying(ops: Any) -> Any:
        threads.append(threading.current_thread())
        return commit(ops)

    monkeypatch.setattr(client.store, "commit", spying)
    await _start(client)
    assert threads == [threading.current_thread()]
    assert client.store_calls.inline
