"""Replay matching (replay/_matching.py): divergence is never silent.

Each case records a history with version A of a workflow and replays it
with version B (registered under the same type name): the replay must stop
at the first divergent event with a NondeterminismError that names the
run, the event, both sides and the line of B responsible.
"""

from __future__ import annotations

import inspect

import pytest

from replay.exceptions import NondeterminismError
from replay.history import History
from replay.testing import WorkflowDriver
from replay.worker import Replayer

from .workflows import versions as v


def drive_to_end(d: WorkflowDriver) -> WorkflowDriver:
    """Step, completing activities and firing timers, until the run ends or stalls."""
    for _ in range(100):
        d.step()
        if d.instance.closed:
            break
        if d.open_activities():
            d.complete_activity(d.open_activities()[0], "ok")
        elif not d.fire_next_timer():
            break
    return d


def divergent_line(cls: type) -> str:
    lines, start = inspect.getsourcelines(cls)
    offset = next(i for i, line in enumerate(lines) if "# B-DIVERGES" in line)
    return f"{v.__file__}:{start + offset}"


CASES = {
    "reorder two commands": (
        v.ReorderA, v.ReorderB, 2,
        "ActivityScheduled(activity_type='reserve') (event 2)",
        "ActivityScheduled(activity_type='charge')"),
    "rename an activity": (
        v.RenameA, v.RenameB, 5,
        "ActivityScheduled(activity_type='charge') (event 5)",
        "ActivityScheduled(activity_type='charge_card')"),
    "add a timer": (
        v.AddTimerA, v.AddTimerB, 5,
        "ActivityScheduled(activity_type='ship') (event 5)",
        "TimerStarted(duration=3600s)"),
    "drop an await": (
        v.DropAwaitA, v.DropAwaitB, 2,
        "ActivityScheduled(activity_type='validate') (event 2)",
        "ActivityScheduled(activity_type='charge')"),
    "change a timer duration": (
        v.DurationA, v.DurationB, 5,
        "TimerStarted(duration=60s) (event 5)",
        "TimerStarted(duration=90s)"),
    "history has commands the code no longer issues": (
        v.FewerA, v.FewerB, 3,
        "ActivityScheduled(activity_type='audit') (event 3)",
        "no command"),
    "code stops short of a completed history": (
        v.StuckA, v.StuckB, 5,
        "WorkflowCompleted() (event 5)",
        "no command"),
    "code issues commands beyond a completed history": (
        v.MoreA, v.MoreB, 5,
        "WorkflowCompleted() (event 5)",
        "ActivityScheduled(activity_type='notify')"),
    "code issues commands beyond a closed activation": (
        v.ExtraA, v.ExtraB, 3,
        "no further command in this activation (it ends with WorkflowTaskCompleted at "
        "event 3)",
        "ActivityScheduled(activity_type='notify')"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_changed_code_fails_replay_at_the_first_divergent_event(case: str) -> None:
    a_cls, b_cls, event_id, expected, actual = CASES[case]
    d = drive_to_end(WorkflowDriver(a_cls, run_id=f"run-{case[:6]}"))
    history = d.history()
    # version A itself replays cleanly
    assert (await Replayer(workflows=[a_cls]).replay_workflow(history)).replay_failure is None

    with pytest.raises(NondeterminismError) as info:
        await Replayer(workflows=[b_cls]).replay_workflow(history)
    err = info.value
    assert err.run_id == history.run_id
    assert err.workflow_type == history.workflow_type
    assert err.event_id == event_id
    assert err.expected == expected
    assert err.actual == actual
    assert err.location == divergent_line(b_cls)
    assert str(err) == (
        f"[RPL-ND01] nondeterminism in workflow {history.workflow_type!r} run "
        f"{history.run_id!r} at event {event_id}: the history holds {expected}, but the code "
        f"now issued {actual} at {err.location}. Replaying a history must reproduce the "
        "commands it recorded. If this change is intended, guard the new code with "
        "`if workflow.patched('my-change'):` so running workflows keep the old path."
    )

    # reported, not raised, when asked
    result = await Replayer(workflows=[b_cls]).replay_workflow(
        history, raise_on_replay_failure=False)
    assert result.status == "replay_failed"
    assert isinstance(result.replay_failure, NondeterminismError)
    assert result.replay_failure.event_id == event_id


async def test_divergence_is_found_in_every_prefix_that_reaches_it() -> None:
    d = drive_to_end(WorkflowDriver(v.AddTimerA))
    replayer = Replayer(workflows=[v.AddTimerB])
    for length in range(1, len(d.events) + 1):
        prefix = History(d.run_id, d.events[:length])
        result = await replayer.replay_workflow(prefix, raise_on_replay_failure=False)
        # the divergent command (event 5) is in an activation closed at event 6
        diverges = length >= 6
        assert (result.replay_failure is not None) == diverges, length
        if diverges:
            assert isinstance(result.replay_failure, NondeterminismError)
            assert result.replay_failure.event_id == 5
