"""Source locations of commands (replay/_locations.py).

A command issued by workflow code points at the line that issued it; one the
engine issues itself (an update's acceptance, its completion from a task's
done-callback) has no location, not the line of whatever called the engine.
A command issued in a task with no workflow code on its stack points at the
line that created the task; the run's ending at the line that returned, raised
or continued as new.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from replay import workflow
from replay._core._command_base import Command
from replay._core._commands import (
    ActivityCommand,
    UpdateAcceptedCommand,
    UpdateCompletedCommand,
)
from replay._core._handlers import UpdateDelivery
from replay._core._locations import format_location
from replay.exceptions import NondeterminismError
from replay.history import ActivityCompleted, ActivityScheduled, History
from replay.testing import WorkflowDriver
from replay.worker import Replayer

from .workflows import greeting
from .workflows import locations as loc
from .workflows.greeting import AsyncGreetingWorkflow, Language


def _line_of(cls: type, text: str) -> int:
    lines, start = inspect.getsourcelines(cls)
    return start + next(i for i, line in enumerate(lines) if text in line)


def _one(commands: list[Command], kind: type[Command]) -> Command:
    found = [c for c in commands if isinstance(c, kind)]
    assert len(found) == 1, commands
    return found[0]


def test_engine_issued_commands_have_no_location_and_workflow_ones_their_line() -> None:
    d = WorkflowDriver(AsyncGreetingWorkflow)
    d.step()
    inst = d.instance
    payloads = d.converter.to_payloads([Language.Chinese])
    accepted_run = inst.activate([], [UpdateDelivery("u-1", "set_language", payloads)], d.now)

    accepted = _one(accepted_run.commands, UpdateAcceptedCommand)
    assert accepted.location is None
    activity = _one(accepted_run.commands, ActivityCommand)
    line = _line_of(AsyncGreetingWorkflow, "workflow.execute_activity(")
    assert activity.location == (greeting.__file__, line)
    assert format_location(activity.location) == f"{greeting.__file__}:{line}"

    new = inst.commit_live(accepted_run, d.now)
    scheduled = next(e for e in new if isinstance(e, ActivityScheduled))
    done = ActivityCompleted(event_id=inst.last_event_id + 1, time=d.now,
                             scheduled_event_id=scheduled.event_id,
                             result=d.converter.to_payload("Hello"), attempt=1)
    completed_run = inst.activate([done], [], d.now)
    assert _one(completed_run.commands, UpdateCompletedCommand).location is None


# --- commands away from the user's stack, and the run's ending --------------------------------


def _diverging_line(cls: type) -> str:
    """``file:line`` of the ``# B-DIVERGES`` line in ``cls``'s source."""
    return f"{loc.__file__}:{_line_of(cls, '# B-DIVERGES')}"


def _record(cls: type, *args: Any, signal: str | None = None, update: str | None = None
            ) -> History:
    """Run ``cls`` to its end: activities complete at once, then timers fire in turn."""
    d = WorkflowDriver(cls, *args)
    d.step()
    if signal is not None:
        d.signal(signal)
        d.step()
    if update is not None:
        d.update(update)
        d.step()
    while not d.instance.closed:
        activities = d.open_activities()
        for scheduled in activities:
            d.complete_activity(scheduled, "done")
        if not activities and not d.fire_next_timer():
            break
        d.step()
    return d.history()


def _divergence(a: type, b: type, *args: Any, strict_result: bool = False,
                **inputs: str) -> NondeterminismError:
    history = _record(a, *args, **inputs)
    with pytest.raises(NondeterminismError) as err:
        Replayer(workflows=[b], strict_result=strict_result).replay_sync(history)
    return err.value


@pytest.mark.parametrize(("a", "b"), [
    (loc.GatherA, loc.GatherB),
    (loc.GatherSleepA, loc.GatherSleepB),
    (loc.EnsureFutureA, loc.EnsureFutureB),
    (loc.CreateTaskA, loc.CreateTaskB),
    (loc.LoopCreateTaskA, loc.LoopCreateTaskB),
    (loc.NestedA, loc.NestedB),
    (loc.AwaitableA, loc.AwaitableB),
    (loc.AwaitableNestedA, loc.AwaitableNestedB),
], ids=lambda c: c.__name__[:-1])
def test_a_command_in_a_task_points_at_the_line_that_created_it(a: type, b: type) -> None:
    err = _divergence(a, b)
    assert err.location == _diverging_line(b)


