"""The Replayer and split_activations (replay/_replayer.py)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from replay._replay._replayer import Split, split_activations
from replay.exceptions import NondeterminismError, WorkflowDefinitionError
from replay.history import (
    Event,
    History,
    ReplayError,
    SignalReceived,
    TimerStarted,
    WorkflowFailed,
    WorkflowTaskCompleted,
    WorkflowTerminated,
)
from replay.testing import WorkflowDriver
from replay.worker import Replayer

from .support import kinds
from .workflows import api_samples as s
from .workflows import locations as loc
from .workflows import nondeterministic
from .workflows.greeting import ApproveInput, GreetingWorkflow, Language
from .workflows.handlers import LockedUpdatesWorkflow

# --- split_activations --------------------------------------------------------------------


def locked_updates_run() -> tuple[WorkflowDriver, list[tuple[int, Any]]]:
    """A run with several activations; after each, how long the history was and what
    the ``entries`` query answered."""
    d = WorkflowDriver(LockedUpdatesWorkflow)
    snapshots: list[tuple[int, Any]] = []

    def step() -> None:
        d.step()
        snapshots.append((len(d.events), d.query("entries")))

    step()
    d.update("fetch", "a")
    d.update("fetch", "b")
    step()
    d.complete_activity(d.open_activities()[0], "A")
    step()
    d.signal("finish")
    step()
    d.complete_activity(d.open_activities()[0], "B")
    step()
    assert d.instance.closed
    return d, snapshots


def test_split_activations_groups_inputs_commands_and_closing_event() -> None:
    d, _ = locked_updates_run()
    tail = Split([], None)
    acts = list(split_activations(d.events, tail))
    assert [(kinds(a.inputs), kinds(a.commands), type(a.closing).__name__) for a in acts] == [
        (["WorkflowStarted"], [], "WorkflowTaskCompleted"),
        ([], ["UpdateAccepted", "UpdateAccepted", "ActivityScheduled"], "WorkflowTaskCompleted"),
        # b takes the lock (and schedules) before a's done-callback records a's completion
        (["ActivityCompleted"], ["ActivityScheduled", "UpdateCompleted"],
         "WorkflowTaskCompleted"),
        (["SignalReceived"], [], "WorkflowTaskCompleted"),
        (["ActivityCompleted"], ["UpdateCompleted", "WorkflowCompleted"], "WorkflowCompleted"),
    ]
    assert [u.name for u in acts[1].updates] == ["fetch", "fetch"]
    assert not any(u.validate for u in acts[1].updates)  # recorded: accepted already
    assert tail.pending == [] and tail.ended_by is None


def test_split_activations_keeps_pending_inputs_and_an_outside_ending() -> None:
    d = WorkflowDriver(GreetingWorkflow)
    d.step()
    d.signal("approve", ApproveInput("x"))  # delivered, no task ran yet
    tail = Split([], None)
    assert len(list(split_activations(d.events, tail))) == 1
    assert kinds(tail.pending) == ["SignalReceived"]

    ended = [*d.events, WorkflowTerminated(event_id=4, time=d.now, reason="ops")]
    tail = Split([], None)
    list(split_activations(ended, tail))
    assert kinds(tail.pending) == ["SignalReceived"]
    assert isinstance(tail.ended_by, WorkflowTerminated)


def test_split_activations_rejects_an_input_between_commands() -> None:
    events = WorkflowDriver(LockedUpdatesWorkflow).events
    t = events[0].time
    bad = [*events,
           TimerStarted(event_id=2, time=t, seq=1, duration=t - t, fire_at=t),
           SignalReceived(event_id=3, time=t, signal_name="finish")]
    with pytest.raises(ReplayError) as err:
        list(split_activations(bad))
    assert str(err.value) == (
        "[RPL-ND02] event 3: input SignalReceived sits between commands of one activation; "
        "this history was not written by replay"
    )


# --- replay_workflow ---------------------------------------------------------------------


async def test_history_that_ends_mid_run_leaves_the_instance_there() -> None:
    d, snapshots = locked_updates_run()
    replayer = Replayer(workflows=[LockedUpdatesWorkflow])
    for length, answer in snapshots[:-1]:
        prefix = History(d.run_id, d.events[:length])
        result = await replayer.replay_workflow(prefix)
        assert result.replay_failure is None
        assert result.status == "running"
        assert result.instance is not None and not result.instance.closed
        assert result.instance.last_event_id == length
        assert result.query("entries") == answer
    # pending inputs after the last activation are not applied
    g = WorkflowDriver(GreetingWorkflow)
    g.step()
    g.update("set_language", Language.Chinese)
    g.step()
    g.signal("approve", ApproveInput("Ann"))
    result = await Replayer(workflows=[GreetingWorkflow]).replay_workflow(g.history())
    assert result.status == "running"
    assert result.query("get_language") == Language.Chinese.value
    assert result.instance is not None
    assert result.instance.pending() == {"commands": [], "handlers": []}
    assert result.instance.workflow.approved_for_release is False


async def test_replay_of_a_terminated_history() -> None:
    d = WorkflowDriver(GreetingWorkflow)
    d.step()
    events = [*d.events, WorkflowTerminated(event_id=3, time=d.now, reason="ops")]
    result = await Replayer(workflows=[GreetingWorkflow]).replay_workflow(
        History(d.run_id, events))
    assert result.status == "terminated"
    assert result.instance is not None and result.instance.closed


async def test_history_file_round_trip_replays() -> None:
    d, _ = locked_updates_run()
    loaded = History.from_json(d.history().to_json())
    assert loaded == d.history()
    result = await Replayer(workflows=[LockedUpdatesWorkflow]).replay_workflow(loaded)
    assert result.result == d.instance.result_payload


# --- replay_workflows -------------------------------------------------------------------


def patching_history(cls: type, run_id: str) -> History:
    d = WorkflowDriver(cls, run_id=run_id)
    d.step()
    d.complete_activity(d.open_activities()[0])
    d.step()
    return d.history()


async def test_replay_workflows_reports_every_run_and_does_not_stop() -> None:
    histories = [
        patching_history(s.PatchingBefore, "old-1"),
        patching_history(s.PatchingRemoved, "new-1"),
        patching_history(s.PatchingBefore, "old-2"),
    ]
    results = await Replayer(workflows=[s.PatchingRemoved]).replay_workflows(histories)
    assert list(results.replay_results) == ["old-1", "new-1", "old-2"]
    assert [r.history.run_id for r in results.failures] == ["old-1", "old-2"]
    ok = results.replay_results["new-1"]
    assert (ok.status, ok.result, ok.replay_failure) == ("completed", "new", None)
    for run_id in ("old-1", "old-2"):
        failed = results.replay_results[run_id]
        assert failed.status == "replay_failed"
        assert isinstance(failed.replay_failure, NondeterminismError)
        assert failed.replay_failure.run_id == run_id


async def test_replay_workflows_stops_at_the_first_failure_when_asked() -> None:
    replayed: list[str] = []

    class Recording(Replayer):
        def replay_sync(self, history: History, **kw: Any) -> Any:
            replayed.append(history.run_id)
            return super().replay_sync(history, **kw)

    histories = [patching_history(s.PatchingRemoved, "new-1"),
                 patching_history(s.PatchingBefore, "old-1"),
                 patching_history(s.PatchingRemoved, "new-2")]
    with pytest.raises(NondeterminismError) as err:
        await Recording(workflows=[s.PatchingRemoved]).replay_workflows(
            histories, raise_on_replay_failure=True)
    assert err.value.run_id == "old-1"
    assert replayed == ["new-1", "old-1"]


# --- bad input ----------------------------------------------------------------------------


async def test_unknown_workflow_type() -> None:
    history = patching_history(s.PatchingBefore, "r")
    replayer = Replayer(workflows=[GreetingWorkflow, LockedUpdatesWorkflow])
    message = ("[RPL-D01] unknown workflow type 'Patching'; this worker knows: "
               "GreetingWorkflow, LockedUpdatesWorkflow. Register the workflow class with the "
               "worker or replayer.")
    with pytest.raises(WorkflowDefinitionError) as err:
        await replayer.replay_workflow(history)
    assert str(err.value) == message

    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert str(result.replay_failure) == message
    assert (result.status, result.instance) == ("replay_failed", None)
    with pytest.raises(ReplayError) as no_instance:
        result.query("anything")
    assert str(no_instance.value) == "[RPL-R01] the replay failed before the workflow existed"


def test_two_workflows_with_one_name_are_refused() -> None:
    with pytest.raises(WorkflowDefinitionError) as err:
        Replayer(workflows=[s.PatchingBefore, s.PatchingRemoved])
    assert str(err.value) == "[RPL-D01] two workflows are named 'Patching'"


async def test_children_and_external_signals_resolve_from_recorded_results() -> None:
    d = WorkflowDriver(s.ParentWithChildrenWorkflow)
    d.step()
    d.complete_child(d.open_children()[0], 10)
    d.step()
    d.complete_child(d.open_children()[0], 14)
    d.step()
    d.deliver_external_signals()
    d.step()
    result = await Replayer(workflows=[s.ParentWithChildrenWorkflow]).replay_workflow(d.history())
    assert result.result == [10, 14, "child-1"]
    assert result.instance is not None
    assert result.instance.pending() == {"commands": [], "handlers": []}


# --- strict results -------------------------------------------------------------------------


def ended(cls: type, *args: Any) -> History:
    """A run of ``cls`` to its end (it waits on timers only)."""
    d = WorkflowDriver(cls, *args)
    d.run_timers()
    assert d.instance.closed
    return d.history()


def strict_divergence(cls: type, history: History) -> NondeterminismError:
    with pytest.raises(NondeterminismError) as err:
        Replayer(workflows=[cls], strict_result=True).replay_sync(history)
    return err.value


def test_without_strict_results_a_changed_result_is_returned() -> None:
    result = Replayer(workflows=[loc.ResultB]).replay_sync(ended(loc.ResultA, "Ada"))
    assert (result.replay_failure, result.status) == (None, "completed")
    assert result.result == "Hi, Ada!"


def test_strict_results_report_a_changed_result_at_the_terminal_event() -> None:
    history = ended(loc.ResultA, "Ada")
    end = history.events[-1].event_id
    err = strict_divergence(loc.ResultB, history)
    assert (err.event_id, err.in_result, err.code_changed) == (end, True, True)
    assert err.expected == f"WorkflowCompleted(result='Hello, Ada!') (event {end})"
    assert err.actual == "WorkflowCompleted(result='Hi, Ada!')"
    text = str(err)
    assert "but the code now ended the run with WorkflowCompleted(result='Hi, Ada!') at " in text
    assert "record the history again" in text and "strict_result=False" in text
    assert "workflow.patched('my-change')" not in text
    result = Replayer(workflows=[loc.ResultB], strict_result=True).replay_sync(
        history, raise_on_replay_failure=False)
    assert result.status == "replay_failed" and result.replay_failure is not None


def test_strict_results_compare_failures_but_not_their_stack_traces() -> None:
    history = ended(loc.FailureA)
    end = history.events[-1]
    assert isinstance(end, WorkflowFailed)
    elsewhere = attrs.evolve(end, failure=attrs.evolve(end.failure, stack_trace="elsewhere"))
    moved = History(history.run_id, [*history.events[:-1], elsewhere])
    assert Replayer(workflows=[loc.FailureA], strict_result=True).replay_sync(
        moved).replay_failure is None
    err = strict_divergence(loc.FailureB, history)
    assert err.expected == (f"WorkflowFailed(failure=Declined('card declined', "
                            f"details=['visa'])) (event {end.event_id})")
    assert err.actual == "WorkflowFailed(failure=Declined('card expired'))"


def test_strict_results_compare_continue_as_new_arguments() -> None:
    history = ended(loc.ContinueArgsA, 1)
    err = strict_divergence(loc.ContinueArgsB, history)
    assert err.expected == f"WorkflowContinuedAsNew(args=[2]) (event {err.event_id})"
    assert err.actual == "WorkflowContinuedAsNew(args=[3])"


def test_strict_results_pass_histories_that_end_as_recorded() -> None:
    for cls, args in ((loc.ResultA, ("Ada",)), (loc.FailureA, ()), (loc.ContinueArgsA, (1,))):
        result = Replayer(workflows=[cls], strict_result=True).replay_sync(ended(cls, *args))
        assert result.replay_failure is None, cls
    recorded = ended(loc.ResultA, "Ada")
    ending = WorkflowTerminated(event_id=4, time=recorded.events[2].time, reason="stop")
    terminated = History(recorded.run_id, [*recorded.events[:3], ending])
    assert Replayer(workflows=[loc.ResultA], strict_result=True).replay_sync(
        terminated).status == "terminated"


# --- nondeterministic code: the code fingerprint matches ------------------------------------


def settings_history() -> History:
    """GlobalSettingsWorkflow for Ada, recorded with the module's settings as they are."""
    d = WorkflowDriver(nondeterministic.GlobalSettingsWorkflow, "Ada")
    d.run_timers()
    (scheduled,) = d.open_activities()
    d.complete_activity(scheduled)
    d.step()
    assert d.instance.closed
    return d.history()


