"""WorkflowInstance: one run's live workflow object and its activation cycle.

``activate`` delivers a batch of inputs (in history order), then update
requests, runs the deterministic loop until nothing is ready and returns the
commands produced. ``commit_live`` numbers them as new events;
``commit_replay`` matches them against recorded ones (see ``_matching``).
Handler dispatch lives in ``_handlers``, source locations in ``_locations``.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from asyncio import events
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

import replay.history as history
from replay.history import (
    CancelRequested,
    Event,
    Failure,
    MarkerRecorded,
    PayloadConverter,
    PayloadError,
    SignalReceived,
    WorkflowStarted,
    WorkflowTaskCompleted,
)

from . import _matching
from ._commands import (
    TERMINAL_COMMANDS,
    ActivityCommand,
    CancelCommand,
    ChildCommand,
    Command,
    CompleteCommand,
    ContinueAsNewCommand,
    FailCommand,
    SignalExternalCommand,
    TimerCancelCommand,
    TimerCommand,
)
from ._common import RawValue
from ._definition import WorkflowDefinition
from ._exceptions import (
    ContinueAsNewError,
    FailureError,
    ReadOnlyContextError,
    WorkflowTaskError,
)
from ._failure import to_failure
from ._guard import GuardHooks
from ._handlers import HandlerDispatch
from ._info import WorkflowInfo
from ._locations import awaiting_location, caller_location, mark_boundary, traceback_location
from ._loop import DurableTimerHandle, WorkflowEventLoop


@attrs.frozen
class UpdateDelivery:
    """An update for this activation: a live request, or an acceptance being replayed."""

    update_id: str
    name: str
    args: list[Any]
    validate: bool = True


@attrs.frozen
class ActivationResult:
    """What one activation produced."""

    commands: list[Command]
    rejected_updates: list[tuple[str, Failure]]


class WorkflowInstance(HandlerDispatch):
    """The live object of one run, driven one activation at a time.

    Handler dispatch (signals, updates, queries) comes from :class:`HandlerDispatch`.
    """

    def __init__(self, definition: WorkflowDefinition, *, run_id: str,
                 started: WorkflowStarted, converter: PayloadConverter | None = None,
                 guard: GuardHooks | None = None) -> None:
        self.definition = definition
        self.run_id = run_id
        self.started = started
        self.converter = converter or history.default_converter()
        self.guard = guard
        # the I/O methods are filled in as errors after the class body, unseen by mypy
        self.loop = WorkflowEventLoop(self)  # type: ignore[abstract]
        self.loop.instance = self  # type: ignore[attr-defined]  # found by the runtime API
        self.random = random.Random(started.random_seed)
        self.info = WorkflowInfo.from_started(run_id, started)
        self.workflow: Any = None
        self.now: datetime = started.time
        self.last_event_id = 0
        self.replaying = False
        self.closed = False
        self.terminal: Command | None = None
        self.result_payload: Any = None
        self.failure: Failure | None = None
        self.seq: dict[str, int] = {}
        self._main: asyncio.Task[Any] | None = None
        self._commands: list[Command] = []
        self._open: dict[int, Command] = {}
        self._conditions: list[tuple[Callable[[], bool], asyncio.Future[bool]]] = []
        self._patches: dict[str, bool] = {}
        self._recorded_patches: frozenset[str] = frozenset()
        self._task_failure: tuple[BaseException, str | None] | None = None
        self._cancel_requested = False
        self._init_handlers()

    # --- the activation cycle ----------------------------------------------------------

    def activate(self, inputs: Sequence[Event], updates: Sequence[UpdateDelivery],
                 time: datetime, *, replaying: bool = False,
                 recorded: Sequence[Event] = ()) -> ActivationResult:
        """Deliver inputs then updates, run until quiescent, return the commands."""
        self.replaying = replaying
        self.now = time
        self.loop.set_time(time.timestamp())
        self._commands = []
        self._rejected = []
        self._recorded_patches = frozenset(
            e.marker_id for e in recorded if isinstance(e, MarkerRecorded) and e.name == "patch"
        )
        with self._entered():
            for event in inputs:
                self.last_event_id = event.event_id
                _DISPATCH[type(event)](self, event)
            for update in updates:
                # queued behind the handlers the inputs started, so that a validator sees
                # what the signals delivered before its update did (as a later activation
                # would): acceptance must not depend on how inputs were batched
                self.loop.call_soon(self._deliver_update, update)
            self._drain()
        if self._task_failure is not None:
            exc, location = self._task_failure
            raise WorkflowTaskError(run_id=self.run_id, workflow_type=self.info.workflow_type,
                                    cause=exc, location=location) from exc
        commands = [c for c in self._commands
                    if not (isinstance(c, TimerCommand) and c.canceled)]
        if self.terminal is not None:
            commands.append(self.terminal)
            self._warn_unfinished_handlers()
        return ActivationResult(commands=commands, rejected_updates=self._rejected)

    def commit_live(self, result: ActivationResult, time: datetime,
                    identity: str = "") -> list[Event]:
        """Number the commands as new events, closing the task unless the run ended."""
        out: list[Event] = []
        eid = self.last_event_id
        for cmd in result.commands:
            eid += 1
            self._assign(cmd, eid)
            out.append(cmd.to_event(eid, time))
        if self.terminal is None:
            eid += 1
            out.append(WorkflowTaskCompleted(event_id=eid, time=time, identity=identity))
        else:
            self.closed = True
        self.last_event_id = eid
        return out

    def commit_replay(self, result: ActivationResult, recorded: Sequence[Event],
                      closing: Event) -> None:
        """Match the commands against the recorded ones; NondeterminismError if they differ."""
        _matching.match(self, result.commands, recorded, closing)
        self.last_event_id = closing.event_id
        if self.terminal is not None:
            self.closed = True

    def _assign(self, cmd: Command, event_id: int) -> None:
        cmd.event_id = event_id
        if isinstance(cmd, ActivityCommand | TimerCommand | ChildCommand |
                      SignalExternalCommand):
            self._open[event_id] = cmd

    def _entered(self) -> _Entered:
        return _Entered(self)

    def _drain(self) -> None:
        while True:
            self.loop.run_until_quiescent()
            if self._task_failure is not None or not self._resolve_one_condition():
                return

    def _resolve_one_condition(self) -> bool:
        conditions = self._conditions
        i = 0
        while i < len(conditions):
            fn, fut = conditions[i]
            if fut.done():
                del conditions[i]
                continue
            try:
                ok = fn()
            except Exception as exc:  # a predicate that raises is a workflow bug
                self.fail_task(exc)
                return False
            if ok:
                del conditions[i]
                fut.set_result(True)
                return True
            i += 1
        return False

    # --- inputs ------------------------------------------------------------------------

    def _on_started(self, event: Event) -> None:
        assert isinstance(event, WorkflowStarted)
        d = self.definition
        cls = d.cls
        if d.name is None:
            args: list[Any] = [[RawValue(p) for p in event.args]]
        else:
            args = self.decode_args(d.run, event.args, "workflow")
        obj: Any = object.__new__(cls)
        try:
            if d.init_takes_args:
                obj.__init__(*args)
            else:
                obj.__init__()
        except Exception as exc:
            self.fail_task(exc)
            return
        self.workflow = obj
        self._main = self.loop.create_task(d.run.fn(obj, *args), name="workflow-run")
        self._main.add_done_callback(self._on_main_done)

    def _on_cancel(self, event: Event) -> None:
        assert isinstance(event, CancelRequested)
        self._cancel_requested = True
        if self._main is not None and not self._main.done():
            self._main.cancel(event.reason or None)

    def _on_result(self, event: Event) -> None:
        field, _ = history.REFERENCES[type(event)]
        ref = getattr(event, field)
        cmd = self._open.get(ref)
        if cmd is None:
            raise history.InternalError(
                f"run {self.run_id!r} event {event.event_id}: "
                f"{type(event).__name__} refers to event {ref}, which is not an open command"
            )
        del self._open[ref]
        cmd.resolve(event)

    # --- completion --------------------------------------------------------------------

    def _is_failure(self, exc: BaseException) -> bool:
        return isinstance(exc, (FailureError, self.definition.failure_exception_types))

    def _on_main_done(self, task: asyncio.Task[Any]) -> None:
        if self.terminal is not None:
            return
        if task.cancelled():
            self.terminal = CancelCommand()
            return
        exc = task.exception()
        if exc is None:
            try:
                self.result_payload = self.converter.to_payload(task.result())
            except PayloadError as perr:
                self.fail_task(perr)
                return
            self.terminal = CompleteCommand(self.result_payload)
        elif isinstance(exc, ContinueAsNewError):
            self.terminal = ContinueAsNewCommand(
                new_run_id=str(self.uuid4()),
                workflow_type=exc.workflow or self.info.workflow_type,
                task_queue=exc.task_queue or self.info.task_queue,
                args=self.converter.to_payloads(exc.args),
                memo=self.converter.to_payload(exc.memo) if exc.memo else {},
            )
        elif self._is_failure(exc):
            self.failure = to_failure(exc, self.converter)
            self.terminal = FailCommand(self.failure)
        else:
            self.fail_task(exc)

    def fail_task(self, exc: BaseException) -> None:
        """Record a bug in workflow code: the activation fails and nothing is committed."""
        if self._task_failure is None:
            self._task_failure = (exc, traceback_location(exc))

    # --- used by the runtime API (replay.workflow) ---------------------------------------

    def ensure_writable(self, what: str) -> None:
        """Raise ReadOnlyContextError while a query handler or update validator runs.

        Called before a command draws a sequence number or random bits, so that a
        refused command leaves the run exactly as it was.
        """
        if self.loop.read_only is not None:
            raise ReadOnlyContextError(what, self.loop.read_only)

    def add_command(self, cmd: Command) -> None:
        """Record a command issued by workflow code, with the user line that issued it."""
        self.ensure_writable(cmd.event_type.__name__)
        if self.terminal is not None and not isinstance(cmd, TERMINAL_COMMANDS):
            return  # the run has ended in this activation; later commands are dropped
        cmd.location = caller_location()
        self._commands.append(cmd)

    def next_seq(self, kind: str) -> int:
        n = self.seq.get(kind, 0) + 1
        self.seq[kind] = n
        return n

    def start_timer(self, handle: DurableTimerHandle) -> None:
        """TimerSink: a delayed callback becomes a durable timer command."""
        delay = handle.when() - self.loop.time()
        fire_at = datetime.fromtimestamp(handle.when(), tz=UTC)
        cmd = TimerCommand(seq=self.next_seq("timer"), duration=timedelta(seconds=delay),
                           fire_at=fire_at, handle=handle)
        handle.command = cmd
        self.add_command(cmd)

    def cancel_timer(self, handle: DurableTimerHandle) -> None:
        """TimerSink: a timer's callback was cancelled before it fired."""
        cmd = handle.command
        if not isinstance(cmd, TimerCommand) or cmd.canceled:
            return
        if cmd.event_id == 0:
            cmd.canceled = True  # started and cancelled in one activation: record neither
            return
        if self._open.pop(cmd.event_id, None) is None:
            return  # it already fired
        cmd.canceled = True
        self.add_command(TimerCancelCommand(cmd))

    def add_condition(self, fn: Callable[[], bool]) -> asyncio.Future[bool]:
        fut: asyncio.Future[bool] = self.loop.create_future()
        self._conditions.append((fn, fut))
        return fut

    def patched(self, patch_id: str, *, deprecated: bool = False) -> bool:
        from ._commands import MarkerCommand

        self.ensure_writable("workflow.patched()")
        known = self._patches.get(patch_id)
        if known is not None:
            return known
        use_new = deprecated or not self.replaying or patch_id in self._recorded_patches
        if use_new:
            self.add_command(MarkerCommand(name="patch", marker_id=patch_id,
                                           deprecated=deprecated))
        self._patches[patch_id] = use_new
        return use_new

    def uuid4(self) -> uuid.UUID:
        return uuid.UUID(int=self.random.getrandbits(128), version=4)

    def waiting_location(self) -> str | None:
        """``file:line`` where the run function waits (innermost workflow-code frame)."""
        task = self._main
        if task is None or task.done():
            return None
        return awaiting_location(task.get_coro())

    def open_command(self, event_id: int) -> Command | None:
        """The command recorded as event ``event_id`` if it still awaits its result."""
        return self._open.get(event_id)

    def pending(self) -> dict[str, list[str]]:
        """Open commands and running handlers, for debugging."""
        return {
            "commands": [f"event {eid}: {cmd.describe()}" for eid, cmd in self._open.items()],
            "handlers": self._running_handlers(),
        }


