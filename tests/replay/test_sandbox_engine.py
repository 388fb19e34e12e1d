"""The determinism guard switched on by the engine: driver, replayer and worker."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from replay._core._clock import ManualClock
from replay._replay._sandbox_hooks import guard_for
from replay.client import Client
from replay.exceptions import ReplayError, RestrictedCallError, WorkflowTaskError
from replay.history import SqliteStore
from replay.testing import WorkflowDriver
from replay.worker import Replayer, Worker
from tests.replay.workers.harness import wait_until
from tests.replay.workflows import sandboxed as wf

HERE = Path(wf.__file__).name


def _drive(cls: type, mode: str = "strict") -> WorkflowDriver:
    guard = guard_for(mode)
    guard.prepare([cls])
    driver = WorkflowDriver(cls, guard=guard)
    driver.run_timers()
    return driver


def test_clock_read_fails_the_task_naming_call_line_and_replacement() -> None:
    with pytest.raises(WorkflowTaskError) as info:
        _drive(wf.ReadsClock)
    cause = info.value.cause
    assert isinstance(cause, RestrictedCallError) and isinstance(cause, ReplayError)
    text = str(cause)
    assert text.startswith("[RPL-SB01] workflow 'ReadsClock' (run run-1) called time.time()")
    assert f"{HERE}:" in text and "Use workflow.now() / workflow.time() instead" in text
    assert "[RPL-WT01]" in str(info.value)


@pytest.mark.parametrize(
    ("cls", "code", "call"),
    [
        (wf.ReadsDatetimeNow, "RPL-SB01", "datetime.datetime.now"),
        (wf.ReadsEnvironment, "RPL-SB06", "os.environ"),
        (wf.DrawsUuid, "RPL-SB04", "uuid.uuid4"),
    ],
)
def test_each_kind_of_mistake_is_caught_in_a_workflow(cls: type, code: str, call: str) -> None:
    with pytest.raises(WorkflowTaskError) as info:
        _drive(cls)
    cause = info.value.cause
    assert isinstance(cause, RestrictedCallError)
    assert cause.code == code and cause.call == call


def test_a_caught_violation_still_fails_the_task() -> None:
    with pytest.raises(WorkflowTaskError) as info:
        _drive(wf.SwallowsViolation)
    assert isinstance(info.value.cause, RestrictedCallError)


def test_allowed_libraries_run_clean_under_the_guard(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    driver = _drive(wf.UsesAllowedLibraries)
    assert driver.instance.closed
    assert driver.instance.result_payload == "red:True:4:1.5:2026"
    assert "logging works inside workflow code" in caplog.text


def test_warn_mode_lets_the_call_through_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    driver = _drive(wf.ReadsClock, mode="warn")
    assert driver.instance.closed
    assert "[RPL-SB01]" in caplog.text


def test_a_workflow_can_opt_out() -> None:
    driver = _drive(wf.OptedOut)
    assert driver.instance.result_payload is True


async def test_replayer_runs_with_the_guard_on() -> None:
    unguarded = WorkflowDriver(wf.ReadsClock)
    unguarded.step()
    recorded = unguarded.history()
    with pytest.raises(WorkflowTaskError, match=r"RPL-SB01"):
        await Replayer(workflows=[wf.ReadsClock]).replay_workflow(recorded)
    result = await Replayer(workflows=[wf.ReadsClock], sandbox="off").replay_workflow(recorded)
    assert result.status == "completed"


async def test_worker_keeps_the_run_open_and_describe_names_the_violation(
        tmp_path: Path) -> None:
    clock = ManualClock()  # the retry waits for the clock, not for real time
    client = Client(SqliteStore(tmp_path / "sb.db"), clock=clock)
    try:
        async with Worker(client, task_queue="q", workflows=[wf.ReadsClock],
                          workflow_task_lease=timedelta(seconds=0.2)) as worker:
            handle = await client.start_workflow(wf.ReadsClock.run, id="clock",
                                                 task_queue="q")
            run_id = str(handle.result_run_id)
            # recorded in the store in the same step that notes it here
            await wait_until(lambda: worker.task_failure(run_id) is not None, timeout=120)
        desc = await handle.describe()
        assert desc.status.value == "running"
        assert desc.last_task_failure is not None and "[RPL-SB01]" in desc.last_task_failure
        history = await handle.fetch_history()
        # the failure is recorded, nothing else: no command, no completed task
        assert [type(e).__name__ for e in history] == ["WorkflowStarted", "WorkflowTaskFailed"]
        # retried at its retry time (1 s later), here by a worker that lets the call pass
        clock.advance(timedelta(seconds=2))
        async with Worker(client, task_queue="q", workflows=[wf.ReadsClock], sandbox="off"):
            value = await asyncio.wait_for(handle.result(), 120)
        assert value > 0
        assert (await handle.describe()).task_failure is None
    finally:
        client.close()
