"""The replay debugger: step a recorded history through workflow code.

Replay runs activation by activation: an activation consumes a group of
recorded events (its inputs, then the commands the code produced, closed by
WorkflowTaskCompleted or by the run's end; see ``split_activations``). The
debugger's cursor names one event. When the cursor *enters* an activation
(lands on its first event) the whole activation is executed and its commands
are matched against the recorded ones; moving the cursor through the rest of
that activation's events only moves the cursor. The state you inspect at any
event of an activation is therefore the state after that activation.

Moving to an earlier event replays from the start (a fresh instance) up to
that event: workflow code cannot run backwards, but a replay is cheap and
reproduces the same state.

Activations run synchronously in the caller's thread with no guard, timers or
threads in the way, so ``breakpoint()`` / pdb work inside workflow code.
"""

from __future__ import annotations

import linecache
import sys
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import attrs

from replay.history import CodecRunner, Event, History, PayloadConverter

from .._core._data_converter import DataConverter
from .._core._exceptions import DebuggerNotReadyError
from .._core._instance import WorkflowInstance
from ._breakpoints import Breakpoint, CommandLines, check
from ._replayer import RecordedActivation, Split, WorkflowRegistry, split_activations
from ._stacks import TaskStack, user_stacks
from ._stepping import Divergence, Replay

__all__ = ["Debugger", "Divergence", "Stop"]


@attrs.frozen
class Stop:
    """Why a movement stopped: ``step``, ``activation``, ``until``, ``back``,
    ``breakpoint``, ``end`` or ``divergence`` (then ``divergence`` holds the details)."""

    reason: str
    event: Event | None
    breakpoint: Breakpoint | None = None
    divergence: Divergence | None = None


