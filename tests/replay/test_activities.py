"""Activities: async and sync, info and heartbeats, retries, timeouts, cancellation."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from fixtures.workload import samples
from fixtures.workload.samples import ActivityWorkflow, CancelActivityWorkflow, ErrorReportWorkflow
from replay.client import WorkflowFailureError
from replay.exceptions import ActivityError, ApplicationError

from .workers.harness import QUEUE, bounded, count, kinds, running, sqlite_client, wait_until


@pytest.fixture(autouse=True)
def _reset() -> None:
    samples.reset()


async def run_activity(tmp_path: Path, name: str, args: list[Any], *, attempts: int = 0,
                       timeout: float = 5.0, activities: list[Any] | None = None
                       ) -> tuple[Any, list[str], str]:
    client = await sqlite_client(tmp_path)
    async with running(client, activities=activities):
        h = await client.start_workflow(ActivityWorkflow.run, args=[name, args, attempts,
                                                                    timeout],
                                        id=f"act-{name}", task_queue=QUEUE)
        try:
            result: Any = await bounded(h.result())
        except WorkflowFailureError as exc:
            result = exc
    assert h.result_run_id is not None
    return result, kinds(client.store.read(h.result_run_id)), h.result_run_id


async def test_async_activity(tmp_path: Path) -> None:
    result, events, _ = await run_activity(tmp_path, "echo", ["hi"])
    assert result == "hi"
    assert samples.CALLS == [("echo", "hi")]
    assert events.count("ActivityScheduled") == events.count("ActivityCompleted") == 1


async def test_sync_activity_runs_in_the_thread_pool(tmp_path: Path) -> None:
    result, _, _ = await run_activity(tmp_path, "sync_add", [2, 3])
    assert result == 5
    [(name, thread)] = samples.CALLS
    assert name == "sync_add" and thread.startswith("replay-activity")


async def test_activity_info(tmp_path: Path) -> None:
    result, _, run_id = await run_activity(tmp_path, "describe_self", [])
    assert result == {"activity_id": "1", "activity_type": "describe_self", "attempt": 1,
                      "workflow_id": "act-describe_self", "workflow_run_id": run_id,
                      "workflow_type": "ActivityWorkflow", "task_queue": QUEUE}


async def test_retry_until_success_records_one_completion_with_attempt_3(
        tmp_path: Path) -> None:
    result, events, run_id = await run_activity(tmp_path, "flaky", [2])
    # heartbeat details from the failed attempt are visible to the next one
    assert samples.CALLS == [("flaky", (1, [])), ("flaky", (2, ["progress-1"])),
                             ("flaky", (3, ["progress-2"]))]
    assert result == {"attempt": 3, "details": ["progress-2"]}
    assert events.count("ActivityCompleted") == 1
    assert "ActivityFailed" not in events
    client = await sqlite_client(tmp_path)
    [completed] = [e for e in client.store.read(run_id)
                   if type(e).__name__ == "ActivityCompleted"]
    assert completed.attempt == 3  # type: ignore[attr-defined]


async def test_non_retryable_application_error_fails_at_once(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(ErrorReportWorkflow.run, args=["refuse", [], 5, 5.0],
                                        id="refuse", task_queue=QUEUE)
        report = await bounded(h.result())
    assert samples.CALLS == [("refuse", 1)]
    assert report == {"error": "ActivityError", "cause": "ApplicationError",
                      "message": "card declined", "cause_type": "CardDeclined"}
    assert count(client.store, h.result_run_id or "", "ActivityFailed") == 1


async def test_activity_failure_fails_the_workflow_with_the_cause(tmp_path: Path) -> None:
    result, events, _ = await run_activity(tmp_path, "refuse", [])
    assert isinstance(result, WorkflowFailureError)
    assert isinstance(result.cause, ActivityError)
    assert isinstance(result.cause.__cause__, ApplicationError)
    assert "card declined" in str(result.cause.__cause__)
    assert events[-1] == "WorkflowFailed"


async def test_maximum_attempts_exhausted(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(ErrorReportWorkflow.run, args=["always_fails", [], 3, 5.0],
                                        id="af", task_queue=QUEUE)
        report = await bounded(h.result())
    assert samples.CALLS == [("always_fails", 1), ("always_fails", 2), ("always_fails", 3)]
    assert report["error"] == "ActivityError"
    assert report["message"] == "boom 3"
    events = client.store.read(h.result_run_id or "")
    [failed] = [e for e in events if type(e).__name__ == "ActivityFailed"]
    assert failed.attempt == 3  # type: ignore[attr-defined]


async def test_start_to_close_timeout(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(ErrorReportWorkflow.run,
                                        args=["sleepy", [30.0], 2, 0.05],
                                        id="slow", task_queue=QUEUE)
        report = await bounded(h.result())
    assert samples.CALLS == [("sleepy", 1), ("sleepy", 2)]  # each attempt timed out
    assert report == {"error": "ActivityError", "cause": "TimeoutError",
                      "message": "activity timed out (start_to_close)",
                      "cause_type": "start_to_close"}
    events = client.store.read(h.result_run_id or "")
    [timed_out] = [e for e in events if type(e).__name__ == "ActivityTimedOut"]
    assert timed_out.timeout_type == "start_to_close"  # type: ignore[attr-defined]
    assert timed_out.attempt == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "started"), [("wait_forever_async", "async-started"),
                                               ("wait_forever_sync", "sync-started")])
async def test_cancellation_reaches_a_running_activity(tmp_path: Path, name: str,
                                                        started: str) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(CancelActivityWorkflow.run, name, id=f"cx-{name}",
                                        task_queue=QUEUE)
        await wait_until(samples.event(started).is_set)
        if name == "wait_forever_sync":  # heartbeating alone must not cancel it: once
            # its heartbeat reached the store (each one also reads whether it was cancelled)
            async def beaten() -> None:
                while not any(p.heartbeat_details == ["tick"]
                              for p in (await h.describe()).pending_activities):
                    await asyncio.sleep(0.01)
            await bounded(beaten(), 120)
        assert [(name, "started")] == samples.CALLS
        await h.signal(CancelActivityWorkflow.stop_it)
        outcome = await bounded(h.result())
        # the activity itself saw the cancellation: the async task was cancelled, the
        # sync function's next heartbeat raised
        expected = "cancelled" if name.endswith("async") else "CancelledError"
        await wait_until(lambda: (name, expected) in samples.CALLS)
    # awaiting the cancelled handle raises ActivityError caused by CancelledError
    assert outcome == "activity error: CancelledError"
    events = kinds(client.store.read(h.result_run_id or ""))
    assert events.count("ActivityCancelRequested") == 1
    assert events.count("ActivityCanceled") == 1
    assert "ActivityCompleted" not in events


async def test_dynamic_activity_gets_raw_values(tmp_path: Path) -> None:
    result, _, _ = await run_activity(tmp_path, "no_such_name", [1, "two", [3]],
                                      activities=[samples.anything])
    assert result == {"type": "no_such_name", "args": [1, "two", [3]]}


async def test_unknown_activity_name_fails_clearly(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client, activities=[samples.echo]):
        h = await client.start_workflow(ErrorReportWorkflow.run,
                                        args=["nope", [], 2, 5.0], id="unknown",
                                        task_queue=QUEUE)
        report = await bounded(h.result())
    assert report["error"] == "ActivityError"
    assert report["cause_type"] == "NotFoundError"
    assert report["message"] == ("activity type 'nope' is not registered on this worker "
                                 "(known: echo); register it with "
                                 "Worker(activities=[...])")
    # nothing else happened: one schedule, attempts then one failure, no completion
    events = kinds(client.store.read(h.result_run_id or ""))
    assert events.count("ActivityScheduled") == events.count("ActivityFailed") == 1
    assert "ActivityCompleted" not in events
