"""Durable timers: the loop's delayed callbacks become timer commands of the run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from ._command_base import Command
from ._command_log import CommandLog
from ._commands import TimerCancelCommand, TimerCommand
from ._loop import DurableTimerHandle


class CommandSink(Protocol):
    """Where timer commands go (the run's WorkflowInstance)."""

    def add_command(self, cmd: Command) -> None: ...


class DurableTimers:
    """The TimerSink of one run's loop: starts and cancels its timer commands."""

    # the run itself, not its bound add_command: one object less per cached run
    __slots__ = ("_log", "_run")

    def __init__(self, log: CommandLog, run: CommandSink) -> None:
        self._log = log
        self._run = run

    def start_timer(self, handle: DurableTimerHandle) -> None:
        """A delayed callback becomes a durable timer command."""
        delay = handle.when() - handle.workflow_loop.time()
        fire_at = datetime.fromtimestamp(handle.when(), tz=UTC)
        cmd = TimerCommand(seq=self._log.next_seq("timer"), duration=timedelta(seconds=delay),
                           fire_at=fire_at, handle=handle)
        handle.command = cmd
        self._run.add_command(cmd)

    def cancel_timer(self, handle: DurableTimerHandle) -> None:
        """A timer's callback was cancelled before it fired."""
        cmd = handle.command
        if not isinstance(cmd, TimerCommand) or cmd.canceled:
            return
        if cmd.event_id == 0:
            cmd.canceled = True  # started and cancelled in one activation: record neither
            return
        if not self._log.close(cmd.event_id):
            return  # it already fired
        cmd.canceled = True
        self._run.add_command(TimerCancelCommand(cmd))
