"""Failed workflow tasks: recorded, retried with backoff, shown everywhere; no run stops a worker.

Poison runs are written straight into the store, as a client that does not
import the workflow code would start them (such a client cannot check the
arguments). Time is a ManualClock; tests wait on facts (a run's result, its
attempt count in the runs index), never on wall time.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import replay
from replay._cli._main import main
from replay.client import PendingActivityState, WorkflowExecutionStatus, WorkflowHandle
from replay.exceptions import NondeterminismError, WorkflowTaskError
from replay.history import (
    History,
    Start,
    Store,
    WorkflowFailed,
    WorkflowStarted,
    WorkflowTaskFailed,
)
from replay.testing import WorkflowEnvironment
from replay.worker import Replayer
from tests.replay.workers.harness import wait_until
from tests.replay.workflows import poison, poison_fixed

QUEUE = "poison"
HEALTHY = 50
POISON_IDS = ("missing-args", "undecodable-args", "unknown-type", "unencodable-can",
              "raising-init")
WORKFLOWS = "tests.replay.workflows.poison"
ENGINE = str(Path(replay.__file__).parent)


def start_raw(env: WorkflowEnvironment, workflow_type: str, workflow_id: str,
              *args: Any) -> WorkflowHandle[Any, Any]:
    """Start a run without the client's checks (a client that lacks the code)."""
    env.store.commit([Start(f"{workflow_id}-run", WorkflowStarted(
        event_id=1, time=env.now(), workflow_type=workflow_type, workflow_id=workflow_id,
        task_queue=QUEUE, args=list(args), first_execution_run_id=f"{workflow_id}-run"))])
    return env.client.get_workflow_handle(workflow_id)


def start_poison(env: WorkflowEnvironment) -> dict[str, WorkflowHandle[Any, Any]]:
    return {
        "missing-args": start_raw(env, "Typed", "missing-args"),
        "undecodable-args": start_raw(env, "Ordered", "undecodable-args", "not an order"),
        "unknown-type": start_raw(env, "NoSuchWorkflow", "unknown-type"),
        "unencodable-can": start_raw(env, "Relay", "unencodable-can", 1),
        "raising-init": start_raw(env, "Fragile", "raising-init", 3),
    }


def failing(store: Store) -> set[str]:
    return {r.workflow_id for r in store.list_runs(task_failing=True)}


def cli(db: Path, *args: str) -> Any:
    return CliRunner().invoke(main, [*args, "--db", str(db)], catch_exceptions=False)


# --- the poison pill ---------------------------------------------------------------------------


async def _poison_then_fix(db: Path) -> None:
    async with await WorkflowEnvironment.start_time_skipping(path=db) as env:
        bad = start_poison(env)
        healthy = [await env.client.start_workflow(poison.Typed.run, f"n{i}", id=f"ok-{i}",
                                                   task_queue=QUEUE) for i in range(HEALTHY)]
        async with env.worker(task_queue=QUEUE, workflows=list(poison.POISON)):
            results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in healthy)),
                                             30)
            assert results == [f"hello n{i}" for i in range(HEALTHY)]
            await wait_until(lambda: failing(env.store) == set(POISON_IDS))
        causes = {}
        for name, handle in bad.items():
            desc = await handle.describe()
            assert desc.status is WorkflowExecutionStatus.RUNNING
            assert desc.task_failure is not None and desc.task_failure.attempt >= 1
            assert desc.last_task_failure == str(desc.task_failure)
            causes[name] = (desc.task_failure.type, desc.task_failure.code)
            history = await handle.fetch_history()
            kinds = [type(e).__name__ for e in history]
            assert kinds == ["WorkflowStarted", "WorkflowTaskFailed"], name  # one per cause
            recorded = history.events[1]
            assert isinstance(recorded, WorkflowTaskFailed)
            assert recorded.attempt == 1 and recorded.next_retry_time == (
                recorded.time + timedelta(seconds=1))
        assert causes == {
            "missing-args": ("TypeError", ""),
            "undecodable-args": ("PayloadError", "RPL-P01"),
            "unknown-type": ("WorkflowDefinitionError", "RPL-D01"),
            "unencodable-can": ("PayloadError", "RPL-P01"),
            "raising-init": ("RuntimeError", ""),
        }
        init = await bad["raising-init"].describe()
        assert init.task_failure is not None
        assert init.task_failure.location == f"{poison.__file__}:{_line('cannot start')}"
        assert "raise RuntimeError" in init.task_failure.stack_trace
        assert ENGINE not in init.task_failure.stack_trace  # no engine frames

        # a new deploy: fixed code for three of them resumes those runs where they were
        async with env.worker(task_queue=QUEUE, workflows=list(poison_fixed.FIXED)):
            assert await asyncio.wait_for(bad["raising-init"].result(), 30) == 3
            assert await asyncio.wait_for(bad["undecodable-args"].result(), 30) == (
                "got 'not an order'")
            assert await asyncio.wait_for(bad["unencodable-can"].result(), 30) == "relayed 0"
        assert failing(env.store) == {"missing-args", "unknown-type"}
        resumed = await bad["raising-init"].fetch_history()
        assert [type(e).__name__ for e in resumed][:2] == ["WorkflowStarted",
                                                            "WorkflowTaskFailed"]
        assert (await bad["raising-init"].describe()).task_failure is None


