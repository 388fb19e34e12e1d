"""Hostile: a workflow whose every name, id and message carries terminal control sequences.

``EVIL`` retitles the terminal (OSC 0), rings the bell, clears the screen, opens
a C1 control sequence (U+009B), reverses the text direction (U+202E) and ends
with DEL. The CLI must show all of it as visible escapes (tests/replay/test_cli_escape.py).
"""

from __future__ import annotations

from datetime import timedelta

import attrs

from replay import activity, workflow
from replay.exceptions import ActivityError, ApplicationError
from replay.history import (
    ActivityFailed,
    ChildWorkflowFailed,
    Event,
    ExternalSignalFailed,
    Failure,
    History,
    UpdateCompleted,
    WorkflowFailed,
    WorkflowStarted,
    WorkflowTaskCompleted,
    WorkflowTaskFailed,
)
from replay.testing import WorkflowDriver

EVIL = "\u001b]0;PWNED\u0007\u001b[2J\u009b31m\u202e\u007f"


@activity.defn(name="act" + EVIL)
async def hostile_activity(text: str) -> str:
    raise ApplicationError(text)


@workflow.defn(name="Hostile" + EVIL)
class Hostile:
    def __init__(self) -> None:
        self.notes: list[str] = []

    @workflow.run
    async def run(self, note: str) -> str:
        self.notes.append(note)
        await workflow.wait_condition(lambda: len(self.notes) > 1)
        try:
            await workflow.execute_activity(hostile_activity, note,
                                            start_to_close_timeout=timedelta(seconds=10))
        except ActivityError:
            self.notes.append("activity failed " + EVIL)
        raise ApplicationError("workflow failed " + EVIL, EVIL, non_retryable=True)

    @workflow.signal(name="sig" + EVIL)
    def note(self, text: str) -> None:
        self.notes.append(text)

    @workflow.query(name="notes" + EVIL)
    def all_notes(self) -> list[str]:
        return self.notes


def hostile_history() -> History:
    """A failed run of Hostile: every string field it records holds EVIL."""
    d = WorkflowDriver(Hostile, "arg " + EVIL, run_id="run" + EVIL, workflow_id="wf" + EVIL)
    d.step()
    d.signal("sig" + EVIL, "signal " + EVIL)
    d.step()
    (scheduled,) = d.open_activities()
    d.fail_activity(scheduled, ApplicationError("activity message " + EVIL))
    d.step()
    recorded = d.history()
    return History(recorded.run_id, [_poisoned(e) for e in recorded.events])


#: The events that carry a failure (tests/replay/test_cli_escape.py checks the list is complete).
FAILING = (ActivityFailed, ChildWorkflowFailed, ExternalSignalFailed, UpdateCompleted,
           WorkflowFailed, WorkflowTaskFailed)


def _poisoned(event: Event) -> Event:
    """The fields replay does not match on, filled with EVIL too."""
    if isinstance(event, WorkflowStarted):
        return attrs.evolve(event, task_queue="queue" + EVIL, memo={"memo" + EVIL: EVIL})
    if isinstance(event, WorkflowTaskCompleted):
        return attrs.evolve(event, identity="worker" + EVIL)
    if isinstance(event, FAILING) and event.failure is not None:
        cause = Failure(message="cause " + EVIL, type="Cause" + EVIL, stack_trace=EVIL)
        return attrs.evolve(event, failure=attrs.evolve(
            event.failure, stack_trace="stack " + EVIL, cause=cause))
    return event
