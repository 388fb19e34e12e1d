"""Replay matching: the code's commands against the recorded command events.

Walks both lists once, in order. Patch markers get Temporal's leniency: a
recorded *deprecated* patch marker the code no longer issues is skipped, and
a ``deprecate_patch`` marker the history does not hold is dropped. Anything
else that differs raises NondeterminismError at the first divergent event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from replay.history import Event, MarkerRecorded

from ._command_base import Command, describe_event
from ._commands import MarkerCommand
from ._exceptions import NondeterminismError
from ._locations import format_location


class ReplayedRun(Protocol):
    """What matching needs of the run being replayed (its WorkflowInstance)."""

    @property
    def run_id(self) -> str: ...

    @property
    def workflow_type(self) -> str: ...

    def assign(self, cmd: Command, event_id: int) -> None:
        """Record that ``cmd`` is the event ``event_id``."""
        ...

    def waiting_location(self) -> str | None:
        """``file:line`` where the run function waits."""
        ...


def match(inst: ReplayedRun, commands: Sequence[Command], recorded: Sequence[Event],
          closing: Event) -> None:
    """Give each command its recorded event id, or raise at the first mismatch.

    Ids are given in order as the walk goes, so a later command that refers to an
    earlier one (a cancellation) compares with the id just given.
    """
    i = j = 0
    n, m = len(commands), len(recorded)
    while i < n or j < m:
        cmd = commands[i] if i < n else None
        rec = recorded[j] if j < m else None
        if cmd is not None and rec is not None and cmd.matches(rec):
            inst.assign(cmd, rec.event_id)
            i += 1
            j += 1
        elif isinstance(rec, MarkerRecorded) and rec.name == "patch" and rec.deprecated:
            j += 1
        elif isinstance(cmd, MarkerCommand) and cmd.deprecated:
            i += 1
        else:
            raise _divergence(inst, cmd, rec, closing)


def _divergence(inst: ReplayedRun, cmd: Command | None, rec: Event | None,
                closing: Event) -> NondeterminismError:
    if rec is not None:
        expected = f"{describe_event(rec)} (event {rec.event_id})"
        event_id = rec.event_id
    else:
        expected = (f"no further command in this activation (it ends with "
                    f"{type(closing).__name__} at event {closing.event_id})")
        event_id = closing.event_id
    if cmd is not None:
        actual, location = cmd.describe(), format_location(cmd.location)
    else:  # the code issued nothing: point at where it waits instead
        actual, location = "no command", inst.waiting_location()
    return NondeterminismError(
        run_id=inst.run_id,
        workflow_type=inst.workflow_type,
        event_id=event_id,
        expected=expected,
        actual=actual,
        location=location,
    )
