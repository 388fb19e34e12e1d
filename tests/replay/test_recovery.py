"""Recovering from dead workers at once, and workflow execution timeouts."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from fixtures.workload import samples
from fixtures.workload.procs import kill, start_worker
from replay._worker._owners import is_dead_local, local_identity
from replay.client import WorkflowFailureError
from replay.exceptions import TimeoutError as WorkflowTimeout
from tests.replay.workers.harness import QUEUE, bounded, running, sqlite_client, wait_until


def test_identities_tell_dead_local_workers_from_everything_else() -> None:
    me = local_identity()
    assert not is_dead_local(me)
    host, ns, _, nonce = me.split(":")
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = f"{host}:{ns}:{done.stdout.strip()}:{nonce}"
    assert is_dead_local(dead)
    assert not is_dead_local(f"{host}:{ns}:{os.getppid()}:{nonce}")  # alive
    assert not is_dead_local(f"elsewhere:{ns}:{done.stdout.strip()}:{nonce}")
    assert not is_dead_local(f"{host}:other-namespace:{done.stdout.strip()}:{nonce}")
    assert not is_dead_local("not an identity")


async def test_a_killed_workers_leases_are_freed_when_a_new_worker_starts(
        tmp_path: Path) -> None:
    db = tmp_path / "recover.db"
    client = await sqlite_client(tmp_path, "recover.db")
    try:
        # Long leases: without recovery the run would wait 30 s for the activity lease.
        proc = start_worker(db, lease=60.0)
        handle = await client.start_workflow(samples.StepsWorkflow.run, args=[40, 30.0],
                                             id="steps", task_queue=QUEUE)
        store = client.store
        await wait_until(lambda: bool(store.lease_owners()), 120)
        kill(proc)
        owners = store.lease_owners()
        assert owners and all(is_dead_local(o) for o in owners)
        async with running(client) as worker:
            assert worker.identity not in owners
            assert await bounded(handle.result(), 120) == sum(i * i for i in range(40))
        assert not store.lease_owners()
    finally:
        client.close()


async def test_a_run_past_its_execution_timeout_times_out(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    try:
        async with running(client):
            handle = await client.start_workflow(
                samples.SleepWorkflow.run, 60.0, id="sleepy", task_queue=QUEUE,
                execution_timeout=timedelta(milliseconds=300))
            with pytest.raises(WorkflowFailureError) as info:
                await bounded(handle.result(), 10)
        assert info.value.status == "timed_out"
        assert isinstance(info.value.cause, WorkflowTimeout)
        history = await handle.fetch_history()
        assert type(history.events[-1]).__name__ == "WorkflowTimedOut"
    finally:
        client.close()
