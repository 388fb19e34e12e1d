"""Workers on several hosts share one PostgreSQL store over TCP.

Three worker processes, each with its own identity (as three hosts would run
them; their identities are not this machine's, so only heartbeats and leases
tell whether they live), work through runs of examples/steps.py. Host A's
worker is SIGKILLed and host B's is SIGSTOPped (cut off, as by a network
partition) while they hold leases: host C finds both dead by their stale
heartbeats, takes their leases over and finishes every run, with every step
completed exactly once. When host B comes back (SIGCONT) and commits what it
was doing, nothing of it is accepted: the histories stay as they were.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from examples.steps import StepsWorkflow
from replay.client import Client
from replay.history import ActivityCompleted, ActivityScheduled, Event, WorkflowTaskCompleted

ROOT = Path(__file__).resolve().parents[2]
RUNS, STEPS = 12, 8


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[Callable[[str, str], subprocess.Popen[bytes]]]:
    """Start a worker process as a host; every one is ended (and resumed) afterwards."""
    started: list[subprocess.Popen[bytes]] = []

    def start(url: str, identity: str) -> subprocess.Popen[bytes]:
        log = open(tmp_path / f"{identity.replace('/', '_')}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "examples" / "postgres_worker.py"), url, identity],
            stdout=subprocess.PIPE, stderr=log, cwd=ROOT)
        log.close()
        assert proc.stdout is not None
        assert b"ready" in proc.stdout.readline()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
            proc.wait(10)


def _check(events: list[Event]) -> set[str]:
    """Every step completed exactly once; returns the identities of the workflow tasks."""
    scheduled = [e.event_id for e in events if isinstance(e, ActivityScheduled)]
    done = collections.Counter(e.scheduled_event_id for e in events
                               if isinstance(e, ActivityCompleted))
    assert len(scheduled) == STEPS
    assert sorted(done) == scheduled and set(done.values()) == {1}
    return {e.identity for e in events if isinstance(e, WorkflowTaskCompleted)}


@pytest.mark.slow
def test_runs_finish_on_the_surviving_host(postgres_url: str,
                                           postgres_schemas: Callable[[], str],
                                           hosts: Callable[[str, str], subprocess.Popen[bytes]]
                                           ) -> None:
    url = f"{postgres_url}?schema={postgres_schemas()}"
    assert url.startswith("postgresql://postgres@127.0.0.1:")  # TCP, as from other hosts
    host_a, host_b = hosts(url, "host-a/worker-1"), hosts(url, "host-b/worker-1")

    async def scenario() -> None:
        client = await Client.connect(url)
        store = client.store
        handles = [await client.start_workflow(StepsWorkflow.run, STEPS, id=f"run-{i}",
                                               task_queue="steps") for i in range(RUNS)]
        deadline = time.monotonic() + 30
        while not {"host-a/worker-1", "host-b/worker-1"} <= store.lease_owners():
            assert time.monotonic() < deadline, store.lease_owners()
            await asyncio.sleep(0.005)
        host_a.kill()  # SIGKILL: host A is gone
        os.kill(host_b.pid, signal.SIGSTOP)  # host B is cut off, holding what it holds
        host_a.wait(10)
        hosts(url, "host-c/worker-1")
        results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 90)
        assert results == [sum(i * i for i in range(STEPS))] * RUNS
        histories = {h.id: store.read(h.result_run_id or "") for h in handles}
        identities = set().union(*(_check(events) for events in histories.values()))
        assert "host-c/worker-1" in identities
        os.kill(host_b.pid, signal.SIGCONT)  # host B comes back and commits what it had
        await asyncio.sleep(3)
        assert host_b.poll() is None  # it lives on: a refused append is not fatal
        assert {h.id: store.read(h.result_run_id or "") for h in handles} == histories
        for h in handles:
            store.history(h.result_run_id or "")  # validates
        client.close()

    asyncio.run(scenario())