class Debugger:
    """Steps a history through workflow code, with breakpoints, state and queries.

    ``cursor`` is the id of the event the debugger stands on (0: before the
    first). See the module docstring for how events relate to activations.
    Nothing is executed but workflow code: activity results, timers and
    messages all come from the history. ``close()`` (or a ``with`` block)
    finishes the workflow's tasks when you are done.
    """

    def __init__(self, history: History, *, workflows: Sequence[type],
                 converter: PayloadConverter | None = None,
                 data_converter: DataConverter | None = None) -> None:
        """``data_converter`` (or a bare payload ``converter``) decodes the payloads; with a
        payload codec the history is decoded by it first (``self.history`` is decoded)."""
        if data_converter is not None and converter is not None:
            raise TypeError("Debugger: pass data_converter= or converter=, not both")
        chosen = (data_converter if data_converter is not None
                  else DataConverter.wrapping(converter) if converter is not None
                  else DataConverter.default)
        if chosen.payload_codec is not None:
            runner = CodecRunner(chosen.payload_codec)
            try:
                history = History(history.run_id, runner.decode(list(history.events)))
            finally:
                runner.close()
        self.data_converter = chosen
        self.history = history
        self.converter = chosen.payload_converter
        self.definition = WorkflowRegistry(workflows).get(history.workflow_type)
        tail = Split([], None)
        self.activations: list[RecordedActivation] = list(
            split_activations(history.events, tail))
        self._tail = tail
        self._activation_of: dict[int, int] = {}
        for index, act in enumerate(self.activations):
            first = (act.inputs or act.commands or [act.closing])[0].event_id
            for eid in range(first, act.closing.event_id + 1):
                self._activation_of[eid] = index
        self.breakpoints: list[Breakpoint] = []
        self.divergence: Divergence | None = None
        self._replay = Replay(self.definition, history, self.converter)
        self._cursor = 0
        self._command_lines: CommandLines | None = None

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

    @property
    def instance(self) -> WorkflowInstance:
        """The live workflow instance of the current replay (a new one after moving back)."""
        return self._replay.instance

    @property
    def locations(self) -> dict[int, tuple[str, int] | None]:
        """The (file, line) that issued each command event replayed so far."""
        return self._replay.locations

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
        if self._replay.interrupted:  # rebuild the state at the cursor first
            self._replay_to(self._cursor, "step")
        if index is not None and index >= self._replay.executed:
            try:
                failure = self._replay.execute(self.activations[index])
            except BaseException:  # Ctrl-C halfway through: the next move starts afresh
                self._replay.interrupted = True
                raise
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
        """Move to ``event_id``: forward (stopping early at a breakpoint), or back.

        Moving back replays from the start up to ``event_id`` in a fresh
        instance, without stopping at breakpoints (see :meth:`back`).
        """
        if event_id < 0:
            raise ValueError(f"there is no event {event_id}: event ids start at 1")
        if event_id < self._cursor:
            return self._replay_to(event_id, "until")
        return self._run(event_id, "until")

    def back(self, count: int = 1) -> Stop:
        """Move ``count`` events back by replaying from the start to that event.

        Workflow code cannot run backwards, so a fresh instance replays the
        history up to the earlier event (breakpoints do not stop it; a
        ``breakpoint()`` in workflow code runs again). The state is then the
        state at that event, and moving forward again works as before, also
        from a divergence.
        """
        if count < 0:
            raise ValueError("back moves a positive number of events")
        return self._replay_to(max(0, self._cursor - count), "back")

    def restart(self) -> Stop:
        """Go back to before the first event, with a fresh instance (breakpoints stay)."""
        return self._replay_to(0, "back")

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

    def _replay_to(self, target: int, reason: str) -> Stop:
        self._replay.close()
        self._replay = Replay(self.definition, self.history, self.converter)
        self.divergence = None
        self._cursor = 0
        while self._cursor < target:
            stop = self.step()
            if stop.reason != "step":
                return stop
        return Stop(reason, self.event)

    # --- breakpoints ---------------------------------------------------------------------

    def _breakpoint_at(self, event: Event) -> Breakpoint | None:
        location = self.locations.get(event.event_id)
        return next((b for b in self.breakpoints if b.hit(event, location)), None)

    def add_breakpoint(self, spec: str | int | Breakpoint) -> Breakpoint:
        """Stop ``until``/``continue_``/``next`` at an event kind, an event id or file:line.

        The breakpoint is checked first; :class:`BreakpointError` (a
        ``ValueError``) says why one could never stop: an event id outside the
        history, an unknown event kind, an unknown file, or a line that issues
        no command in this history (then with the nearest lines that do; see
        :meth:`command_lines`).
        """
        bp = spec if isinstance(spec, Breakpoint) else Breakpoint.parse(spec)
        lines = self.command_lines() if bp.file is not None else None
        check(bp, len(self.history.events), lines)
        self.breakpoints.append(bp)
        return bp

    def clear_breakpoints(self, number: int | None = None) -> None:
        """Remove breakpoint ``number`` (1-based, as listed), or every one."""
        if number is None:
            self.breakpoints.clear()
        elif 1 <= number <= len(self.breakpoints):
            del self.breakpoints[number - 1]
        else:
            raise ValueError(f"there is no breakpoint {number}")

    def command_lines(self) -> CommandLines:
        """The lines of code that issue commands in a replay of the whole history.

        Learnt once from a replay in a separate instance (``breakpoint()`` in
        workflow code is ignored during it), or from the current replay when it
        has already run every activation or diverged.
        """
        if self._command_lines is not None:
            return self._command_lines
        if self.divergence is not None or self._replay.executed == len(self.activations):
            seen, stopped = self._replay.locations, self._stopped_at(self.divergence)
        else:
            seen, stopped = self._scan()
        self._command_lines = CommandLines.of(seen.values(), stopped_at=stopped)
        return self._command_lines

    def _scan(self) -> tuple[dict[int, tuple[str, int] | None], int | None]:
        scan = Replay(self.definition, self.history, self.converter)
        previous, sys.breakpointhook = sys.breakpointhook, _ignore_breakpoint
        try:
            for act in self.activations:
                failure = scan.execute(act)
                if failure is not None:
                    return scan.locations, self._stopped_at(failure)
            return scan.locations, None
        finally:
            sys.breakpointhook = previous
            scan.close()

    @staticmethod
    def _stopped_at(failure: Divergence | None) -> int | None:
        if failure is None:
            return None
        return failure.event_id if failure.event_id is not None else failure.activation_start

    # --- executing -----------------------------------------------------------------------

    def _pass_tail_event(self, event_id: int) -> None:
        if self._tail.ended_by is not None and event_id == self._tail.ended_by.event_id:
            self.instance.close_from_outside(event_id)

    def close(self) -> None:
        """Finish the workflow's tasks (cancelled, as ``asyncio.run`` does at its end).

        Nothing is left for the garbage collector to report (a coroutine never
        awaited, one that ignored GeneratorExit). The debugger cannot be used
        afterwards.
        """
        self._replay.close()

    def __enter__(self) -> Debugger:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

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

    def query_names(self) -> list[str]:
        """The names of the query handlers the workflow class declares."""
        return sorted(n for n in self.definition.queries if n)

    def pending(self) -> dict[str, list[str]]:
        """Open commands (timers, activities, children...) and running handlers."""
        return self.instance.pending()

    def stacks(self) -> list[TaskStack]:
        """Each task's user stack (workflow-code frames, innermost last), in the order
        the tasks were created; tasks running only engine code are left out."""
        return user_stacks(self._replay.tasks())

    def where(self) -> str:
        """The workflow's await stacks: where each of its tasks is suspended, and how it
        got there ('' when no task is waiting)."""
        return "\n".join(s.format() for s in self.stacks())

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


def _ignore_breakpoint(*args: Any, **kwargs: Any) -> None:
    """``sys.breakpointhook`` while the debugger learns the command lines."""