def replay_settings(history: History, *, strict_result: bool = False) -> NondeterminismError:
    with pytest.raises(NondeterminismError) as err:
        Replayer(workflows=[nondeterministic.GlobalSettingsWorkflow],
                 strict_result=strict_result).replay_sync(history)
    return err.value


def test_unchanged_code_that_diverges_is_called_nondeterministic(
        monkeypatch: pytest.MonkeyPatch) -> None:
    history = settings_history()
    monkeypatch.setitem(nondeterministic.SETTINGS, "activity", "charge_card")
    err = replay_settings(history)
    assert err.code_changed is False and not err.in_result
    text = str(err)
    assert "the code now issued ActivityScheduled(activity_type='charge_card') at " in text
    assert "code fingerprint matches), so the code is nondeterministic" in text
    for cause in ("iterating over a set", "workflow.random()", "workflow.now()",
                  "module or class globals", "workflow.wait"):
        assert cause in text, cause
    assert "workflow.patched('my-change')" not in text


def test_unchanged_code_that_ends_otherwise_is_called_nondeterministic(
        monkeypatch: pytest.MonkeyPatch) -> None:
    history = settings_history()
    monkeypatch.setitem(nondeterministic.SETTINGS, "greeting", "Hi")
    err = replay_settings(history, strict_result=True)
    assert (err.code_changed, err.in_result) == (False, True)
    assert "so the code is nondeterministic" in str(err)