class _Entered:
    """Makes the instance's loop the running loop (and the guard active) for a block."""

    __slots__ = ("_inst", "_previous", "_token")

    def __init__(self, inst: WorkflowInstance) -> None:
        self._inst = inst
        self._previous: asyncio.AbstractEventLoop | None = None
        self._token: Any = None

    def __enter__(self) -> None:
        self._previous = events._get_running_loop()
        events._set_running_loop(self._inst.loop)
        guard = self._inst.guard
        if guard is not None:
            self._token = guard.enter(self._inst)

    def __exit__(self, *exc: object) -> None:
        guard = self._inst.guard
        if guard is not None:
            guard.exit(self._token)
        events._set_running_loop(self._previous)


# a command issued below these frames without workflow code in between is the engine's own
mark_boundary(WorkflowInstance.activate, WorkflowInstance.query,
              WorkflowEventLoop.run_until_quiescent)

_DISPATCH: dict[type[Event], Callable[[WorkflowInstance, Event], None]] = {
    WorkflowStarted: WorkflowInstance._on_started,
    SignalReceived: WorkflowInstance._on_signal,
    CancelRequested: WorkflowInstance._on_cancel,
}
for _kind in history.INPUT_KINDS:
    if _kind not in _DISPATCH:
        _DISPATCH[_kind] = WorkflowInstance._on_result

