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
from datetime import datetime
from pathlib import Path
from typing import cast

import psycopg
import pytest
from psycopg import sql

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


#: How long any one fact may take to become true: generous, since CI machines are shared
#: and slow; a healthy run takes a few seconds per wait.
BOUND = 300.0


async def until(fact: Callable[[], object], what: str) -> None:
    """Poll ``fact`` until it holds; fail naming ``what`` after BOUND seconds."""
    deadline = time.monotonic() + BOUND
    while not fact():
        assert time.monotonic() < deadline, f"after {BOUND:.0f} s, still not: {what}"
        await asyncio.sleep(0.01)


def server_now(url: str) -> datetime:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT clock_timestamp()").fetchone()
    assert row is not None
    return cast(datetime, row[0])


def last_beat(url: str, schema: str, identity: str) -> datetime | None:
    """When ``identity`` last recorded its heartbeat (by the server's clock), if it has."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            sql.SQL("SELECT last_beat FROM {}.workers WHERE identity = %s").format(
                sql.Identifier(schema)), (identity,)).fetchone()
    return None if row is None else cast(datetime, row[0])


@pytest.mark.slow
def test_runs_finish_on_the_surviving_host(postgres_url: str,
                                           postgres_schemas: Callable[[], str],
                                           hosts: Callable[[str, str], subprocess.Popen[bytes]]
                                           ) -> None:
    schema = postgres_schemas()
    url = f"{postgres_url}?schema={schema}"
    assert url.startswith("postgresql://postgres@127.0.0.1:")  # TCP, as from other hosts
    host_a, host_b = hosts(url, "host-a/worker-1"), hosts(url, "host-b/worker-1")

    async def scenario() -> None:
        client = await Client.connect(url)
        store = client.store
        handles = [await client.start_workflow(StepsWorkflow.run, STEPS, id=f"run-{i}",
                                               task_queue="steps") for i in range(RUNS)]
        await until(lambda: {"host-a/worker-1", "host-b/worker-1"} <= store.lease_owners(),
                    "hosts A and B both hold leases")
        host_a.kill()  # SIGKILL: host A is gone
        os.kill(host_b.pid, signal.SIGSTOP)  # host B is cut off, holding what it holds
        host_a.wait(10)
        hosts(url, "host-c/worker-1")
        results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)),
                                         BOUND)
        assert results == [sum(i * i for i in range(STEPS))] * RUNS
        histories = {h.id: store.read(h.result_run_id or "") for h in handles}
        identities = set().union(*(_check(events) for events in histories.values()))
        assert "host-c/worker-1" in identities
        # Host B comes back and commits what it had. Its heartbeat is recorded once per
        # polling step: two beats after it resumed mean a whole step ran after the one
        # it was stopped in, so what it held then has been offered to the store.
        resumed = server_now(postgres_url)
        os.kill(host_b.pid, signal.SIGCONT)
        await until(lambda: (last_beat(postgres_url, schema, "host-b/worker-1")
                             or resumed) > resumed, "host B beat after it resumed")
        first = last_beat(postgres_url, schema, "host-b/worker-1")
        assert first is not None
        await until(lambda: (last_beat(postgres_url, schema, "host-b/worker-1")
                             or first) > first, "host B beat twice after it resumed")
        assert host_b.poll() is None  # it lives on: a refused append is not fatal
        assert {h.id: store.read(h.result_run_id or "") for h in handles} == histories
        for h in handles:
            store.history(h.result_run_id or "")  # validates
        client.close()

    asyncio.run(scenario())