@pytest.mark.parametrize(("a", "b"), [
    (loc.SleepA, loc.SleepB),
    (loc.CallLaterA, loc.CallLaterB),
    (loc.CallAtA, loc.CallAtB),
    (loc.TimeoutA, loc.TimeoutB),
    (loc.WaitForA, loc.WaitForB),
], ids=lambda c: c.__name__[:-1])
def test_a_timer_points_at_the_line_that_started_it(a: type, b: type) -> None:
    err = _divergence(a, b)
    assert err.actual.startswith("TimerStarted(duration=6")
    assert err.location == _diverging_line(b)


@pytest.mark.skipif(not hasattr(workflow, "as_completed"), reason="no workflow.as_completed")
def test_a_command_in_a_task_of_as_completed_points_at_its_coroutine() -> None:
    err = _divergence(loc.AsCompletedA, loc.AsCompletedB)
    assert err.location == _diverging_line(loc.AsCompletedB)


@pytest.mark.parametrize(("a", "b", "inputs"), [
    (loc.SignalA, loc.SignalB, {"signal": "go"}),
    (loc.SyncSignalA, loc.SyncSignalB, {"signal": "go"}),
    (loc.UpdateA, loc.UpdateB, {"update": "go"}),
], ids=["async signal handler", "sync signal handler", "update handler"])
def test_a_command_a_handler_issued_points_at_the_handler_line(
        a: type, b: type, inputs: dict[str, str]) -> None:
    err = _divergence(a, b, strict_result=False, **inputs)
    assert err.location == _diverging_line(b)


def test_a_cancellation_points_at_the_line_that_cancelled() -> None:
    d = WorkflowDriver(loc.CancelA)
    d.step()
    d.fire_next_timer()
    d.step()
    with pytest.raises(NondeterminismError) as err:
        Replayer(workflows=[loc.CancelB]).replay_sync(d.history())
    assert err.value.actual == "ActivityCancelRequested(scheduled_event_id=2)"
    assert err.value.location == _diverging_line(loc.CancelB)


def test_a_cancellation_the_engine_issues_points_at_the_line_that_started_its_target() -> None:
    d = WorkflowDriver(loc.RunCancelA)
    d.step()
    d.cancel()
    d.step()  # A abandons the activity; B asks for its cancellation as the run is cancelled
    with pytest.raises(NondeterminismError) as err:
        Replayer(workflows=[loc.RunCancelB]).replay_sync(d.history())
    assert err.value.actual == "ActivityCancelRequested(scheduled_event_id=2)"
    assert err.value.location == _diverging_line(loc.RunCancelB)


@pytest.mark.parametrize(("a", "b", "args", "ending"), [
    (loc.EndingA, loc.EndingB, (1,), "WorkflowCompleted()"),
    (loc.EndingRaiseA, loc.EndingRaiseB, (), "WorkflowFailed()"),
    (loc.EndingContinueA, loc.EndingContinueB, (),
     "WorkflowContinuedAsNew(workflow_type='LocEndingContinue')"),
], ids=["returned", "raised", "continued as new"])
def test_a_changed_ending_points_at_the_line_that_ended_the_run(
        a: type, b: type, args: tuple[Any, ...], ending: str) -> None:
    err = _divergence(a, b, *args)
    assert err.actual == ending
    assert err.location == _diverging_line(b)


@pytest.mark.parametrize(("a", "b", "args"), [
    (loc.ResultA, loc.ResultB, ("Ada",)),
    (loc.FailureA, loc.FailureB, ()),
    (loc.ContinueArgsA, loc.ContinueArgsB, (1,)),
], ids=["result", "failure", "continue-as-new arguments"])
def test_a_changed_result_points_at_the_line_that_returned_or_raised(
        a: type, b: type, args: tuple[Any, ...]) -> None:
    err = _divergence(a, b, *args, strict_result=True)
    assert err.in_result
    assert err.location == _diverging_line(b)


def test_the_run_frame_is_let_go_when_the_run_ends() -> None:
    d = WorkflowDriver(loc.ResultA, "Ada")
    d.step()
    assert d.instance._run_frame is not None  # waiting: the line it returns from is to come
    d.fire_next_timer()
    d.step()
    assert d.instance.closed and d.instance._run_frame is None
