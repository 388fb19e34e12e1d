"""Signal, query and update handlers registered while the workflow runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay._core._definition import WorkflowDefinition
from replay.client import WorkflowQueryFailedError, WorkflowUpdateFailedError
from replay.worker import Replayer, Worker
from tests.replay.workers.harness import bounded, sqlite_client
from tests.replay.workflows.runtime_handlers import RuntimeHandlers


def test_the_definition_knows_which_kinds_are_registered_at_run_time() -> None:
    assert WorkflowDefinition.of(RuntimeHandlers).runtime_handlers == {
        "signal", "query", "update"}


async def test_handlers_registered_at_run_time_serve_clients(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    try:
        async with Worker(client, task_queue="rt", workflows=[RuntimeHandlers]):
            handle = await client.start_workflow(RuntimeHandlers.run, id="rt", task_queue="rt")
            with pytest.raises(WorkflowUpdateFailedError, match="nothing to finish yet"):
                await bounded(handle.execute_update("finish", "early"))
            await handle.signal("add", "apple")  # a name only registered at run time
            await handle.signal("add", "pear")
            assert await bounded(handle.query("count")) == 2
            assert await bounded(handle.query("anything", 1)) == "anything:1"
            assert await bounded(handle.execute_update("finish", "done")) == 3
            assert await bounded(handle.result()) == ["apple", "pear", "done"]
            # the worker answers the query (its handler's check fails there)
            with pytest.raises(WorkflowQueryFailedError,
                               match=r"query 'count' takes 0 argument\(s\), got 2"):
                await handle.query("count", args=[1, 2])
        history = await handle.fetch_history()
        names = [e.name for e in history if type(e).__name__ == "UpdateAccepted"]  # type: ignore[attr-defined]
        assert names == ["finish"]  # the rejected attempt left no trace
        result = await Replayer(workflows=[RuntimeHandlers]).replay_workflow(history)
        assert result.result == ["apple", "pear", "done"]
    finally:
        client.close()
