"""The commands of one run: those issued in the current activation, and those
recorded that still await their result (an activity, a timer, a child...)."""

from __future__ import annotations

import types
from collections.abc import Mapping

import replay.history as history
from replay.history import Event

from ._command_base import Command
from ._commands import ActivityCommand, ChildCommand, SignalExternalCommand, TimerCommand

_AWAITING = (ActivityCommand, TimerCommand, ChildCommand, SignalExternalCommand)
"""Commands whose recorded event is later referred to by a result event."""


_NOTHING_OPEN: Mapping[int, Command] = types.MappingProxyType({})


class CommandLog:
    """Issued commands of one activation, open commands by event id, sequence numbers.

    Its lists and tables are created as the run first needs them: a worker keeps many
    idle runs in memory, and many of them have issued nothing yet.
    """

    __slots__ = ("_issued", "_open", "_run_id", "_seq")

    def __init__(self, run_id: str) -> None:
        self._run_id = run_id
        self._issued: list[Command] | None = None
        self._open: dict[int, Command] | None = None
        self._seq: dict[str, int] | None = None

    def start_activation(self) -> None:
        self._issued = None

    def issue(self, cmd: Command) -> None:
        """Add a command of this activation."""
        if self._issued is None:
            self._issued = [cmd]
        else:
            self._issued.append(cmd)

    def issued(self) -> list[Command]:
        """This activation's commands, less timers started and cancelled within it."""
        if self._issued is None:
            return []
        return [c for c in self._issued if not (isinstance(c, TimerCommand) and c.canceled)]

    def next_seq(self, kind: str) -> int:
        """The next sequence number of commands of ``kind`` (1, 2, ... per run)."""
        if self._seq is None:
            self._seq = {kind: 1}
            return 1
        n = self._seq[kind] = self._seq.get(kind, 0) + 1
        return n

    def assign(self, cmd: Command, event_id: int) -> None:
        """Record that ``cmd`` is event ``event_id`` (one that awaits a result stays open)."""
        cmd.event_id = event_id
        if isinstance(cmd, _AWAITING):
            if self._open is None:
                self._open = {}
            self._open[event_id] = cmd

    @property
    def _opened(self) -> Mapping[int, Command]:
        return _NOTHING_OPEN if self._open is None else self._open

    def resolve(self, event: Event) -> None:
        """Deliver a result event to the open command it refers to, closing it."""
        field, _ = history.REFERENCES[type(event)]
        ref = getattr(event, field)
        cmd = None if self._open is None else self._open.pop(ref, None)
        if cmd is None:
            raise history.InternalError(
                f"run {self._run_id!r} event {event.event_id}: "
                f"{type(event).__name__} refers to event {ref}, which is not an open command"
            )
        cmd.resolve(event)

    def close(self, event_id: int) -> bool:
        """Close an open command without a result; False if it was not open."""
        return self._open is not None and self._open.pop(event_id, None) is not None

    def open_command(self, event_id: int) -> Command | None:
        """The command recorded as event ``event_id`` if it still awaits its result."""
        return self._opened.get(event_id)

    def open_children(self) -> list[ChildCommand]:
        """The children this run started whose result it has not seen yet."""
        return [c for c in self._opened.values() if isinstance(c, ChildCommand)]

    def describe_open(self) -> list[str]:
        """``event N: Kind(...)`` for each open command, for debugging."""
        return [f"event {eid}: {cmd.describe()}" for eid, cmd in self._opened.items()]
