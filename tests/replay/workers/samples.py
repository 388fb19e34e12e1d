"""Workflows and activities exercised by the worker, client and durability tests.

Activities that the tests observe write to module-level state (``CALLS``)
or, in subprocess tests, append a line to the file named by
``$REPLAY_TEST_SIDE_FILE``, so a test can count how often each really ran.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from replay import activity, workflow
from replay.common import RawValue, RetryPolicy
from replay.exceptions import ActivityError, ApplicationError

# --- observable state shared with the tests (in-process only) ------------------------------

CALLS: list[tuple[str, Any]] = []
EVENTS: dict[str, threading.Event] = {}


def event(name: str) -> threading.Event:
    return EVENTS.setdefault(name, threading.Event())


def reset() -> None:
    CALLS.clear()
    EVENTS.clear()


def _side(line: str) -> None:
    path = os.environ.get("REPLAY_TEST_SIDE_FILE")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())


# --- activities ---------------------------------------------------------------------------


@activity.defn
async def echo(value: str) -> str:
    CALLS.append(("echo", value))
    return value


@activity.defn
def sync_add(a: int, b: int) -> int:
    CALLS.append(("sync_add", threading.current_thread().name))
    return a + b


@activity.defn
async def describe_self() -> dict[str, Any]:
    i = activity.info()
    return {"activity_id": i.activity_id, "activity_type": i.activity_type,
            "attempt": i.attempt, "workflow_id": i.workflow_id,
            "workflow_run_id": i.workflow_run_id, "workflow_type": i.workflow_type,
            "task_queue": i.task_queue}


@activity.defn
async def flaky(fail_times: int) -> dict[str, Any]:
    """Fails ``fail_times`` attempts (heartbeating its attempt number first)."""
    i = activity.info()
    CALLS.append(("flaky", (i.attempt, list(i.heartbeat_details))))
    if i.attempt <= fail_times:
        activity.heartbeat(f"progress-{i.attempt}")
        raise RuntimeError(f"transient failure in attempt {i.attempt}")
    return {"attempt": i.attempt, "details": list(i.heartbeat_details)}


@activity.defn
async def refuse() -> str:
    CALLS.append(("refuse", activity.info().attempt))
    raise ApplicationError("card declined", "card-42", type="CardDeclined", non_retryable=True)


@activity.defn
async def always_fails() -> str:
    CALLS.append(("always_fails", activity.info().attempt))
    raise ValueError(f"boom {activity.info().attempt}")


@activity.defn
async def sleepy(seconds: float) -> str:
    CALLS.append(("sleepy", activity.info().attempt))
    await asyncio.sleep(seconds)
    return "woke"


@activity.defn
async def wait_forever_async() -> str:
    CALLS.append(("wait_forever_async", "started"))
    event("async-started").set()
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        CALLS.append(("wait_forever_async", "cancelled"))
        raise
    return "never"


@activity.defn
def wait_forever_sync() -> str:
    CALLS.append(("wait_forever_sync", "started"))
    event("sync-started").set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            activity.heartbeat("tick")
        except BaseException as exc:
            CALLS.append(("wait_forever_sync", type(exc).__name__))
            raise
        time.sleep(0.01)
    return "never"


@activity.defn(dynamic=True)
async def anything(args: Sequence[RawValue]) -> dict[str, Any]:
    conv = activity.payload_converter()
    return {"type": activity.info().activity_type,
            "args": [conv.from_payload(a.payload, Any) for a in args]}


@activity.defn
async def step(i: int) -> int:
    """One step of the durability workflows; logs each execution to the side file."""
    info = activity.info()
    _side(f"{info.workflow_id} {info.activity_id} {info.attempt}")
    return i * i


def gate_open() -> bool:
    """The test's gate: ``event("gate")`` in this process, or the file named by
    ``$REPLAY_TEST_GATE_FILE`` (for worker processes)."""
    path = os.environ.get("REPLAY_TEST_GATE_FILE")
    return event("gate").is_set() or (path is not None and os.path.exists(path))


@activity.defn
async def gated_step(i: int) -> int:
    """``step`` that waits for the test's gate before it returns (logged to the side file
    as it starts and as it finishes, and to ``CALLS``)."""
    info = activity.info()
    CALLS.append(("gated_step", "start"))
    _side(f"{info.workflow_id} {info.activity_id} {info.attempt} start")
    while not gate_open():
        await asyncio.sleep(0.005)
    _side(f"{info.workflow_id} {info.activity_id} {info.attempt}")
    CALLS.append(("gated_step", "done"))
    return i * i


@activity.defn
async def slow_step(i: int) -> int:
    """``step`` that takes 50 ms, so crashes land in the middle of attempts."""
    info = activity.info()
    _side(f"{info.workflow_id} {info.activity_id} {info.attempt} start")
    await asyncio.sleep(0.05)
    _side(f"{info.workflow_id} {info.activity_id} {info.attempt}")
    return i * i


# --- workflows ------------------------------------------------------------------------------


@dataclass
class Tally:
    total: int = 0
    items: list[str] = field(default_factory=list)


@workflow.defn
class CounterWorkflow:
    """Adds signalled numbers until ``finish``; ``set`` is an update with a validator."""

    def __init__(self) -> None:
        self.total = 0
        self.seen: list[str] = []
        self.done = False

    @workflow.run
    async def run(self, start: int) -> Tally:
        self.total += start
        await workflow.wait_condition(lambda: self.done)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return Tally(self.total, self.seen)

    @workflow.signal
    def add(self, n: int) -> None:
        self.total += n
        self.seen.append(f"add:{n}")
        workflow.emit({"total": self.total})

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.update
    def set_total(self, n: int) -> int:
        previous, self.total = self.total, n
        self.seen.append(f"set:{n}")
        return previous

    @set_total.validator
    def _check(self, n: int) -> None:
        if n < 0:
            raise ValueError(f"total must not be negative, got {n}")

    @workflow.update
    async def slow_set(self, n: int) -> int:
        await workflow.sleep(0.05)
        previous, self.total = self.total, n
        return previous

    @workflow.query
    def value(self) -> int:
        return self.total


@workflow.defn
class SleepWorkflow:
    @workflow.run
    async def run(self, seconds: float) -> str:
        before = workflow.now()
        await asyncio.sleep(seconds)
        return f"slept {(workflow.now() - before).total_seconds() >= seconds}"


@workflow.defn
class ActivityWorkflow:
    """Runs one activity by name and reports its result (or re-raises its failure)."""

    @workflow.run
    async def run(self, name: str, args: list[Any], attempts: int, timeout: float) -> Any:
        return await workflow.execute_activity(
            name, args=args, start_to_close_timeout=timedelta(seconds=timeout),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=10),
                                     maximum_attempts=attempts))


@workflow.defn
class ErrorReportWorkflow:
    """Like ActivityWorkflow, but catches ActivityError and returns what it saw."""

    @workflow.run
    async def run(self, name: str, args: list[Any], attempts: int, timeout: float
                  ) -> dict[str, Any]:
        try:
            await workflow.execute_activity(
                name, args=args, start_to_close_timeout=timedelta(seconds=timeout),
                retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=10),
                                         maximum_attempts=attempts))
        except ActivityError as exc:
            cause = exc.__cause__
            return {"error": type(exc).__name__, "cause": type(cause).__name__,
                    "message": str(cause),
                    "cause_type": getattr(cause, "type", None)}
        return {"error": None}


@workflow.defn
class CancelActivityWorkflow:
    """Starts a never-ending activity, cancels it on a signal, reports the outcome."""

    def __init__(self) -> None:
        self.stop = False

    @workflow.run
    async def run(self, name: str) -> str:
        handle = workflow.start_activity(
            name, start_to_close_timeout=timedelta(seconds=20),
            heartbeat_timeout=timedelta(seconds=10),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
        await workflow.wait_condition(lambda: self.stop)
        handle.cancel()
        try:
            await handle
        except ActivityError as exc:
            return f"activity error: {type(exc.__cause__).__name__}"
        except asyncio.CancelledError:
            return "cancelled"
        return "finished"

    @workflow.signal
    def stop_it(self) -> None:
        self.stop = True


@workflow.defn
class StepsWorkflow:
    """``n`` sequential activities (the benchmark and durability workload)."""

    @workflow.run
    async def run(self, n: int, timeout: float) -> int:
        total = 0
        for i in range(n):
            total += await workflow.execute_activity(
                step, i, start_to_close_timeout=timedelta(seconds=timeout),
                retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=10)))
        return total


@workflow.defn
class GatedWorkflow:
    """An activity that waits for the test's gate, then a plain one: returns 1 + 4."""

    @workflow.run
    async def run(self, timeout: float) -> int:
        policy = RetryPolicy(initial_interval=timedelta(milliseconds=10))
        first = await workflow.execute_activity(
            gated_step, 1, start_to_close_timeout=timedelta(seconds=timeout),
            retry_policy=policy)
        return first + await workflow.execute_activity(
            step, 2, start_to_close_timeout=timedelta(seconds=timeout), retry_policy=policy)


