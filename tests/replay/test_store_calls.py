"""replay/_client/_store_calls.py: ``StoreCalls.unstoppable``, the call a group commit rides
on: once asked for it runs exactly once, whatever becomes of its caller or the client."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from replay.client import Client
from replay.history import SqliteStore

from .workers.harness import bounded

THREADS = 4  # a client's store threads (replay/_client/_store_calls.py, MAX_THREADS)


class Recorder:
    """A store call that records which thread ran it, and how often."""

    def __init__(self) -> None:
        self.threads: list[str] = []
        self.ran = threading.Event()

    def __call__(self, value: int) -> int:
        self.threads.append(threading.current_thread().name)
        self.ran.set()
        return value * 2


async def test_a_cancelled_caller_stops_waiting_but_the_call_runs_once(tmp_path: Path) -> None:
    client = Client(SqliteStore(tmp_path / "calls.db"))
    gate = threading.Event()
    record = Recorder()
    try:
        calls = client.store_calls
        blocking = [asyncio.ensure_future(calls(gate.wait, 30)) for _ in range(THREADS)]
        waiting = asyncio.ensure_future(calls.unstoppable(record, 21))
        await asyncio.sleep(0)  # every task ran to its first await: the call is queued
        waiting.cancel()
        gate.set()
        assert await bounded(asyncio.gather(*blocking)) == [True] * THREADS
        assert await bounded(asyncio.to_thread(record.ran.wait, 30))
    finally:
        gate.set()
        client.close()
    assert waiting.cancelled()
    assert len(record.threads) == 1 and record.threads[0].startswith("replay-client")


async def test_a_call_the_closing_client_cancelled_runs_on_the_closing_thread(
        tmp_path: Path) -> None:
    client = Client(SqliteStore(tmp_path / "calls.db"))
    gate = threading.Event()
    record = Recorder()
    calls = client.store_calls
    closer = threading.Thread(target=calls.close, name="closing")
    try:
        blocking = [asyncio.ensure_future(calls(gate.wait, 30)) for _ in range(THREADS)]
        waiting = asyncio.ensure_future(calls.unstoppable(record, 21))
        await asyncio.sleep(0)  # the call is queued behind the blocked threads
        closer.start()  # cancels the queued call, then waits for the running ones
        assert await bounded(waiting) == 42  # told by the closing thread, which ran it
        gate.set()
        await bounded(asyncio.to_thread(closer.join, 30))
        assert await bounded(asyncio.gather(*blocking)) == [True] * THREADS
    finally:
        gate.set()
        client.close()
    assert record.threads == ["closing"]
