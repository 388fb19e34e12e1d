"""Durable timers: the loop's delayed callbacks become timer commands of the run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from ._command_base import Command
from ._command_log import CommandLog
from ._commands import TimerCancelCommand, TimerCommand
from ._loop import TIMER_ENGINE_FRAMES, DurableTimerHandle

_ENGINE_FRAMES = 1 + TIMER_ENGINE_FRAMES
"""Engine frames above ``add_command``'s caller: ``start_timer``, then the loop's."""


class CommandSink(Protocol):
    """Where timer commands go (the run's WorkflowInstance)."""

    def add_command(self, cmd: Command, engine_frames: int = 0) -> None: ...


class DurableTimers:
    """The TimerSink of one run's loop: starts and cancels its timer commands."""

    # the run itself, not its bound add_command: one object less per cached run
    __slots__ = ("_log", "_run")

    def __init__(self, log: CommandLog, run: CommandSink) -> None:
        self._log = log
        self._run = run

    def start_timer(self, handle: DurableTimerHandle, delay: float) -> None:
        """A delayed callback becomes a durable timer command."""
        fire_at = datetime.fromtimestamp(handle.when(), tz=UTC)
        cmd = TimerCommand(seq=self._log.next_seq("timer"), duration=timedelta(seconds=delay),
                           fire_at=fire_at, handle=handle)
        handle.command = cmd
        # the user's line is above this frame and the loop's own (call_at's, call_later's)
        self._run.add_command(cmd, _ENGINE_FRAMES)

    def cancel_timer(self, handle: DurableTimerHandle) -> None:
        """A timer's callback was cancelled before it fired."""
        cmd = handle.command
        if not isinstance(cmd, TimerCommand) or cmd.canceled:
            return
        handle.command = None  # cancelled once (see TimerCommand.resolve)
        if cmd.event_id == 0:
            cmd.canceled = True  # started and cancelled in one activation: record neither
            return
        if not self._log.close(cmd.event_id):
            return  # it already fired
        cmd.canceled = True
        self._run.add_command(TimerCancelCommand(cmd))