def with_fingerprints(history: History, fingerprint: Any) -> History:
    """``history`` with each WorkflowTaskCompleted's fingerprint set by ``fingerprint(i)``."""
    events: list[Event] = []
    for e in history.events:
        if isinstance(e, WorkflowTaskCompleted):
            e = attrs.evolve(e, code_fingerprint=fingerprint(len(events)))
        events.append(e)
    return History(history.run_id, events)


def test_a_history_without_fingerprints_keeps_the_patched_hint(
        monkeypatch: pytest.MonkeyPatch) -> None:
    history = with_fingerprints(settings_history(), lambda _: "")
    monkeypatch.setitem(nondeterministic.SETTINGS, "activity", "charge_card")
    err = replay_settings(history)
    assert err.code_changed is None
    assert "`if workflow.patched('my-change'):`" in str(err)


def test_a_run_recorded_partly_by_other_code_counts_as_changed_code(
        monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = settings_history()
    first = next(i for i, e in enumerate(recorded.events)
                 if isinstance(e, WorkflowTaskCompleted))
    current = recorded.events[first].code_fingerprint  # type: ignore[attr-defined]
    history = with_fingerprints(recorded, lambda i: "0" * 16 if i == first else current)
    monkeypatch.setitem(nondeterministic.SETTINGS, "activity", "charge_card")
    err = replay_settings(history)
    assert err.code_changed is True
    assert "`if workflow.patched('my-change'):`" in str(err)
