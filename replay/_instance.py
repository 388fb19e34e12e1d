"""WorkflowInstance: one run's live workflow object and its activation cycle.

``activate`` delivers a batch of inputs (in history order), then update
requests, runs the deterministic loop until nothing is ready and returns the
commands produced. ``commit_live`` numbers them as new events;
``commit_replay`` matches them against recorded ones (see ``_matching``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sys
import uuid
from asyncio import events
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

import history
from history import (
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
    UpdateAcceptedCommand,
    UpdateCompletedCommand,
)
from ._common import RawValue
from ._definition import (
    HandlerDefinition,
    HandlerUnfinishedPolicy,
    WorkflowDefinition,
    _signature_types,
)
from ._exceptions import (
    ContinueAsNewError,
    FailureError,
    QueryFailedError,
    ReadOnlyContextError,
    UnknownQueryError,
    WorkflowTaskError,
)
from ._failure import to_failure
from ._guard import GuardHooks
from ._info import ParentInfo, WorkflowInfo
from ._loop import DurableTimerHandle, WorkflowEventLoop

log = logging.getLogger("replay.workflow")

_ENGINE_DIRS = tuple(
    os.path.dirname(p) + os.sep for p in (__file__, history.__file__, asyncio.__file__)
)


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


class WorkflowInstance:
    """The live object of one run, driven one activation at a time."""

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
        self.info = WorkflowInfo(
            workflow_id=started.workflow_id,
            run_id=run_id,
            workflow_type=started.workflow_type,
            task_queue=started.task_queue,
            start_time=started.time,
            first_execution_run_id=started.first_execution_run_id or run_id,
            continued_run_id=started.continued_from_run_id,
            parent=ParentInfo(workflow_id=started.parent_workflow_id,
                              run_id=started.parent_run_id)
            if started.parent_workflow_id and started.parent_run_id else None,
            memo=dict(started.memo),
        )
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
        self._handlers: dict[asyncio.Task[Any], tuple[HandlerDefinition, str]] = {}
        self._signal_buffer: list[SignalReceived] = []
        self._extra_signals: dict[str | None, Callable[..., Any]] = {}
        self._patches: dict[str, bool] = {}
        self._recorded_patches: frozenset[str] = frozenset()
        self._task_failure: tuple[BaseException, str | None] | None = None
        self._rejected: list[tuple[str, Failure]] = []
        self._cancel_requested = False

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

    def _on_signal(self, event: Event) -> None:
        assert isinstance(event, SignalReceived)
        name = event.signal_name
        handler = self.definition.signals.get(name)
        extra = self._extra_signals.get(name)
        dynamic = False
        if handler is None and extra is None:
            extra = self._extra_signals.get(None)
            dynamic = extra is not None
            if extra is None:
                handler = self.definition.signals.get(None)
        if handler is None and extra is None:
            self._signal_buffer.append(event)
            return
        self._start_signal(event, handler, extra, dynamic)

    def _start_signal(self, event: SignalReceived, handler: HandlerDefinition | None,
                      extra: Callable[..., Any] | None, dynamic: bool) -> None:
        name = event.signal_name
        try:
            if extra is not None:
                fn, args = extra, self._extra_args(extra, name, event.args, dynamic)
            else:
                assert handler is not None
                fn = handler.fn
                args = [self.workflow, *self._handler_args(handler, name, event.args)]
        except PayloadError as exc:
            log.warning("dropped signal %r for run %s: %s", name, self.run_id, exc)
            return
        task: asyncio.Task[Any] = self.loop.create_task(_call(fn, *args),
                                                        name=f"signal:{name}")
        if handler is not None:
            self._handlers[task] = (handler, name)
        task.add_done_callback(self._on_signal_done)

    def _extra_args(self, fn: Callable[..., Any], name: str, payloads: list[Any],
                    dynamic: bool) -> list[Any]:
        if dynamic:
            return [name, [RawValue(p) for p in payloads]]
        types = _signature_types(fn, skip=0)[0]
        conv = self.converter
        return [conv.from_payload(p, t) for p, t in zip(payloads, types, strict=False)]

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
                f"[{history.InternalError.code}] run {self.run_id!r} event {event.event_id}: "
                f"{type(event).__name__} refers to event {ref}, which is not an open command"
            )
        del self._open[ref]
        cmd.resolve(event)

    def _on_nothing(self, event: Event) -> None:
        """Inputs with no effect on workflow code (e.g. terminations are handled outside)."""

    # --- updates -----------------------------------------------------------------------

    def _deliver_update(self, u: UpdateDelivery) -> None:
        handler = self.definition.updates.get(u.name) or self.definition.updates.get(None)
        if handler is None:
            known = ", ".join(sorted(n for n in self.definition.updates if n)) or "none"
            self._reject(u, f"unknown update {u.name!r} for workflow "
                            f"{self.info.workflow_type!r} (known updates: {known})",
                         "UnknownUpdate")
            return
        try:
            args = self._handler_args(handler, u.name, u.args)
        except PayloadError as exc:
            self._reject(u, str(exc), "PayloadError")
            return
        if u.validate and handler.validator is not None:
            self.loop.read_only = "update validator"
            try:
                handler.validator(self.workflow, *args)
            except Exception as exc:
                self._reject(u, str(exc) or type(exc).__name__, type(exc).__name__)
                return
            finally:
                self.loop.read_only = None
        accepted = UpdateAcceptedCommand(update_id=u.update_id, name=u.name, args=u.args)
        self.add_command(accepted)
        task: asyncio.Task[Any] = self.loop.create_task(
            _call(handler.fn, self.workflow, *args), name=f"update:{u.name}:{u.update_id}")
        self._handlers[task] = (handler, u.name)
        task.add_done_callback(lambda t: self._on_update_done(t, accepted))

    def _reject(self, u: UpdateDelivery, message: str, type_name: str) -> None:
        self._rejected.append((u.update_id, Failure(message=message, type=type_name,
                                                    non_retryable=True)))

    def _on_update_done(self, task: asyncio.Task[Any], accepted: UpdateAcceptedCommand) -> None:
        self._handlers.pop(task, None)
        if self.terminal is not None:
            return
        if task.cancelled():
            failure: Failure | None = Failure(message="update handler was cancelled",
                                              type="CancelledError")
            result = None
        else:
            exc = task.exception()
            if exc is not None and not self._is_failure(exc):
                self.fail_task(exc)
                return
            failure = to_failure(exc, self.converter) if exc is not None else None
            result = None
            if exc is None:
                try:
                    result = self.converter.to_payload(task.result())
                except PayloadError as perr:
                    failure = to_failure(perr, self.converter)
        self.add_command(UpdateCompletedCommand(accepted=accepted, result=result,
                                                failure=failure))

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

    def _on_signal_done(self, task: asyncio.Task[Any]) -> None:
        self._handlers.pop(task, None)
        if task.cancelled() or self.terminal is not None:
            return
        exc = task.exception()
        if exc is None:
            return
        if self._is_failure(exc):
            self.failure = to_failure(exc, self.converter)
            self.terminal = FailCommand(self.failure)
        else:
            self.fail_task(exc)

    def fail_task(self, exc: BaseException) -> None:
        """Record a bug in workflow code: the activation fails and nothing is committed."""
        if self._task_failure is None:
            self._task_failure = (exc, _traceback_location(exc))

    def _warn_unfinished_handlers(self) -> None:
        names = [f"{h.kind} {n!r}" for h, n in self._handlers.values()
                 if h.unfinished_policy is HandlerUnfinishedPolicy.WARN_AND_ABANDON]
        if names and not self.replaying:
            log.warning(
                "workflow %r run %s finished while handlers were still running: %s. Their "
                "updates fail for callers. Wait for them with "
                "`await workflow.wait_condition(workflow.all_handlers_finished)` before "
                "returning, or declare them with unfinished_policy=ABANDON.",
                self.info.workflow_type, self.run_id, ", ".join(names),
            )

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
        cmd.location = _caller_location()
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

    def all_handlers_finished(self) -> bool:
        return not self._handlers

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

    def set_signal_handler(self, name: str | None, fn: Callable[..., Any] | None) -> None:
        if fn is None:
            self._extra_signals.pop(name, None)
            return
        self._extra_signals[name] = fn
        pending, self._signal_buffer = self._signal_buffer, []
        for event in pending:
            self._on_signal(event)

    def decode_args(self, handler: HandlerDefinition, payloads: list[Any], what: str
                    ) -> list[Any]:
        return self._handler_args(handler, what, payloads)

    def _handler_args(self, handler: HandlerDefinition, name: str, payloads: list[Any]
                      ) -> list[Any]:
        if handler.dynamic and handler.kind != "run":
            return [name, [RawValue(p) for p in payloads]]
        types = handler.arg_types
        if len(payloads) > len(types):
            raise PayloadError(
                f"{handler.kind} {name!r} takes {len(types)} argument(s), got {len(payloads)}",
                type_name="args", path="$",
            )
        conv = self.converter
        return [conv.from_payload(p, t) for p, t in zip(payloads, types, strict=False)]

    # --- queries -----------------------------------------------------------------------

    def query(self, name: str, args: Sequence[Any] = ()) -> Any:
        """Run a query handler against the current state; returns its payload."""
        if name == "__stack_trace":
            return self.stack_trace()
        handler = self.definition.queries.get(name) or self.definition.queries.get(None)
        if handler is None:
            known = sorted(n for n in self.definition.queries if n)
            raise UnknownQueryError(name, self.info.workflow_type, known)
        self.loop.read_only = "query handler"
        try:
            with self._entered():
                decoded = self._handler_args(handler, name, list(args))
                value = handler.fn(self.workflow, *decoded)
            return self.converter.to_payload(value)
        except (ReadOnlyContextError, PayloadError):
            raise
        except Exception as exc:
            raise QueryFailedError(name, exc) from exc
        finally:
            self.loop.read_only = None

    def stack_trace(self) -> str:
        """Where each of the workflow's tasks is waiting (the debugger's ``where``)."""
        lines: list[str] = []
        for task in asyncio.all_tasks(self.loop):
            lines.append(f"task {task.get_name()}:")
            for frame in task.get_stack():
                code = frame.f_code
                lines.append(f"  {code.co_filename}:{frame.f_lineno} in {code.co_name}")
        return "\n".join(lines)

    def waiting_location(self) -> str | None:
        """``file:line`` where the run function waits (innermost workflow-code frame)."""
        task = self._main
        if task is None or task.done():
            return None
        found: str | None = None
        awaiting: Any = task.get_coro()
        while awaiting is not None:
            frame = getattr(awaiting, "cr_frame", None)
            if frame is not None and not frame.f_code.co_filename.startswith(_ENGINE_DIRS):
                found = f"{frame.f_code.co_filename}:{frame.f_lineno}"
            awaiting = getattr(awaiting, "cr_await", None)
        return found

    def pending(self) -> dict[str, list[str]]:
        """Open commands and running handlers, for debugging."""
        return {
            "commands": [f"event {eid}: {cmd.describe()}" for eid, cmd in self._open.items()],
            "handlers": [f"{h.kind} {n!r}" for h, n in self._handlers.values()],
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


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    result = fn(*args)
    if asyncio.iscoroutine(result):
        return await result
    return result


def _caller_location() -> tuple[str, int] | None:
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_ENGINE_DIRS):
            return (filename, frame.f_lineno)
        frame = frame.f_back  # type: ignore[assignment]  # None ends the loop
    return None


def _traceback_location(exc: BaseException) -> str | None:
    tb = exc.__traceback__
    found: str | None = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.startswith(_ENGINE_DIRS):
            found = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def format_location(location: tuple[str, int] | None) -> str | None:
    if location is None:
        return None
    return f"{location[0]}:{location[1]}"


_DISPATCH: dict[type[Event], Callable[[WorkflowInstance, Event], None]] = {
    WorkflowStarted: WorkflowInstance._on_started,
    SignalReceived: WorkflowInstance._on_signal,
    CancelRequested: WorkflowInstance._on_cancel,
}
for _kind in history.INPUT_KINDS:
    if _kind not in _DISPATCH:
        _DISPATCH[_kind] = WorkflowInstance._on_result


def input_kinds() -> Iterable[type[Event]]:
    return _DISPATCH.keys()
