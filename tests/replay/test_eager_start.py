"""start_workflow(request_eager_start=True): a worker of this process on the run's task
queue runs the first workflow task before the start call returns; otherwise a normal
start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from replay.client import Client
from replay.history import TimerStarted, WorkflowTaskCompleted

from .workers.harness import QUEUE, bounded, running
from .workers.stores import STORE_KINDS, make_store
from .workflows.eager import Naps


@pytest.fixture(params=STORE_KINDS)
async def client(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Client]:
    c = Client(make_store(str(request.param), tmp_path, request))
    try:
        yield c
    finally:
        c.close()


async def test_the_first_task_is_committed_when_the_start_returns(client: Client) -> None:
    async with running(client, workflows=[Naps], activities=[]):
        handle = await client.start_workflow(Naps.run, 3600.0, id="n", task_queue=QUEUE,
                                             request_eager_start=True)
        run_id = handle.result_run_id
        assert run_id is not None
        kinds = [type(e) for e in client.store.read(run_id)]
        assert TimerStarted in kinds and WorkflowTaskCompleted in kinds
        await handle.terminate()


async def test_without_a_worker_for_the_queue_it_is_a_normal_start(client: Client) -> None:
    async with running(client, workflows=[Naps], activities=[], task_queue="elsewhere"):
        handle = await client.start_workflow(Naps.run, 0.01, id="n", task_queue=QUEUE,
                                             request_eager_start=True)
        run_id = handle.result_run_id
        assert run_id is not None
        assert len(client.store.read(run_id)) == 1  # just WorkflowStarted
    async with running(client, workflows=[Naps], activities=[]):
        assert await bounded(handle.result()) == "rested"


async def test_no_worker_at_all_is_a_normal_start(client: Client) -> None:
    handle = await client.start_workflow(Naps.run, 0.01, id="n", task_queue=QUEUE,
                                         request_eager_start=True)
    assert handle.result_run_id is not None
    assert len(client.store.read(handle.result_run_id)) == 1
