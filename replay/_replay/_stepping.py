"""One replay of a history through a fresh workflow instance, for the debugger.

The debugger runs one :class:`Replay` while it steps, starts a new one to move
back, and runs another aside to learn which lines issue commands. Each runs
recorded activations one at a time, keeps the source location of every
command event, and, when it is done with, discards its instance.
"""

from __future__ import annotations

import asyncio
from typing import Any

import attrs

from replay.history import Event, History, PayloadConverter, ReplayError

from .._core._command_base import Command, describe_event
from .._core._definition import WorkflowDefinition
from .._core._exceptions import NondeterminismError
from .._core._instance import WorkflowInstance
from .._core._teardown import unfinished_tasks
from ._breakpoints import short_path
from ._replayer import RecordedActivation

__all__ = ["Divergence", "Replay"]


@attrs.frozen
class Divergence:
    """Where replay stopped matching: the recorded commands against the code's."""

    error: ReplayError
    activation_start: int
    recorded: list[Event]
    issued: list[Command]

    @property
    def event_id(self) -> int | None:
        return self.error.event_id if isinstance(self.error, NondeterminismError) else None

    def side_by_side(self) -> str:
        """The activation's recorded commands and the code's commands, in two columns."""
        left = [f"{e.event_id:>4} {describe_event(e)}" for e in self.recorded]
        right = [c.describe() + (f"  @ {short_path(c.location[0])}:{c.location[1]}"
                                 if c.location else "")
                 for c in self.issued]
        rows = max(len(left), len(right))
        left += ["     (nothing)"] * (rows - len(left))
        right += ["(nothing)"] * (rows - len(right))
        width = max(len("history (expected)"), *(len(x) for x in left))
        bad = self.event_id
        lines = [f"   {'history (expected)'.ljust(width)} | code (actual)"]
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            rec = self.recorded[i] if i < len(self.recorded) else None
            mark = ">>" if rec is not None and rec.event_id == bad else "  "
            if rec is None and (bad is None or i == len(self.recorded)):
                mark = ">>"
            lines.append(f"{mark} {a.ljust(width)} | {b}")
        return "\n".join(lines)



class Replay:
    """One replay of the history through a fresh instance, activation by activation."""

    def __init__(self, definition: WorkflowDefinition, history: History,
                 converter: PayloadConverter) -> None:
        self.instance = WorkflowInstance(definition, run_id=history.run_id,
                                         started=history.started, converter=converter)
        self.executed = 0  # activations run so far
        self.locations: dict[int, tuple[str, int] | None] = {}
        self.interrupted = False  # an activation stopped halfway (Ctrl-C): state is partial

    def execute(self, act: RecordedActivation) -> Divergence | None:
        inst = self.instance
        result = None
        try:
            result = inst.activate(act.inputs, act.updates, act.closing.time, replaying=True,
                                   recorded=act.commands)
            inst.commit_replay(result, act.commands, act.closing)
        except ReplayError as exc:
            first = (act.inputs or act.commands or [act.closing])[0].event_id
            issued = list(result.commands) if result is not None else []
            return Divergence(exc, first, list(act.commands), issued)
        for cmd in result.commands:
            if cmd.event_id:
                self.locations[cmd.event_id] = cmd.location
        self.executed += 1
        return None

    def tasks(self) -> list[asyncio.Task[Any]]:
        """The instance's unfinished tasks in creation order."""
        return unfinished_tasks(self.instance.loop)

    def close(self) -> None:
        """Finish the instance's tasks (``WorkflowInstance.discard``)."""
        self.instance.discard()
