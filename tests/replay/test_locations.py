"""Source locations of commands (replay/_locations.py).

A command issued by workflow code points at the line that issued it; one the
engine issues itself (an update's acceptance, its completion from a task's
done-callback) has no location, not the line of whatever called the engine.
"""

from __future__ import annotations

import inspect

from replay._core._command_base import Command
from replay._core._commands import (
    ActivityCommand,
    UpdateAcceptedCommand,
    UpdateCompletedCommand,
)
from replay._core._handlers import UpdateDelivery
from replay._core._locations import format_location
from replay.history import ActivityCompleted, ActivityScheduled
from replay.testing import WorkflowDriver

from .workflows import greeting
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
