"""Durable timers: the loop's delayed callbacks become timer commands of the run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ._command_base import Command
from ._command_log import CommandLog
from ._commands import TimerCancelCommand, TimerCommand
from ._loop import DurableTimerHandle


class DurableTimers:
    """The TimerSink of one run's loop: starts and cancels its timer commands."""

    def __init__(self, log: CommandLog, add_command: Callable[[Command], None]) -> None:
        self._log = log
        self._add_command = add_command

    def start_timer(self, handle: DurableTimerHandle) -> None:
        """A delayed callback becomes a durable timer command."""
        delay = handle.when() - handle.workflow_loop.time()
        fire_at = datetime.fromtimestamp(handle.when(), tz=UTC)
        cmd = TimerCommand(seq=self._log.next_seq("timer"), duration=timedelta(seconds=delay),
                           fire_at=fire_at, handle=handle)
        handle.command = cmd
        self._add_command(cmd)

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
        self._add_command(TimerCancelCommand(cmd))
