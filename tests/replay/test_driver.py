"""The WorkflowDriver (replay/_driver.py): by-hand inputs, open commands, closed runs."""

from __future__ import annotations

import pytest

from replay.history import RunClosedError
from replay.testing import WorkflowDriver

from .support import kinds
from .workflows import api_samples as s
from .workflows import asyncio_samples as a
from .workflows.greeting import ApproveInput, GreetingWorkflow, Language
from .workflows.handlers import LockedUpdatesWorkflow


def test_step_without_input_records_nothing() -> None:
    d = WorkflowDriver(GreetingWorkflow)
    assert kinds(d.step()) == ["WorkflowTaskCompleted"]
    assert d.step() == []
    assert len(d.events) == 2


def test_inputs_to_a_closed_run_are_refused_and_change_nothing() -> None:
    d = WorkflowDriver(GreetingWorkflow)
    d.step()
    d.signal("approve", ApproveInput("Ann"))
    d.step()
    assert d.instance.closed
    before = list(d.events)
    with pytest.raises(RunClosedError) as err:
        d.signal("approve", ApproveInput("Bob"))
    assert str(err.value) == (
        "[RPL-S04] cannot deliver SignalReceived to run 'run-1': the run is closed. Nothing "
        "was written; start a new run or address the newest run of the workflow id."
    )
    with pytest.raises(RunClosedError):
        d.cancel()
    assert d.events == before
    d.history()  # still a valid history


def test_open_commands_follow_results_and_cancellations() -> None:
    d = WorkflowDriver(a.WaitForWorkflow)
    d.step()
    [activity] = d.open_activities()
    [timer] = d.open_timers()
    d.fire_next_timer()
    assert d.open_timers() == []
    d.step()  # the timeout asks the activity to stop: it is no longer open
    assert d.open_activities() == []
    assert (timer.event_id, activity.event_id) == (2, 3)
    assert kinds(d.events[4:6]) == ["TimerFired", "ActivityCancelRequested"]
    assert [t.event_id for t in d.open_timers()] == [7]  # wait_for's second timer


def test_children_and_external_signals_are_tracked() -> None:
    d = WorkflowDriver(s.ParentWithChildrenWorkflow)
    d.step()
    [child] = d.open_children()
    d.complete_child(child, 1)
    d.step()
    d.complete_child(d.open_children()[0], 2)
    d.step()
    assert d.open_children() == []
    d.deliver_external_signals()
    d.deliver_external_signals()  # nothing left to deliver the second time
    assert kinds(d.events).count("ExternalSignalDelivered") == 1


def test_update_outcomes_in_delivery_order() -> None:
    d = WorkflowDriver(GreetingWorkflow)
    d.step()
    ids = [d.update("set_language", lang)
           for lang in (Language.French, Language.Chinese, Language.Spanish)]
    d.step()
    assert list(d.update_outcomes) == ids
    assert [o.accepted for o in d.update_outcomes.values()] == [False, True, False]


def test_run_timers_stops_when_nothing_is_open() -> None:
    d = WorkflowDriver(LockedUpdatesWorkflow)
    d.run_timers()
    assert not d.instance.closed
    assert kinds(d.events) == ["WorkflowStarted", "WorkflowTaskCompleted"]
