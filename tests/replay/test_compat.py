"""Spellings of the familiar SDK that ported samples use."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from replay._core._definition import WorkflowDefinition
from replay.worker import Worker
from tests.replay.workers.harness import bounded, sqlite_client
from tests.replay.workflows.compat import UnsandboxedMemo, log_and_echo


def test_sandboxed_false_means_sandbox_off() -> None:
    assert WorkflowDefinition.of(UnsandboxedMemo).sandbox_mode == "off"


async def test_memo_and_activity_logger(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                        ) -> None:
    caplog.set_level(logging.INFO, logger="replay.activity")
    client = await sqlite_client(tmp_path)
    try:
        async with Worker(client, task_queue="c", workflows=[UnsandboxedMemo],
                          activities=[log_and_echo]):
            handle = await client.start_workflow(UnsandboxedMemo.run, id="memo",
                                                 task_queue="c", memo={"owner": "ada"})
            assert await bounded(handle.result()) == [True, {"owner": "ada"}, "ada",
                                                      "default", "hi"]
        [record] = [r for r in caplog.records if r.name == "replay.activity"]
        assert record.getMessage().startswith("echoing hi ({'activity_id': ")
        assert record.activity_type == "log_and_echo"  # type: ignore[attr-defined]
        assert record.workflow_id == "memo"  # type: ignore[attr-defined]
    finally:
        client.close()