def _line(text: str) -> int:
    lines = Path(poison.__file__).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def test_poison_runs_fail_their_tasks_and_the_worker_finishes_the_rest(tmp_path: Path) -> None:
    db = tmp_path / "replay.db"
    asyncio.run(_poison_then_fix(db))

    listed = cli(db, "list", "--failing")
    assert listed.exit_code == 0
    assert {line.split()[0] for line in listed.output.splitlines()[1:]} == {
        "missing-args", "unknown-type"}
    assert "running (task failing, attempt" in listed.output
    everything = cli(db, "list", "--limit", "100")
    assert everything.output.count("(task failing") == 2

    shown = cli(db, "show", "missing-args")
    assert shown.exit_code == 0
    assert ("WorkflowTaskFailed  TASK FAILED (attempt 1, retry at" in shown.output
            and "TypeError: Typed.run() missing 1 required positional argument" in shown.output)
    assert "the run's workflow task is failing (TASK FAILED at event 2" in shown.output
    assert "is failing" not in cli(db, "show", "raising-init").output  # fixed and done

    described = cli(db, "describe", "unknown-type")
    assert described.exit_code == 0
    assert "task failing" in described.output
    assert "WorkflowDefinitionError: [RPL-D01] unknown workflow type 'NoSuchWorkflow'" in (
        described.output)
    data = cli(db, "describe", "missing-args", "--json").output
    assert '"task_failure": {"type": "TypeError"' in data and '"attempt": ' in data


def test_start_wait_says_the_task_is_failing(tmp_path: Path) -> None:
    db = tmp_path / "replay.db"

    async def serve() -> str:
        env = await WorkflowEnvironment.start_time_skipping(path=db)
        async with env, env.worker(task_queue=QUEUE, workflows=list(poison.POISON)):
            result = await asyncio.to_thread(
                cli, db, "start", "Fragile", "--id", "fragile", "-q", QUEUE, "--arg", "7",
                "--wait", "--timeout", "30")
        assert result.exit_code == 1
        return str(result.output)

    output = asyncio.run(serve())
    assert "error: the run's workflow task is failing: RuntimeError: cannot start with " \
           "limit 7 at " in output
    assert "is a worker running" not in output


# --- backoff -----------------------------------------------------------------------------------


async def test_retries_back_off_doubling_to_a_minute() -> None:
    async with await WorkflowEnvironment.start_time_skipping() as env:
        with env.auto_time_skipping_disabled():
            handle = start_raw(env, "Fragile", "fragile", 1)
            run_id = "fragile-run"
            async with env.worker(task_queue=QUEUE, workflows=list(poison.POISON)):
                await wait_until(lambda: _attempt(env.store, run_id) == 1)
                delays = []
                for attempt in range(1, 10):
                    run = env.store.get_run(run_id)
                    assert run is not None and run.task_attempt == attempt
                    assert run.task_retry_at is not None
                    delay = run.task_retry_at - env.now()
                    delays.append(delay.total_seconds())
                    await env.sleep(delay)  # the clock reaches the retry: it fails again
                    await wait_until(lambda a=attempt: _attempt(env.store, run_id) == a + 1)
        assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60]
        history = await handle.fetch_history()
        assert [type(e).__name__ for e in history] == ["WorkflowStarted",
                                                       "WorkflowTaskFailed"]
        desc = await handle.describe()
        assert desc.task_failure is not None and desc.task_failure.attempt == 10


def _attempt(store: Store, run_id: str) -> int:
    run = store.get_run(run_id)
    return run.task_attempt if run is not None else 0


# --- activities --------------------------------------------------------------------------------


