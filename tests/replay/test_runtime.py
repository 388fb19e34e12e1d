"""The workflow.* API (replay/_runtime.py): time, randomness, info, logging, patches,
run endings, children, external signals, failures and cancellation."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest

from replay import workflow
from replay.exceptions import (
    ApplicationError,
    NondeterminismError,
    WorkflowTaskError,
)
from replay.history import (
    ActivityCancelRequested,
    ActivityScheduled,
    ChildWorkflowCompleted,
    ChildWorkflowFailed,
    ChildWorkflowStarted,
    EventEmitted,
    ExternalSignalSent,
    MarkerRecorded,
    WorkflowCanceled,
    WorkflowContinuedAsNew,
    WorkflowFailed,
)
from replay.testing import WorkflowDriver

from .support import assert_replays, kinds, replay
from .workflows import api_samples as s

START = "2026-01-01T00:00:00+00:00"


# --- outside workflow code ------------------------------------------------------------------


@pytest.mark.parametrize("call", [workflow.now, workflow.info, workflow.random,
                                  workflow.all_handlers_finished])
def test_api_outside_workflow_code_says_where_it_belongs(call: object) -> None:
    with pytest.raises(workflow.NotInWorkflowError) as err:
        call()  # type: ignore[operator]
    name = call.__name__  # type: ignore[attr-defined]
    assert str(err.value) == (
        f"[RPL-W01] workflow.{name}() can only be called from workflow code (a "
        "@workflow.defn class's run method, handlers or what they call), while a worker "
        "or replayer runs it."
    )


# --- time -------------------------------------------------------------------------------------


def test_now_is_the_activation_time_and_fixed_within_it() -> None:
    d = WorkflowDriver(s.ClockWorkflow)
    d.step()
    d.advance(timedelta(seconds=30))
    d.signal("read")
    d.step()
    assert d.query("signal_times") == ["2026-01-01T00:00:30+00:00"]
    d.run_timers()
    first, same, later, seconds = d.instance.result_payload
    assert first == same == START
    assert later == "2026-01-01T00:01:00+00:00"  # the timer's fire time, not the signal's
    assert seconds == d.events[-1].time.timestamp()
    assert_replays(d, queries=[("signal_times",)])


# --- randomness -------------------------------------------------------------------------------


def test_random_and_uuid4_are_seeded_by_the_history() -> None:
    d = WorkflowDriver(s.RandomWorkflow, seed=42)
    d.run_timers()
    draws = d.instance.result_payload
    assert len(set(map(str, draws))) == 4
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        draws[1])
    assert_replays(d)  # the replay draws the same values, or its result would differ
    other = WorkflowDriver(s.RandomWorkflow, seed=43)
    other.run_timers()
    assert other.instance.result_payload != draws


# --- info -------------------------------------------------------------------------------------


def test_info_describes_the_run() -> None:
    d = WorkflowDriver(s.InfoWorkflow, run_id="r-9", workflow_id="orders/9")
    d.step()
    assert d.instance.result_payload == {
        "workflow_id": "orders/9", "run_id": "r-9", "workflow_type": "InfoWorkflow",
        "task_queue": "default", "start_time": START, "first_execution_run_id": "r-9",
        "parent": None, "attempt": 1,
    }
    assert_replays(d)


# --- logging and is_replaying -----------------------------------------------------------------


def test_logger_is_silent_while_replaying(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="replay.workflow"):
        d = WorkflowDriver(s.LoggingWorkflow, workflow_id="logs")
        d.run_timers()
    records = [r for r in caplog.records if r.name == "replay.workflow"]
    ids = ("{'workflow_type': 'LoggingWorkflow', 'workflow_id': 'logs', 'run_id': 'run-1', "
           "'task_queue': 'default', 'attempt': 1}")
    assert [r.getMessage() for r in records] == [f"step {i} ({ids})" for i in range(3)]
    assert {(r.workflow_id, r.run_id) for r in records} == {("logs", "run-1")}  # type: ignore[attr-defined]
    assert d.query("replay_flags") == [False, False, False]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="replay.workflow"):
        result = replay(d.history(), s.LoggingWorkflow)
    assert [r for r in caplog.records if r.name == "replay.workflow"] == []
    assert result.query("replay_flags") == [True, True, True]
    assert result.result == 3


# --- patches ----------------------------------------------------------------------------------


def run_to_end(workflow_cls: type) -> WorkflowDriver:
    d = WorkflowDriver(workflow_cls)
    d.step()
    d.complete_activity(d.open_activities()[0])
    d.step()
    return d


def test_patched_new_run_takes_the_new_path_and_records_a_marker() -> None:
    d = run_to_end(s.PatchingWithPatch)
    assert kinds(d.events[:5]) == ["WorkflowStarted", "MarkerRecorded", "ActivityScheduled",
                                   "WorkflowTaskCompleted", "ActivityCompleted"]
    marker = d.events[1]
    assert isinstance(marker, MarkerRecorded)
    assert (marker.name, marker.marker_id, marker.deprecated) == ("patch", "use-new-step", False)
    scheduled = d.events[2]
    assert isinstance(scheduled, ActivityScheduled) and scheduled.activity_type == "new_step"
    assert d.instance.result_payload == "new"
    assert replay(d.history(), s.PatchingWithPatch).result == "new"


def test_history_from_before_the_patch_replays_through_the_old_path() -> None:
    old = run_to_end(s.PatchingBefore)
    result = replay(old.history(), s.PatchingWithPatch)
    assert result.replay_failure is None
    assert result.result == "old"


def test_deprecated_patch_replays_histories_with_the_marker() -> None:
    patched = run_to_end(s.PatchingWithPatch)
    assert replay(patched.history(), s.PatchingDeprecated).result == "new"

    deprecated = run_to_end(s.PatchingDeprecated)
    marker = deprecated.events[1]
    assert isinstance(marker, MarkerRecorded) and marker.deprecated
    # ...and once the call is removed, the recorded deprecated marker is skipped
    assert replay(deprecated.history(), s.PatchingRemoved).result == "new"
    # a history with no marker at all replays through a deprecated patch too
    removed = run_to_end(s.PatchingRemoved)
    assert replay(removed.history(), s.PatchingDeprecated).result == "new"


def test_deprecated_patch_cannot_replay_a_history_from_before_the_patch() -> None:
    old = run_to_end(s.PatchingBefore)
    with pytest.raises(NondeterminismError) as err:
        replay(old.history(), s.PatchingDeprecated)
    assert err.value.event_id == 2
    assert err.value.expected == "ActivityScheduled(activity_type='old_step') (event 2)"
    assert err.value.actual == "ActivityScheduled(activity_type='new_step')"


# --- run endings ------------------------------------------------------------------------------


def test_continue_as_new_records_workflow_continued_as_new() -> None:
    d = WorkflowDriver(s.ContinueAsNewWorkflow, 1)
    d.run_timers()
    last = d.events[-1]
    assert isinstance(last, WorkflowContinuedAsNew)
    assert (last.workflow_type, last.task_queue, last.args) == (
        "ContinueAsNewWorkflow", "default", [2])
    assert re.fullmatch(r"[0-9a-f-]{36}", last.new_run_id)
    result = assert_replays(d)
    assert result.status == "continued_as_new"

    final = WorkflowDriver(s.ContinueAsNewWorkflow, 3)
    final.run_timers()
    assert final.instance.result_payload == 3


def test_emit_records_event_emitted() -> None:
    d = WorkflowDriver(s.EmitWorkflow)
    d.run_timers()
    emitted = [e for e in d.events if isinstance(e, EventEmitted)]
    assert [(e.seq, e.payload) for e in emitted] == [
        (1, {"progress": 0}), (2, {"progress": 100}), (3, "done")]
    assert_replays(d)


def test_child_workflows_and_external_signals() -> None:
    d = WorkflowDriver(s.ParentWithChildrenWorkflow, workflows=[s.DoublingChildWorkflow])
    d.step()
    [child] = d.open_children()
    assert isinstance(child, ChildWorkflowStarted)
    assert (child.workflow_type, child.workflow_id, child.args) == (
        "DoublingChildWorkflow", "child-1", [5])
    d.complete_child(child, 10)
    d.step()
    [second] = d.open_children()
    assert second.workflow_id.startswith("wf-1/child-")  # drawn from the seeded random
    d.complete_child(second, 14)
    d.step()
    sent = d.events[-2]
    assert isinstance(sent, ExternalSignalSent)
    assert (sent.workflow_id, sent.run_id, sent.signal_name, sent.args) == (
        "other-wf", None, "poke", ["hi"])
    assert not d.instance.closed  # the signal is not delivered yet
    d.deliver_external_signals()
    d.step()
    assert d.instance.result_payload == [10, 14, "child-1"]
    assert kinds(d.events).count("ChildWorkflowCompleted") == 2
    assert_replays(d, s.ParentWithChildrenWorkflow, s.DoublingChildWorkflow)


def test_child_failure_reaches_the_parent_as_child_workflow_error() -> None:
    d = WorkflowDriver(s.ChildFailureWorkflow)
    d.step()
    [child] = d.open_children()
    d.fail_child(child, ApplicationError("child broke"))
    d.step()
    failed = d.events[-2]
    assert isinstance(failed, ChildWorkflowFailed) and failed.failure.message == "child broke"
    assert d.instance.result_payload == "DoublingChildWorkflow/c: child broke"
    assert not any(isinstance(e, ChildWorkflowCompleted) for e in d.events)
    assert_replays(d)


# --- failures ---------------------------------------------------------------------------------


def test_activity_failure_and_timeout_reach_the_workflow_as_activity_error() -> None:
    d = WorkflowDriver(s.ActivityFailureWorkflow)
    d.step()
    d.fail_activity(d.open_activities()[0],
                    ApplicationError("card declined", type="Declined", non_retryable=True))
    d.step()
    d.time_out_activity(d.open_activities()[0], "schedule_to_close")
    d.step()
    assert d.instance.result_payload == [
        ["charge", "activity failed", "charge", 2, "ApplicationError", "card declined", True,
         "Declined"],
        ["ship", "activity timed out", "ship", 5, "TimeoutError",
         "activity timed out (schedule_to_close)", None, "schedule_to_close"],
    ]
    assert_replays(d)


def test_application_error_fails_the_workflow() -> None:
    d = WorkflowDriver(s.FailingWorkflow)
    d.run_timers()
    last = d.events[-1]
    assert isinstance(last, WorkflowFailed)
    f = last.failure
    assert (f.message, f.type, f.non_retryable, f.details) == (
        "order rejected", "Rejected", True, ["detail"])
    assert "api_samples.py" in f.stack_trace
    result = assert_replays(d)
    assert result.status == "failed" and result.failure == f


def test_declared_failure_type_fails_the_workflow() -> None:
    d = WorkflowDriver(s.DeclaredFailureWorkflow, "seven")
    d.run_timers()
    last = d.events[-1]
    assert isinstance(last, WorkflowFailed)
    assert last.failure.type == "ValueError"
    assert last.failure.message == "invalid literal for int() with base 10: 'seven'"
    assert_replays(d)


def bug_line() -> int:
    import inspect

    lines, start = inspect.getsourcelines(s.BuggyWorkflow)
    return start + next(i for i, line in enumerate(lines) if "BUG-LINE" in line)


def test_plain_exception_fails_the_task_with_location_and_commits_nothing() -> None:
    d = WorkflowDriver(s.BuggyWorkflow)
    d.step()
    before = list(d.events)
    d.signal("add", "apples")
    with pytest.raises(WorkflowTaskError) as err:
        d.step()
    where = f"{s.__file__}:{bug_line()}"
    assert err.value.location == where
    assert isinstance(err.value.cause, KeyError)
    assert str(err.value) == (
        f"[RPL-WT01] workflow task of 'BuggyWorkflow' run 'run-1' failed: KeyError: "
        f"'missing' at {where}. The run stays open and none of the task's commands were "
        "recorded; the task is retried with backoff, so fixed code resumes the run. To fail "
        "the run instead, raise ApplicationError or list the type in "
        "workflow.defn(failure_exception_types=...) or "
        "Worker(workflow_failure_exception_types=...)."
    )
    # only the signal (an input, stored when it arrived) was added: no command, no
    # WorkflowTaskCompleted
    assert kinds(d.events[len(before):]) == ["SignalReceived"]
    assert not d.instance.closed


# --- cancellation -----------------------------------------------------------------------------


def test_cancel_requests_cancellation_of_the_awaited_activity() -> None:
    d = WorkflowDriver(s.CancellableWorkflow)
    d.step()
    [scheduled] = d.open_activities()
    d.cancel("customer asked")
    d.step()
    assert kinds(d.events[-3:]) == ["CancelRequested", "ActivityCancelRequested",
                                    "WorkflowCanceled"]
    request = d.events[-2]
    assert isinstance(request, ActivityCancelRequested)
    assert request.scheduled_event_id == scheduled.event_id
    assert isinstance(d.events[-1], WorkflowCanceled)
    result = assert_replays(d)
    assert result.status == "canceled"


def test_cancelled_workflow_may_clean_up_first() -> None:
    d = WorkflowDriver(s.CleanupOnCancelWorkflow)
    d.step()
    d.cancel()
    d.step()
    assert kinds(d.events[-4:]) == ["CancelRequested", "TimerCanceled", "ActivityScheduled",
                                    "WorkflowTaskCompleted"]
    d.complete_activity(d.open_activities()[0])
    d.step()
    assert isinstance(d.events[-1], WorkflowCanceled)
    assert_replays(d)


@pytest.mark.parametrize(("cancellation_type", "events", "waited"), [
    ("try_cancel", ["TimerFired", "ActivityCancelRequested", "WorkflowCompleted"], 1.0),
    ("abandon", ["TimerFired", "WorkflowCompleted"], 1.0),
    ("wait_cancellation_completed",
     ["TimerFired", "ActivityCancelRequested", "WorkflowTaskCompleted", "ActivityCanceled",
      "WorkflowCompleted"], 61.0),
])
def test_activity_cancellation_types(cancellation_type: str, events: list[str],
                                     waited: float) -> None:
    d = WorkflowDriver(s.CancellationTypesWorkflow, cancellation_type)
    d.step()
    [scheduled] = d.open_activities()
    d.fire_next_timer()
    d.step()
    if not d.instance.closed:  # waits until the activity confirms the cancellation
        d.advance(timedelta(minutes=1))
        d.cancel_activity(scheduled)
        d.step()
    assert kinds(d.events[4:]) == events
    assert d.instance.result_payload == ["cancelled", waited]
    assert_replays(d)
