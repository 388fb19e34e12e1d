"""Familiar-API parity, small items: error categories, info() facts, handler lookups,
timeouts and keywords accepted for familiar code."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from replay.client import Client
from replay.exceptions import ApplicationError, ApplicationErrorCategory
from replay.history import ActivityFailed, Failure, event_to_data
from replay.testing import WorkflowEnvironment
from replay.worker import Replayer, Worker
from tests.replay.workers.harness import bounded
from tests.replay.workflows.parity import (
    BenignWorkflow,
    HandlerLookupWorkflow,
    InfoWorkflow,
    declines,
    echo,
)

Q = "parity"


async def _client(tmp_path: Path) -> Client:
    return await Client.connect(f"sqlite:///{tmp_path / 'replay.db'}")


async def test_a_benign_error_keeps_its_category_and_is_not_logged_as_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    client = await _client(tmp_path)
    caplog.set_level(logging.DEBUG, logger="replay.worker")
    async with Worker(client, task_queue=Q, workflows=[BenignWorkflow],
                      activities=[declines]):
        handle = await client.start_workflow(BenignWorkflow.run, id="benign", task_queue=Q)
        assert await bounded(handle.result()) == {"type": "Declined", "category": "BENIGN"}
    retries = [r for r in caplog.records if "failed on attempt" in r.getMessage()]
    assert retries and all(r.levelno == logging.DEBUG for r in retries)
    [failed] = [e for e in client.store.read(handle.result_run_id or "")
                if isinstance(e, ActivityFailed)]
    assert failed.failure.category == "BENIGN"
    client.close()


def test_the_category_is_recorded_only_when_set() -> None:
    assert ApplicationError("x").category is ApplicationErrorCategory.UNSPECIFIED
    plain = Failure(message="x", type="ApplicationError")
    event = ActivityFailed(event_id=3, time=datetime(2030, 1, 1, tzinfo=UTC),
                           scheduled_event_id=2, failure=plain)
    assert "category" not in event_to_data(event)["failure"]  # old histories unchanged


async def test_info_reports_history_length_size_and_timeouts_the_same_on_replay(
        tmp_path: Path) -> None:
    client = await _client(tmp_path)
    async with Worker(client, task_queue=Q, workflows=[InfoWorkflow], activities=[echo]):
        handle = await client.start_workflow(InfoWorkflow.run, id="info", task_queue=Q,
                                             execution_timeout=timedelta(hours=1),
                                             task_timeout=timedelta(seconds=5))
        result = await bounded(handle.result())
    assert result["first"][0] == 1 and result["first"][1] > 0
    assert result["later"][0] > result["first"][0] and result["later"][1] > result["first"][1]
    assert result["suggested"] is False
    assert result["execution_timeout"] == 3600.0 and result["run_timeout"] is None
    history = client.store.history(handle.result_run_id or "")
    replayed = await Replayer(workflows=[InfoWorkflow]).replay_workflow(history)
    assert replayed.replay_failure is None
    assert replayed.result == client.converter.to_payload(result)  # the same numbers
    client.close()


async def test_handler_lookups_return_the_registered_handlers(tmp_path: Path) -> None:
    client = await _client(tmp_path)
    async with Worker(client, task_queue=Q, workflows=[HandlerLookupWorkflow]):
        result = await bounded(client.execute_workflow(HandlerLookupWorkflow.run, id="look",
                                                       task_queue=Q))
    assert result == {"signal_bound": True, "extra": True, "query": True, "update": True,
                      "missing": True, "dynamic": True}
    client.close()


async def test_rpc_keywords_are_accepted_and_type_checked(tmp_path: Path) -> None:
    client = await _client(tmp_path)
    async with Worker(client, task_queue=Q, workflows=[HandlerLookupWorkflow]):
        handle = await client.start_workflow(
            HandlerLookupWorkflow.run, id="rpc", task_queue=Q,
            rpc_metadata={"authorization": "x"}, rpc_timeout=timedelta(seconds=3))
        await bounded(handle.result())
        await handle.describe(rpc_timeout=timedelta(seconds=1), rpc_metadata={"k": b"v"})
        with pytest.raises(TypeError, match="rpc_timeout"):
            await handle.describe(rpc_timeout=3)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="rpc_metadata"):
            await handle.signal("ping", rpc_metadata={"k": 1})  # type: ignore[dict-item]
    client.close()


async def test_the_environment_tells_its_current_time() -> None:
    async with await WorkflowEnvironment.start_time_skipping() as env:
        assert await env.get_current_time() == env.now()
