"""Queries are answered by the code the run runs on: a worker of its task queue.

A client importing an older version of a workflow module (a rolling upgrade)
still gets the worker's answer; local replay answers only when no worker does
and the client has the code, and the handle says which answered.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from replay.client import WorkflowHandle, WorkflowQueryFailedError
from replay.exceptions import NondeterminismError
from replay.history import MemoryStore
from replay.testing import WorkflowEnvironment
from replay.worker import Replayer

from .workflows import rollout_v1 as v1
from .workflows import rollout_v2 as v2

QUEUE = "rollout"


async def _until_audited(handle: WorkflowHandle[Any, Any]) -> None:
    """Wait (on the history, not the clock) for the activation after the audit timer."""
    fired = False
    async for event in handle.fetch_history_events(wait_new_event=True):
        kind = type(event).__name__
        fired = fired or kind == "TimerFired"
        if fired and kind == "WorkflowTaskCompleted":
            return
    raise AssertionError("the run ended before its audit step")


async def _started(env: WorkflowEnvironment) -> WorkflowHandle[Any, Any]:
    h = await env.client.start_workflow(v2.Rollout.run, id="rollout-1", task_queue=QUEUE)
    await _until_audited(h)
    return h


async def test_a_client_with_older_code_gets_the_workers_answer() -> None:
    async with await WorkflowEnvironment.start_time_skipping() as env:
        async with env.worker(task_queue=QUEUE, workflows=[v2.Rollout]) as worker:
            h = await _started(env)
            # the old class cannot replay this run: a local answer would be an error
            with pytest.raises(NondeterminismError):
                Replayer(workflows=[v1.Rollout]).replay_sync(await h.fetch_history())
            assert await h.query(v1.Rollout.progress) == ["audited", "started"]
            assert h.last_query_source == f"worker {worker.identity}"
            with pytest.raises(WorkflowQueryFailedError, match="no answer"):
                await h.query("explode")
            await h.signal(v1.Rollout.finish)
            assert await h.result() == ["audited", "started"]
            # a closed run is answered too (the worker replays it if it no longer holds it)
            assert await h.query(v1.Rollout.progress) == ["audited", "started"]
            assert h.last_query_source == f"worker {worker.identity}"
        history = await h.fetch_history()
    assert "Query" not in " ".join(type(e).__name__ for e in history)  # never recorded
    assert isinstance(env.store, MemoryStore)


async def test_without_a_worker_the_client_replays_with_its_own_code(
        caplog: pytest.LogCaptureFixture) -> None:
    async with await WorkflowEnvironment.start_time_skipping() as env:
        async with env.worker(task_queue=QUEUE, workflows=[v2.Rollout]):
            h = await _started(env)
        # the worker has stopped: no one polls the task queue
        with caplog.at_level(logging.INFO, logger="replay.client"):
            assert await h.query(v2.Rollout.progress) == ["audited", "started"]
    assert h.last_query_source == "local replay"
    assert "answered by local replay: no worker of task queue 'rollout' is running" \
        in caplog.text


async def test_a_worker_that_does_not_answer_in_time_leaves_it_to_local_replay(
        caplog: pytest.LogCaptureFixture) -> None:
    async with await WorkflowEnvironment.start_time_skipping() as env:
        async with env.worker(task_queue=QUEUE, workflows=[v2.Rollout]):
            h = await _started(env)
        store = env.store
        assert isinstance(store, MemoryStore)
        store.pending_queries(QUEUE, "silent-worker")  # polls, but will never answer
        with caplog.at_level(logging.INFO, logger="replay.client"):
            answer = await h.query(v2.Rollout.progress, rpc_timeout=timedelta(seconds=0.2))
    assert answer == ["audited", "started"]
    assert h.last_query_source == "local replay"
    assert "no worker of task queue 'rollout' answered within 0.2s" in caplog.text


async def test_without_a_worker_or_the_code_the_error_names_the_task_queue() -> None:
    async with await WorkflowEnvironment.start_time_skipping() as env:
        async with env.worker(task_queue=QUEUE, workflows=[v2.Rollout]):
            h = await _started(env)
        # by name: "Rollout" is declared by two classes here, so its code is not known
        with pytest.raises(WorkflowQueryFailedError) as err:
            await h.query("progress")
    message = str(err.value)
    assert "[RPL-Q03]" in message
    assert "no worker of task queue 'rollout' is running" in message
    assert "Start a worker for that task queue" in message
