"""history/_memory.py: what only the in-memory store needs checked."""

from __future__ import annotations

import asyncio
import threading

import pytest

from replay.history import Deliver, MemoryStore, RunNotFoundError, Start
from tests.history.samples import activity, signal, started, task_done, timer


def test_a_failed_commit_restores_every_table() -> None:
    store = MemoryStore()
    store.commit([Start("r1", started())])
    store.append("r1", [activity(2), timer(3), task_done(4)], 1)
    store.request_update("r1", "u1", "set", [], started().time)
    before = store.dump_indexes(), store.read("r1")
    with pytest.raises(RunNotFoundError):
        store.commit([Deliver("r1", signal()), Start("r2", started("wf-2")),
                      Deliver("r9", signal())])
    assert (store.dump_indexes(), store.read("r1")) == before
    assert store.get_run("r2") is None


def test_waiters_on_other_event_loops_are_woken() -> None:
    store = MemoryStore()
    store.commit([Start("r1", started())])
    results: list[bool] = []
    waiting = threading.Event()

    async def wait() -> None:
        task = asyncio.ensure_future(store.wait_changed(30))
        await asyncio.sleep(0)
        waiting.set()
        results.append(await task)

    thread = threading.Thread(target=lambda: asyncio.run(wait()))
    thread.start()
    waiting.wait(30)
    store.commit([Deliver("r1", signal())])
    thread.join(30)
    assert results == [True]


def test_reads_return_copies() -> None:
    store = MemoryStore()
    store.commit([Start("r1", started())])
    store.read("r1").append(signal(2))
    assert len(store.read("r1")) == 1
