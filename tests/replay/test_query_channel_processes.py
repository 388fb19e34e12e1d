"""Queries over SQLite and PostgreSQL are answered by a worker process running the run's code.

The regression test of the rolling upgrade: the client imports an older version
of the workflow module (``answer_v1``) than the worker process runs
(``answer_v2``); the query's answer is the worker's, and only once no worker is
left does the client's own replay answer, with its own (older) code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from fixtures.workload.procs import ROOT, kill
from replay.client import Client, WorkflowHandle

from .workflows import answer_v1

QUEUE = "ledger"


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'replay.db'}"
    url: str = request.getfixturevalue("postgres_url")
    schemas: Callable[[], str] = request.getfixturevalue("postgres_schemas")
    return f"{url}?schema={schemas()}"


@pytest.fixture
def worker_process(target: str) -> Iterator[subprocess.Popen[bytes]]:
    """A worker process of task queue ``ledger`` running ``answer_v2``, once it polls."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.replay.workers.query_worker_main", target, QUEUE,
         "ledger-worker"], cwd=ROOT, env=env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == b"ready"
        yield proc
    finally:
        kill(proc)


async def _handled(handle: WorkflowHandle[Any, Any], signals: int) -> None:
    """Wait (on the history) until the worker has run the activation of ``signals`` signals."""
    seen = 0
    async for event in handle.fetch_history_events(wait_new_event=True):
        kind = type(event).__name__
        seen += kind == "SignalReceived"
        if seen == signals and kind == "WorkflowTaskCompleted":
            return
    raise AssertionError("the run ended early")


async def test_a_client_with_an_older_module_gets_the_worker_processs_answer(
        target: str, worker_process: subprocess.Popen[bytes]) -> None:
    client = await Client.connect(target)
    try:
        h = await client.start_workflow(answer_v1.Ledger.run, id="ledger-1", task_queue=QUEUE)
        await h.signal(answer_v1.Ledger.add, 5)
        await h.signal(answer_v1.Ledger.add, 7)
        await _handled(h, 2)
        assert await h.query(answer_v1.Ledger.summary) == "v2: total 12"
        assert h.last_query_source == "worker ledger-worker"
        # the worker is gone (killed: it never retired): no answer comes, so the client's
        # own, older code answers, and differently
        kill(worker_process)
        local = await h.query(answer_v1.Ledger.summary, rpc_timeout=timedelta(seconds=0.3))
        assert (local, h.last_query_source) == ("v1: 2 entries", "local replay")
        history = await h.fetch_history()
        assert not [e for e in history if "Query" in type(e).__name__]
    finally:
        client.close()
