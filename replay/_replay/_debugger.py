"""The replay debugger: step a recorded history through workflow code.

Replay runs activation by activation: an activation consumes a group of
recorded events (its inputs, then the commands the code produced, closed by
WorkflowTaskCompleted or by the run's end; see ``split_activations``). The
debugger's cursor names one event. When the cursor *enters* an activation
(lands on its first event) the whole activation is executed and its commands
are matched against the recorded ones; moving the cursor through the rest of
that activation's events only moves the cursor. The state you inspect at any
event of an activation is therefore the state after that activation.

Activations run synchronously in the caller's thread with no guard, timers or
threads in the way, so ``breakpoint()`` / pdb work inside workflow code.
"""

from __future__ import annotations

import linecache
import os
from collections.abc import Sequence
from typing import Any

import attrs

from replay.history import (
    Event,
    History,
    PayloadConverter,
    ReplayError,
    default_converter,
)

from .._core._command_base import Command, describe_event
from .._core._exceptions import DebuggerNotReadyError, NondeterminismError
from .._core._instance import WorkflowInstance
from ._replayer import RecordedActivation, Split, WorkflowRegistry, split_activations

__all__ = ["Breakpoint", "Debugger", "Divergence", "Stop"]


@attrs.frozen
class Breakpoint:
    """Where to stop: an event ``kind`` name, an ``event_id``, or a ``file:line``.

    A ``file:line`` breakpoint stops at each command event issued by that line
    (``file`` matches the end of the path, so a base name is enough).
    """

    kind: str | None = None
    event_id: int | None = None
    file: str | None = None
    line: int | None = None

    @classmethod
    def parse(cls, spec: str | int) -> Breakpoint:
        """``7`` (event id), ``TimerStarted`` (kind) or ``workflows.py:42`` (file:line)."""
        if isinstance(spec, int):
            return cls(event_id=spec)
        text = spec.strip()
        if text.isdigit():
            return cls(event_id=int(text))
        path, sep, line = text.rpartition(":")
        if sep and path and line.isdigit():
            return cls(file=path, line=int(line))
        if not text.isidentifier():
            raise ValueError(
                f"cannot read breakpoint {spec!r}: use an event id (7), an event kind "
                "(TimerStarted) or file:line (workflows.py:42)")
        return cls(kind=text)

    def hit(self, event: Event, location: tuple[str, int] | None) -> bool:
        if self.event_id is not None:
            return event.event_id == self.event_id
        if self.kind is not None:
            return type(event).__name__.lower() == self.kind.lower()
        if location is None or self.file is None:
            return False
        file, line = location
        return line == self.line and _same_file(file, self.file)

    def __str__(self) -> str:
        if self.event_id is not None:
            return f"event {self.event_id}"
        if self.kind is not None:
            return self.kind
        return f"{self.file}:{self.line}"


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
        right = [c.describe() + (f"  @ {_short(c.location)}" if c.location else "")
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


@attrs.frozen
class Stop:
    """Why a movement stopped: ``step``, ``activation``, ``until``, ``breakpoint``,
    ``end`` or ``divergence`` (then ``divergence`` holds the details)."""

    reason: str
    event: Event | None
    breakpoint: Breakpoint | None = None
    divergence: Divergence | None = None


class Debugger:
    """Steps a history through workflow code, with breakpoints, state and queries.

    ``cursor`` is the id of the event the debugger stands on (0: before the
    first). See the module docstring for how events relate to activations.
    Nothing is executed but workflow code: activity results, timers and
    messages all come from the history.
    """

    def __init__(self, history: History, *, workflows: Sequence[type],
                 converter: PayloadConverter | None = None) -> None:
        self.history = history
        self.converter = converter or default_converter()
        registry = WorkflowRegistry(workflows)
        self.instance = WorkflowInstance(registry.get(history.workflow_type),
                                         run_id=history.run_id, started=history.started,
                                         converter=self.converter)
        tail = Split([], None)
        self.activations: list[RecordedActivation] = list(
            split_activations(history.events, tail))
        self._tail = tail
        self._activation_of: dict[int, int] = {}
        for index, act in enumerate(self.activations):
            first = (act.inputs or act.commands or [act.closing])[0].event_id
            for eid in range(first, act.closing.event_id + 1):
                self._activation_of[eid] = index
        self._executed = 0  # activations run so far
        self.locations: dict[int, tuple[str, int] | None] = {}
        self.breakpoints: list[Breakpoint] = []
        self.divergence: Divergence | None = None
        self._cursor = 0

    # --- position ------------------------------------------------------------------------

    @property
    def cursor(self) -> int:
        """The id of the current event; 0 before the first."""
        return self._cursor

    @property
    def event(self) -> Event | None:
        """The event at the cursor (None before the first)."""
        return self.history.events[self._cursor - 1] if self._cursor else None

    @property
    def at_end(self) -> bool:
        return self._cursor >= len(self.history.events)

    def activation_index(self, event_id: int | None = None) -> int | None:
        """Which recorded activation holds ``event_id`` (default: the cursor's); None
        for events after the last recorded activation (pending inputs, outside ends)."""
        return self._activation_of.get(self._cursor if event_id is None else event_id)

    # --- movement ------------------------------------------------------------------------

    def step(self) -> Stop:
        """Move to the next event, executing its activation if the cursor enters one."""
        if self.divergence is not None:
            return Stop("divergence", self.event, divergence=self.divergence)
        if self.at_end:
            return Stop("end", self.event)
        target = self._cursor + 1
        index = self._activation_of.get(target)
        if index is not None and index >= self._executed:
            failure = self._execute(index)
            if failure is not None:
                self.divergence = failure
                bad = failure.event_id
                self._cursor = bad if bad is not None else target
                return Stop("divergence", self.event, divergence=failure)
        elif index is None:
            self._pass_tail_event(target)
        self._cursor = target
        return Stop("step", self.event)

    def next(self) -> Stop:
        """Move to the end of the activation holding the next event (one activation)."""
        index = self._activation_of.get(self._cursor + 1)
        end = (self.activations[index].closing.event_id if index is not None
               else self._cursor + 1)
        return self._run(end, "activation")

    def until(self, event_id: int) -> Stop:
        """Move forward to ``event_id`` (or the first breakpoint before it)."""
        return self._run(event_id, "until")

    def continue_(self) -> Stop:
        """Move forward to the next breakpoint, divergence or the end of the history."""
        return self._run(len(self.history.events), "end")

    def _run(self, target: int, reason: str) -> Stop:
        if self._cursor >= target and not self.at_end:
            return Stop(reason, self.event)
        while True:
            stop = self.step()
            if stop.reason != "step":
                return stop
            assert stop.event is not None
            if self._cursor >= target:
                return Stop("end" if self.at_end and reason == "end" else reason, stop.event)
            hit = self._breakpoint_at(stop.event)
            if hit is not None:
                return Stop("breakpoint", stop.event, breakpoint=hit)

    def _breakpoint_at(self, event: Event) -> Breakpoint | None:
        location = self.locations.get(event.event_id)
        return next((b for b in self.breakpoints if b.hit(event, location)), None)

    def add_breakpoint(self, spec: str | int | Breakpoint) -> Breakpoint:
        """Stop ``until``/``continue_``/``next`` at an event kind, an event id or file:line."""
        bp = spec if isinstance(spec, Breakpoint) else Breakpoint.parse(spec)
        self.breakpoints.append(bp)
        return bp

    def clear_breakpoints(self) -> None:
        self.breakpoints.clear()

    # --- executing -----------------------------------------------------------------------

    def _execute(self, index: int) -> Divergence | None:
        act = self.activations[index]
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
        self._executed = index + 1
        return None

    def _pass_tail_event(self, event_id: int) -> None:
        if self._tail.ended_by is not None and event_id == self._tail.ended_by.event_id:
            self.instance.close_from_outside(event_id)

    # --- inspecting ----------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The workflow object's attributes ({} before the run method's activation)."""
        obj = self.instance.workflow
        if obj is None:
            return {}
        if hasattr(obj, "__dict__"):
            return dict(vars(obj))
        slots = [s for k in type(obj).__mro__ for s in getattr(k, "__slots__", ())]
        return {s: getattr(obj, s) for s in slots if hasattr(obj, s)}

    def query(self, name: str, *args: Any) -> Any:
        """Run a query handler on the workflow as it stands; returns the JSON payload."""
        if self.instance.workflow is None:
            raise DebuggerNotReadyError()
        return self.instance.query(name, self.converter.to_payloads(args))

    def pending(self) -> dict[str, list[str]]:
        """Open commands (timers, activities, children...) and running handlers."""
        return self.instance.pending()

    def where(self) -> str:
        """The workflow's await stack: where each of its tasks is suspended."""
        return self.instance.stack_trace()

    def location(self, event_id: int | None = None) -> tuple[str, int] | None:
        """The (file, line) of the code that issued command event ``event_id``."""
        return self.locations.get(self._cursor if event_id is None else event_id)

    def source(self, event_id: int | None = None) -> str | None:
        """``file:line: code`` of the line that issued the command at the cursor, or None
        (inputs, engine-issued events, the run's end)."""
        loc = self.location(event_id)
        if loc is None:
            return None
        text = linecache.getline(loc[0], loc[1]).strip()
        return f"{loc[0]}:{loc[1]}: {text}" if text else f"{loc[0]}:{loc[1]}"

    def events_around(self, before: int = 3, after: int = 3) -> list[Event]:
        """The events near the cursor."""
        lo = max(0, self._cursor - 1 - before)
        hi = min(len(self.history.events), max(self._cursor, 1) + after)
        return list(self.history.events[lo:hi])


def _same_file(actual: str, wanted: str) -> bool:
    a = os.path.normpath(actual)
    w = os.path.normpath(wanted)
    return a == w or a.endswith(os.sep + w.lstrip(os.sep))


def _short(location: tuple[str, int]) -> str:
    file, line = location
    try:
        rel = os.path.relpath(file)
    except ValueError:
        rel = file
    shown = rel if not rel.startswith("..") else file
    return f"{shown}:{line}"