async def test_describe_shows_a_retrying_activity_and_failed_attempts_log_warnings(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="replay.worker")
    async with await WorkflowEnvironment.start_time_skipping() as env:
        with env.auto_time_skipping_disabled():
            async with env.worker(task_queue=QUEUE, workflows=[poison.Retried],
                                  activities=[poison.flaky_charge]):
                handle = await env.client.start_workflow(poison.Retried.run, 5, id="pay",
                                                         task_queue=QUEUE)

                async def backing_off(attempt: int) -> bool:
                    pending = (await handle.describe()).pending_activities
                    return (len(pending) == 1 and pending[0].attempt == attempt
                            and pending[0].state is PendingActivityState.BACKING_OFF)

                for attempt in (1, 2):
                    for _ in range(1000):
                        if await backing_off(attempt):
                            break
                        await asyncio.sleep(0.005)
                    [act] = (await handle.describe()).pending_activities
                    assert (act.activity_type, act.activity_id, act.attempt) == (
                        "flaky_charge", "1", attempt)
                    assert act.last_failure is not None
                    assert act.last_failure.message == f"card service down (attempt {attempt})"
                    assert act.last_failure.type == "Unavailable"
                    assert act.next_attempt_schedule_time == env.now() + timedelta(seconds=10)
                    assert act.last_worker_identity is None
                    await env.sleep(10)
                assert await asyncio.wait_for(handle.result(), 10) == 5
                assert (await handle.describe()).pending_activities == []
    warnings = [r for r in caplog.records
                if r.levelno == logging.WARNING and "flaky_charge" in r.getMessage()]
    assert [r.getMessage().split(" failed on attempt ")[1][:1] for r in warnings] == ["1", "2"]
    for record in warnings:
        message = record.getMessage()
        assert "activity id 1" in message and "workflow 'pay'" in message
        assert (handle.result_run_id or "") in message


# --- failures instead of task failures ---------------------------------------------------------


async def test_listed_exception_types_fail_the_run_instead() -> None:
    async with await WorkflowEnvironment.start_time_skipping() as env:
        typed = start_raw(env, "Typed", "typed")
        declared = start_raw(env, "FragileDeclared", "declared", 2)
        async with env.worker(task_queue=QUEUE, workflows=[*poison.POISON,
                                                           poison.FragileDeclared],
                              workflow_failure_exception_types=[TypeError]):
            for handle, kind in ((typed, "TypeError"), (declared, "RuntimeError")):
                history = await asyncio.wait_for(_closed(handle), 10)
                last = history.events[-1]
                assert isinstance(last, WorkflowFailed) and last.failure.type == kind
        assert failing(env.store) == set()


async def test_nondeterminism_can_fail_the_run() -> None:
    async with await WorkflowEnvironment.start_time_skipping() as env:
        with env.auto_time_skipping_disabled():
            async with env.worker(task_queue=QUEUE, workflows=[poison.Diverging]):
                handle = await env.client.start_workflow(poison.Diverging.run, id="diverging",
                                                         task_queue=QUEUE)
                await wait_until(lambda: env.store.next_timer_at() is not None)
            # deployed: code that issues an activity where the history has a timer
            async with env.worker(task_queue=QUEUE, workflows=[poison_fixed.Diverging],
                                  workflow_failure_exception_types=[NondeterminismError]):
                await env.sleep(10)  # the timer fires: the run is replayed, and diverges
                history = await asyncio.wait_for(_closed(handle), 10)
    last = history.events[-1]
    assert isinstance(last, WorkflowFailed) and last.failure.type == "NondeterminismError"
    assert "[RPL-ND01]" in last.failure.message


async def _closed(handle: WorkflowHandle[Any, Any]) -> History:
    while (await handle.describe()).status is WorkflowExecutionStatus.RUNNING:
        await asyncio.sleep(0.005)
    return await handle.fetch_history()


# --- replaying such histories ------------------------------------------------------------------


def test_the_replayer_reports_a_failing_task_with_its_cause(tmp_path: Path) -> None:
    db = tmp_path / "replay.db"

    async def record() -> History:
        async with await WorkflowEnvironment.start_time_skipping(path=db) as env:
            handle = start_raw(env, "Fragile", "fragile", 4)
            async with env.worker(task_queue=QUEUE, workflows=list(poison.POISON)):
                await wait_until(lambda: failing(env.store) == {"fragile"})
            return await handle.fetch_history()

    history = asyncio.run(record())
    result = Replayer(workflows=list(poison.POISON)).replay_sync(
        history, raise_on_replay_failure=False)
    assert isinstance(result.replay_failure, WorkflowTaskError)
    assert isinstance(result.replay_failure.cause, RuntimeError)
    assert result.status == "replay_failed"
    assert result.task_failure is not None and result.task_failure.failure.type == "RuntimeError"
    fixed = Replayer(workflows=list(poison_fixed.FIXED)).replay_sync(history)
    assert fixed.replay_failure is None and fixed.status == "running"
    assert fixed.task_failure is not None  # what the history recorded stays visible

    path = tmp_path / "fragile.json"
    history.save(path)
    checked = CliRunner().invoke(main, ["check", str(path), "-w", WORKFLOWS],
                                 catch_exceptions=False)
    assert checked.exit_code == 1
    assert "FAILED" in checked.output and "RuntimeError: cannot start with limit 4" in (
        checked.output)
    assert "Traceback" not in checked.output
    debugged = CliRunner().invoke(main, ["debug", str(path), "-w", WORKFLOWS],
                                  input="continue\nquit\n", catch_exceptions=False)
    assert debugged.exit_code == 0 and "Traceback" not in debugged.output
    assert "TASK FAILED (attempt 1" in debugged.output
    assert "RuntimeError: cannot start with limit 4" in debugged.output