@workflow.defn
class NotesWorkflow:
    """The chaos workload: ``steps`` activities, then waits for ``notes`` signals."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    @workflow.run
    async def run(self, steps: int, notes: int, timeout: float) -> dict[str, Any]:
        total = 0
        for i in range(steps):
            total += await workflow.execute_activity(
                step, i, start_to_close_timeout=timedelta(seconds=timeout),
                retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=10)))
        await workflow.wait_condition(lambda: len(self.notes) >= notes)
        return {"total": total, "notes": sorted(self.notes)}

    @workflow.signal
    def note(self, tag: str) -> None:
        self.notes.append(tag)


@workflow.defn
class ChattyWorkflow:
    """The crash-test workload: activities interleaved with signals and updates."""

    def __init__(self) -> None:
        self.signals: list[str] = []
        self.updates: list[str] = []
        self.results: list[int] = []
        self.closing = False

    @workflow.run
    async def run(self, steps: int, timeout: float) -> dict[str, Any]:
        for i in range(steps):
            self.results.append(await workflow.execute_activity(
                slow_step, i, start_to_close_timeout=timedelta(seconds=timeout),
                retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=10))))
            if i % 3 == 2:
                await workflow.sleep(0.02)
        await workflow.wait_condition(lambda: self.closing)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return {"signals": sorted(self.signals), "updates": sorted(self.updates),
                "results": self.results}

    @workflow.signal
    def note(self, tag: str) -> None:
        self.signals.append(tag)

    @workflow.signal
    def close(self) -> None:
        self.closing = True

    @workflow.update
    def record(self, tag: str) -> int:
        self.updates.append(tag)
        return len(self.updates)

    @workflow.query
    def progress(self) -> int:
        return len(self.results)


@workflow.defn
class LoopingWorkflow:
    """Continues as new ``remaining`` times, carrying a sum; emits once per run."""

    @workflow.run
    async def run(self, remaining: int, acc: int) -> int:
        workflow.emit(f"run with {remaining} left")
        if remaining == 0:
            return acc
        workflow.continue_as_new(args=[remaining - 1, acc + remaining])


@workflow.defn
class ChildWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return f"child says hi to {name}"


@workflow.defn
class ParentWorkflow:
    """Runs a child, then signals a sibling run by workflow id."""

    @workflow.run
    async def run(self, name: str, sibling: str) -> str:
        said = await workflow.execute_child_workflow(ChildWorkflow.run, name,
                                                     id=f"{workflow.info().workflow_id}-kid")
        await workflow.get_external_workflow_handle(sibling).signal(CounterWorkflow.add, 7)
        return said


@workflow.defn
class StreamWorkflow:
    """Emits ``n`` values, one per signal ``more``, then ends."""

    def __init__(self) -> None:
        self.allowed = 0

    @workflow.run
    async def run(self, n: int) -> int:
        for i in range(n):
            await workflow.wait_condition(self._more_than(i))
            workflow.emit(i * 10)
        return n

    def _more_than(self, i: int) -> Callable[[], bool]:
        return lambda: self.allowed > i

    @workflow.signal
    def more(self) -> None:
        self.allowed += 1


ALL_WORKFLOWS: list[type] = [
    CounterWorkflow, SleepWorkflow, ActivityWorkflow, ErrorReportWorkflow,
    CancelActivityWorkflow, StepsWorkflow, ChattyWorkflow, LoopingWorkflow, ChildWorkflow,
    ParentWorkflow, StreamWorkflow, GatedWorkflow, NotesWorkflow,
]
ALL_ACTIVITIES: list[Any] = [
    echo, sync_add, describe_self, flaky, refuse, always_fails, sleepy, wait_forever_async,
    wait_forever_sync, step, slow_step, gated_step,
]
