"""Divergence is never silent (DESIGN invariant 5), for random scripts and edits.

A random script of steps (activities, timers, emits) is recorded as version
A; a random edit of it (reorder two steps, rename an activity, add a timer,
drop a step, change a timer's duration, append steps, cut the tail) is
version B. A model of the command sequences predicts the first divergent
command; replaying A's history with B must fail exactly there, naming the
event, both sides and B's line, or succeed when the edit changed no command.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replay.exceptions import NondeterminismError
from replay.testing import WorkflowDriver
from replay.worker import Replayer
from tests.replay.workflows import scripted as scripted_module
from tests.replay.workflows.scripted import Step, scripted, step_lines

LINES = step_lines()

activity_names = st.sampled_from(["charge", "ship", "notify"])
steps = st.one_of(
    st.tuples(st.just("activity"), activity_names),
    st.tuples(st.just("timer"), st.integers(1, 3600)),
    st.tuples(st.just("emit"), st.integers(0, 9)),
)


EDITS = ["reorder two steps", "rename an activity", "add a timer", "drop a step",
         "change a timer duration", "append steps", "cut the tail"]


@st.composite
def scripts_and_edits(draw: st.DrawFn, edit: str) -> tuple[list[Step], list[Step]]:
    """A script with at least two steps (one of the kind the edit needs) and its edit."""
    a: list[Step] = draw(st.lists(steps, min_size=2, max_size=8), label="A")
    need = {"rename an activity": "activity", "change a timer duration": "timer"}.get(edit)
    if need is not None and all(k != need for k, _ in a):
        a.insert(draw(st.integers(0, len(a))), ("activity", "charge") if need == "activity"
                 else ("timer", draw(st.integers(1, 3600))))
    b = list(a)
    if edit == "add a timer":
        b.insert(draw(st.integers(0, len(b))), ("timer", draw(st.integers(1, 3600))))
    elif edit == "append steps":
        b.extend(draw(st.lists(steps, min_size=1, max_size=3)))
    elif edit == "reorder two steps":
        i = draw(st.integers(0, len(b) - 2))
        j = draw(st.integers(i + 1, len(b) - 1))
        b[i], b[j] = b[j], b[i]
    elif edit == "drop a step":
        del b[draw(st.integers(0, len(b) - 1))]
    elif edit == "cut the tail":
        del b[draw(st.integers(0, len(b) - 1)):]
    else:
        assert need is not None  # the two remaining edits change a step of one kind
        i = draw(st.sampled_from([n for n, (k, _) in enumerate(b) if k == need]))
        new = "refund" if need == "activity" else b[i][1] + draw(st.integers(1, 60))
        b[i] = (need, new)
    return a, b


def command(step: Step | None) -> tuple[str, str | None]:
    """What replay compares for a step (None: the run's completion), and where it is."""
    if step is None:
        return "WorkflowCompleted()", f"{scripted_module.__file__}:{LINES['return']}"
    kind, arg = step
    where = f"{scripted_module.__file__}:{LINES[kind]}"
    if kind == "activity":
        return f"ActivityScheduled(activity_type={arg!r})", where
    if kind == "timer":
        return f"TimerStarted(duration={arg}s)", where
    return "EventEmitted()", where


def drive_to_end(d: WorkflowDriver) -> WorkflowDriver:
    while True:
        d.step()
        if d.instance.closed:
            return d
        if d.open_activities():
            d.complete_activity(d.open_activities()[0], None)
        else:
            assert d.fire_next_timer()


@pytest.mark.parametrize("edit", EDITS)
@given(data=st.data())
def test_replaying_edited_code_fails_at_the_first_divergent_command(edit: str, data: Any
                                                                    ) -> None:
    a_script, b_script = data.draw(scripts_and_edits(edit))
    d = drive_to_end(WorkflowDriver(scripted(a_script), run_id="run-a"))
    history = d.history()
    a_commands = [command(s) for s in [*a_script, None]]
    b_commands = [command(s) for s in [*b_script, None]]
    # the recorded command events, in order, line up with A's commands
    recorded = [e for e in history.events if type(e).__name__ in {
        "ActivityScheduled", "TimerStarted", "EventEmitted", "WorkflowCompleted"}]
    assert len(recorded) == len(a_commands)

    diverge = next((k for k, (a, b) in enumerate(zip(a_commands, b_commands, strict=False))
                    if a[0] != b[0]), None)
    if diverge is None:
        assert len(a_commands) == len(b_commands)  # same commands: replay must succeed
        result = Replayer(workflows=[scripted(b_script)]).replay_sync(history)
        assert result.replay_failure is None
        assert result.result == len(a_script)
        return

    result = Replayer(workflows=[scripted(b_script)]).replay_sync(
        history, raise_on_replay_failure=False)
    err = result.replay_failure
    assert isinstance(err, NondeterminismError), edit
    event = recorded[diverge]
    actual, location = b_commands[diverge]
    assert err.run_id == "run-a"
    assert err.event_id == event.event_id
    assert err.expected == f"{a_commands[diverge][0]} (event {event.event_id})"
    assert err.actual == actual
    assert err.location == location
    assert str(err).startswith(f"[RPL-ND01] nondeterminism in workflow 'Scripted' run "
                               f"'run-a' at event {event.event_id}: ")
    assert "`if workflow.patched('my-change'):`" in str(err)
