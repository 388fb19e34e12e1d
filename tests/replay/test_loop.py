"""The deterministic event loop (replay/_loop.py): asyncio on durable timers.

Each workflow is driven with the WorkflowDriver (``run_timers`` fires the
earliest open timer until the run ends), its history is checked, and the
Replayer must reproduce it.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from replay._core import _loop
from replay._core._loop import DurableTimerHandle, ReadyHandle, WorkflowEventLoop
from replay.exceptions import WorkflowLoopError, WorkflowTaskError
from replay.history import TimerCanceled, TimerFired, TimerStarted
from replay.testing import WorkflowDriver

from .support import assert_replays, kinds
from .workflows import asyncio_samples as a


def timers(d: WorkflowDriver) -> list[float]:
    return [e.duration.total_seconds() for e in d.events if isinstance(e, TimerStarted)]


def test_asyncio_sleep_and_workflow_sleep_are_durable_timers() -> None:
    d = WorkflowDriver(a.DurableSleepWorkflow)
    d.run_timers()
    assert d.instance.result_payload == [5.0, 3.0, 0.0]
    assert kinds(d.events) == [
        "WorkflowStarted", "TimerStarted", "WorkflowTaskCompleted",
        "TimerFired", "TimerStarted", "WorkflowTaskCompleted",
        "TimerFired", "WorkflowCompleted",
    ]
    first = d.events[1]
    assert isinstance(first, TimerStarted)
    assert first.fire_at == d.events[0].time + timedelta(seconds=5)
    assert_replays(d)


def test_wait_for_timeout_path_and_success_path() -> None:
    d = WorkflowDriver(a.WaitForWorkflow)
    d.step()
    assert kinds(d.events[1:]) == ["TimerStarted", "ActivityScheduled", "WorkflowTaskCompleted"]
    d.fire_next_timer()  # 30 s pass before the activity finishes
    d.step()
    # the activity is asked to stop, and the next wait_for starts its own timer
    assert kinds(d.events[4:]) == ["TimerFired", "ActivityCancelRequested", "TimerStarted",
                                   "WorkflowTaskCompleted"]
    d.advance(timedelta(seconds=10))
    d.signal("go")
    d.step()
    assert kinds(d.events[8:]) == ["SignalReceived", "TimerCanceled", "WorkflowCompleted"]
    canceled = d.events[9]
    assert isinstance(canceled, TimerCanceled) and canceled.started_event_id == 7
    assert d.instance.result_payload == ["activity timed out", "event in time"]
    assert_replays(d)


def test_asyncio_timeout_expires_then_succeeds() -> None:
    d = WorkflowDriver(a.TimeoutWorkflow)
    d.step()
    d.fire_next_timer()
    d.step()
    d.signal("set_ready")
    d.step()
    assert d.instance.result_payload == ["expired", "ready"]
    assert timers(d) == [5.0, 100.0]
    assert kinds(d.events)[-2:] == ["TimerCanceled", "WorkflowCompleted"]
    assert_replays(d)


def test_gather_and_create_task() -> None:
    d = WorkflowDriver(a.GatherWorkflow)
    d.step()
    assert timers(d) == [30.0, 10.0]
    d.complete_activity(d.open_activities()[0], "data")
    d.step()
    d.run_timers()
    assert d.instance.result_payload == [["slow", "fast", "data"], ["fast", "slow"]]
    fired = [e.started_event_id for e in d.events if isinstance(e, TimerFired)]
    assert fired == [3, 2]  # the 10 s timer (event 3) fires first
    assert_replays(d)


def test_lock_event_condition_semaphore_queue() -> None:
    d = WorkflowDriver(a.PrimitivesWorkflow)
    d.run_timers()
    log = d.instance.result_payload
    # the lock serialises a and b; the semaphore lets two of three in at once; the
    # bounded queue alternates put and get; the condition wakes at stage 2
    assert log.index("lock a out") < log.index("lock b in")
    assert log[:3] == ["lock a in", "sem x", "sem y"]
    assert log.index("sem z") > log.index("sem y")
    gets = [x for x in log if x.startswith(("got", "put"))]
    assert gets == ["put 0", "got 0", "put 1", "got 1", "put 2", "got 2"]
    # and the whole interleaving is pinned: FIFO scheduling, timers in fire order
    assert log == [
        "lock a in", "sem x", "sem y", "put 0", "got 0", "put 1", "lock a out", "lock b in",
        "got 1", "put 2", "sem z", "lock b out", "condition met", "got 2",
    ]
    assert_replays(d)
    # run twice, the same trace: the scheduler is FIFO and time is the history's
    again = WorkflowDriver(a.PrimitivesWorkflow)
    again.run_timers()
    assert again.events == d.events


def test_shield_keeps_the_inner_task_running() -> None:
    d = WorkflowDriver(a.ShieldWorkflow)
    d.step()
    d.fire_next_timer()
    d.step()
    assert "ActivityCancelRequested" not in kinds(d.events)
    d.complete_activity(d.open_activities()[0], "kept")
    d.step()
    assert d.instance.result_payload == ["timed out, inner cancelled=False", "kept"]
    assert_replays(d)


def test_task_cancellation_cancels_its_timer() -> None:
    d = WorkflowDriver(a.CancelTaskWorkflow)
    d.run_timers()
    assert d.instance.result_payload == ["sleeper cancelled", "task cancelled=True"]
    assert kinds(d.events) == [
        "WorkflowStarted", "TimerStarted", "TimerStarted", "WorkflowTaskCompleted",
        "TimerFired", "TimerCanceled", "WorkflowCompleted",
    ]
    # event 2 is the main task's 1 s sleep: the new task only starts when main yields
    canceled = d.events[5]
    assert isinstance(canceled, TimerCanceled) and canceled.started_event_id == 3
    assert_replays(d)


def test_timers_started_and_cancelled_in_one_activation_record_nothing() -> None:
    d = WorkflowDriver(a.ShortLivedTimersWorkflow)
    d.step()
    assert d.instance.result_payload == [
        "cancelled=True", "quick", "condition already true"]
    assert kinds(d.events) == ["WorkflowStarted", "WorkflowCompleted"]
    assert_replays(d)


def test_wait_condition_with_timeout() -> None:
    d = WorkflowDriver(a.WaitConditionTimeoutWorkflow)
    d.step()
    d.fire_next_timer()
    d.step()
    d.signal("set_flag")
    d.step()
    assert d.instance.result_payload == ["timed out", "flag set"]
    assert timers(d) == [10.0, 600.0]
    assert_replays(d)


LOOP_ERROR_TAIL = (
    "() is not available inside workflow code: the workflow event loop has no I/O, "
    "threads or executors, because a replay could not reproduce them. Do the work in an "
    "activity (workflow.execute_activity)."
)


def test_loop_io_methods_raise_workflow_loop_error_naming_the_call() -> None:
    d = WorkflowDriver(a.LoopIOWorkflow)
    d.step()
    names = ["run_in_executor", "getaddrinfo", "create_connection", "create_server",
             "subprocess_exec", "call_soon_threadsafe", "run_until_complete",
             "create_connection"]  # the last one through asyncio.open_connection
    assert d.instance.result_payload == [
        f"[RPL-L01] loop.{name}{LOOP_ERROR_TAIL}" for name in names]
    assert_replays(d)


def test_uncaught_loop_error_fails_the_workflow_task() -> None:
    d = WorkflowDriver(a.UncaughtLoopIOWorkflow)
    with pytest.raises(WorkflowTaskError) as err:
        d.step()
    assert isinstance(err.value.cause, WorkflowLoopError)
    assert err.value.cause.call == "run_in_executor"
    assert err.value.location is not None
    assert err.value.location.startswith(a.__file__ + ":")
    assert kinds(d.events) == ["WorkflowStarted"]


# --- the loop's handles fill asyncio's slots as asyncio's own methods would ----------------


class _NoSink:
    def start_timer(self, handle: DurableTimerHandle, delay: float) -> None: ...
    def cancel_timer(self, handle: DurableTimerHandle) -> None: ...


def _slots(handle: asyncio.Handle) -> dict[str, Any]:
    names = {n for cls in type(handle).__mro__ for n in getattr(cls, "__slots__", ())}
    return {n: getattr(handle, n) for n in sorted(names - {"__weakref__"})}


def _pair(ours: asyncio.Handle, theirs: asyncio.Handle) -> None:
    mine, asyncio_s = _slots(ours), _slots(theirs)
    assert {n: mine[n] for n in asyncio_s} == asyncio_s


@pytest.mark.parametrize("fills", [True, False], ids=["own", "asyncio's methods"])
@pytest.mark.parametrize("context", [None, contextvars.Context()], ids=["copied", "given"])
def test_the_loops_handles_are_made_and_cancelled_as_asyncio_makes_them(
        context: contextvars.Context | None, fills: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # on a Python whose handles have other slots, asyncio's own methods fill them
    monkeypatch.setattr(_loop, "_FILLS_SLOTS", fills and _loop._FILLS_SLOTS)
    loop = WorkflowEventLoop(_NoSink())  # type: ignore[abstract]  # I/O methods added later
    given = context or contextvars.copy_context()
    ready = ReadyHandle(print, ("x",), loop, given)
    _pair(ready, asyncio.Handle(print, ("x",), loop, given))
    timer = DurableTimerHandle(5.0, print, ("x",), loop, given)
    reference = asyncio.TimerHandle(5.0, print, ("x",), loop, given)
    _pair(timer, reference)
    assert timer.command is None and timer.workflow_loop is loop
    timer.cancel()
    reference.cancel()
    _pair(timer, reference)
    assert timer.cancelled()
    if context is None:  # no context given: each handle copies the current one
        assert isinstance(ReadyHandle(print, (), loop, None)._context, contextvars.Context)
        assert isinstance(DurableTimerHandle(1.0, print, (), loop, None)._context,
                          contextvars.Context)


_GARBAGE_PER_TIMER = """
import gc, json
from replay.testing import WorkflowDriver
from replay.worker import Replayer
from tests.replay.workflows import asyncio_samples as a
counts = []
for n in (3, 30):
    d = WorkflowDriver(a.ManySleepsWorkflow, n)
    d.run_timers()
    history, replayer = d.history(), Replayer(workflows=[a.ManySleepsWorkflow])
    replayer.replay_sync(history)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    replayer.replay_sync(history)
    gc.collect()
    counts.append(sum(type(o).__module__.startswith(("replay.", "history."))
                      for o in gc.garbage))
    gc.set_debug(0)
    gc.garbage.clear()
    gc.enable()
print(json.dumps(counts))
"""


def test_a_replay_leaves_no_garbage_cycle_per_timer() -> None:
    # a fired timer's handle lets go of its command: the two are freed by reference
    # counting, so the collector finds as many of the engine's objects in a replay's
    # cyclic garbage for 30 timers as for 3. Measured in a fresh interpreter: in the
    # test process, other threads' garbage would land in the count.
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", _GARBAGE_PER_TIMER], cwd=root,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts[0] == counts[1]
