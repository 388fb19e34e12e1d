"""A worker waits out passing store faults and stops, with one clear line, on lasting ones.

Facts, not time: the lock is held until the worker has reported two busy
timeouts; the disk stays full until it has reported two full-disk faults.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.workload import samples
from fixtures.workload.samples import GatedWorkflow, StepsWorkflow
from replay.client import Client, WorkflowHandle
from replay.history import MemoryStore, SqliteStore, Start, StoreError, StoreUnavailableError
from replay.worker import Worker
from tests.history.samples import started

from .workers.harness import QUEUE, bounded, check_history, log_records, running, wait_until

ROOT = Path(__file__).resolve().parents[2]
RUNS = 12
STEPS = 3
EXPECTED = sum(i * i for i in range(STEPS))


async def _start_runs(client: Client, runs: int = RUNS) -> list[WorkflowHandle[Any, Any]]:
    return [await client.start_workflow(StepsWorkflow.run, args=[STEPS, 5.0], id=f"w{i}",
                                        task_queue=QUEUE) for i in range(runs)]


def _finished(client: Client, handles: list[WorkflowHandle[Any, Any]]) -> int:
    runs = [client.store.get_run(h.result_run_id or "") for h in handles]
    return sum(1 for r in runs if r is not None and r.status == "completed")


async def _all_finish(client: Client, handles: list[WorkflowHandle[Any, Any]]) -> None:
    results = await bounded(asyncio.gather(*(h.result() for h in handles)), 60)
    assert results == [EXPECTED] * len(handles)
    for h in handles:
        check_history(client.store, h.result_run_id or "")


# --- the write lock held elsewhere ---------------------------------------------------------


def _gated(state: str) -> int:
    return samples.CALLS.count(("gated_step", state))


async def test_a_write_lock_held_for_twice_the_busy_timeout_is_waited_out(
        tmp_path: Path) -> None:
    samples.reset()
    path = tmp_path / "locked.db"
    client = Client(SqliteStore(path, busy_timeout_ms=100))
    blocker = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        handles = await _start_runs(client)
        gated = [await client.start_workflow(GatedWorkflow.run, 30.0, id=f"g{i}",
                                             task_queue=QUEUE) for i in range(RUNS)]
        with log_records("replay.worker") as logs:
            async with running(client) as worker:
                # Mid-flight: some runs finished, every gated activity is running.
                await wait_until(lambda: _finished(client, handles) == RUNS
                                 and _gated("start") == RUNS, 30)
                blocker.execute("BEGIN IMMEDIATE")  # another connection takes the write lock
                samples.event("gate").set()  # the gated activities end: their results wait
                # Two faults: the worker waited out its busy timeout twice, so the lock
                # was held for at least twice the busy timeout.
                await wait_until(lambda: worker.store_faults >= 2, 30)
                assert _finished(client, gated) == 0 and _gated("done") == RUNS
                blocker.execute("ROLLBACK")
                await _all_finish(client, handles)
                assert await bounded(asyncio.gather(*(h.result() for h in gated)), 60) == \
                    [1 + 4] * RUNS
                for h in gated:
                    check_history(client.store, h.result_run_id or "")
        assert _gated("start") == RUNS  # each gated activity ran once: no result was lost
        warnings = logs.messages(logging.WARNING)
        assert any("the store is unavailable (SQLITE_BUSY); nothing was lost, retrying in"
                   in m and "database is locked" in m for m in warnings), warnings
        assert not logs.messages(logging.ERROR)
    finally:
        blocker.close()
        client.close()


# --- a full file system ----------------------------------------------------------------------


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs mounted for the test (mounting needs root: CI runs as root)."""
    mount = shutil.which("mount")
    if mount is None:
        pytest.skip("no mount command here: cannot make a size-limited file system")
    where = tmp_path / "small"
    where.mkdir()
    done = subprocess.run([mount, "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs",
                           str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a size-limited tmpfs here (mounting needs root, as in "
                    f"CI): {done.stderr.strip() or done.returncode}")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _fill_disk(filler: Path) -> int:
    """Write ``filler`` until the file system has no byte left; its size."""
    written = 0
    with filler.open("wb", buffering=0) as f:
        for chunk in (1 << 20, 4096, 1):
            block = b"\0" * chunk
            while True:
                try:
                    written += f.write(block) or 0
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    return written


async def test_a_full_disk_is_waited_out_and_work_resumes_once_space_is_freed(
        small_fs: Path) -> None:
    client = Client(SqliteStore(small_fs / "full.db"))
    try:
        handles = await _start_runs(client)
        filler = small_fs / "filler"
        assert _fill_disk(filler) > 0
        with log_records("replay.worker") as logs:
            async with running(client) as worker:
                await wait_until(lambda: worker.store_faults >= 2, 30)
                assert _finished(client, handles) == 0  # nothing could be written
                filler.unlink()
                await _all_finish(client, handles)
        warnings = logs.messages(logging.WARNING)
        assert any("the store is unavailable (SQLITE_FULL)" in m and "free space and retry"
                   in m for m in warnings), warnings
        assert not logs.messages(logging.ERROR)
    finally:
        client.close()


# --- faults that cannot clear -------------------------------------------------------------------


def _replay_command() -> list[str]:
    script = Path(sys.executable).parent / "replay"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from replay._cli._main import main; main()"]


def _damage_table(path: Path, table: str) -> None:
    """Overwrite the cell pointers of ``table``'s root page with junk (its page header and
    the file's header stay intact, so quick_check can name what is broken)."""
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                        (table,)).fetchone()[0]
    conn.close()
    with path.open("r+b") as f:
        f.seek((root - 1) * page_size + 100)
        f.write(b"\xee" * 200)


def test_a_corrupt_store_stops_replay_worker_with_one_line_and_exit_status_3(
        tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    with SqliteStore(path, synchronous="OFF") as store:
        for i in range(50):
            store.commit([Start(f"run-{i}", started(f"wf-{i}", task_queue=QUEUE))])
    _damage_table(path, "workflow_tasks")  # the first thing a worker reads
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT),
                                                        os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([*_replay_command(), "worker", "fixtures.workload.samples",
                           "--task-queue", QUEUE, "--db", str(path)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: worker stopped: [RPL-S08] {path}: the store file is "
                               "corrupt: SQLite reports 'database disk image is malformed'; "
                               "PRAGMA quick_check found: ")
    assert "On tree page " in lines[0]  # what quick_check found, in the message
    assert "restore the file from a backup" in lines[0]
    assert "not a replay store" not in lines[0]


async def test_an_embedded_worker_whose_store_is_gone_says_so_and_stops(
        tmp_path: Path) -> None:
    client = Client(SqliteStore(tmp_path / "gone.db"))
    with log_records("replay.worker") as logs, \
            pytest.raises(StoreError, match="the store is closed"):
        async with running(client):
            client.store.close()  # a fault that cannot clear by waiting
            await wait_until(lambda: bool(logs.messages(logging.ERROR)), 30)
    [line] = logs.messages(logging.ERROR)
    assert "stopped: [RPL-S01]" in line and "the store is closed" in line
    assert not logs.messages(logging.WARNING)


class _RetireFails(MemoryStore):
    """A store that is unavailable just as a worker retires its query polling."""

    def retire_query_poller(self, worker: str) -> None:
        raise StoreUnavailableError("the store went away", reason="test")


async def test_a_store_fault_while_stopping_does_not_fail_the_stop() -> None:
    client = Client(_RetireFails())
    worker = Worker(client, task_queue=QUEUE, workflows=[StepsWorkflow])
    running = asyncio.create_task(worker.run())
    await wait_until(lambda: bool(client.store.registered_workflows(QUEUE)))
    await worker.shutdown()
    await bounded(running)  # returns: the poller expires by silence instead
