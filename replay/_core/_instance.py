"""WorkflowInstance: one run's live workflow object and its activation cycle.

``activate`` delivers a batch of inputs (in history order), then update
requests, runs the deterministic loop until nothing is ready and returns the
commands produced. ``commit_live`` numbers them as new events;
``commit_replay`` matches them against recorded ones (see ``_matching``).
The instance owns its parts: the loop (with its ``DurableTimers``), its
``Handlers`` (signals, updates, queries), its ``CommandLog``, ``Conditions``
and ``Patches``; source locations live in ``_locations``.

While the instance runs workflow code, :func:`current_instance` returns it:
that is how the ``workflow.*`` API finds its run.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import random
import types
import typing
import uuid
from asyncio import events
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from datetime import datetime
from types import FrameType
from typing import Any

import attrs

import replay.history as history
from replay.history import (
    CancelRequested,
    Event,
    Failure,
    PayloadConverter,
    PayloadError,
    SignalReceived,
    WorkflowStarted,
    WorkflowTaskCompleted,
)

from . import _matching
from ._command_base import Command
from ._command_log import CommandLog
from ._commands import (
    TERMINAL_COMMANDS,
    ActivityCancelCommand,
    CancelCommand,
    CompleteCommand,
    ContinueAsNewCommand,
    FailCommand,
    MarkerCommand,
    TimerCancelCommand,
)
from ._common import RawValue
from ._conditions import Conditions
from ._cron import after_cron_wait
from ._data_converter import DataConverter
from ._definition import WorkflowDefinition
from ._exceptions import (
    ContinueAsNewError,
    FailureError,
    ReadOnlyContextError,
    WorkflowTaskError,
    is_cancellation,
)
from ._failure import to_failure
from ._fingerprint import code_fingerprint
from ._guard import GuardHooks, RunGuard
from ._handlers import Handlers, HandlersInbound, decode_args
from ._handlers import UpdateDelivery as UpdateDelivery  # where the worker imports it from
from ._info import WorkflowInfo
from ._interceptors import (
    ExecuteWorkflowInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptors,
    WorkflowOutboundInterceptor,
)
from ._locations import (
    awaiting_location,
    caller_location,
    frame_site,
    mark_boundary,
    task_stacks,
    traceback_location,
    traceback_site,
)
from ._loop import WorkflowEventLoop, task_hash_base
from ._parent_close import OpenChild
from ._patches import Patches
from ._search_attributes import encode_attributes
from ._teardown import finish_tasks
from ._timers import DurableTimers

_CURRENT: contextvars.ContextVar[WorkflowInstance | None] = contextvars.ContextVar(
    "replay.workflow_instance", default=None)


def current_instance() -> WorkflowInstance | None:
    """The instance whose workflow code runs in this context; None outside workflow code.

    Set for every stretch of workflow code an instance runs; the tasks that code
    creates copy it, as they copy any context variable.
    """
    return _CURRENT.get()


_FAILURE_ONLY: tuple[type[BaseException], ...] = (FailureError,)
_CANCEL_COMMANDS = (ActivityCancelCommand, TimerCancelCommand)


@attrs.frozen
class ActivationResult:
    """What one activation produced."""

    commands: list[Command]
    rejected_updates: list[tuple[str, Failure]]


ReplayedActivation = tuple[Sequence[Event], Sequence[UpdateDelivery], Sequence[Event], Event]
"""One recorded activation to replay: its inputs, the updates it accepted, its command
events and the event that closed it (WorkflowTaskCompleted, or the run's end)."""


class WorkflowInstance:
    """The live object of one run, driven one activation at a time."""

    # A worker keeps up to thousands of idle instances in its sticky cache: slots keep
    # each one small (and what only some runs use is created on first use).
    __slots__ = (
        "_conditions", "_failure_types", "_guard", "_history_bytes", "_interceptors",
        "_log", "_main", "_patches", "_random", "_recorded_code", "_run_frame",
        "_task_failure", "_unsized", "cancel_requested", "closed", "code_fingerprint",
        "converter", "definition", "failure", "handlers", "inbound", "info",
        "last_event_id", "loop", "now", "outbound", "replaying", "result_payload", "run_id",
        "started", "terminal", "workflow",
    )

    def __init__(self, definition: WorkflowDefinition, *, run_id: str,
                 started: WorkflowStarted, converter: PayloadConverter | None = None,
                 guard: GuardHooks | None = None,
                 failure_exception_types: Sequence[type[BaseException]] = (),
                 interceptors: WorkflowInterceptors | None = None) -> None:
        self.definition = definition
        # what fails the run instead of its task: the workflow's own types, the worker's
        listed = (*definition.failure_exception_types, *failure_exception_types)
        self._failure_types: tuple[type[BaseException], ...] = (
            (FailureError, *listed) if listed else _FAILURE_ONLY)
        if started.first_execution_run_id == run_id:
            run_id = started.first_execution_run_id  # one string for both (a cache has many)
        self.run_id = run_id
        self.started = started
        self.converter = converter or DataConverter.default.payload_converter
        self._log = CommandLog(run_id)
        # the I/O methods are filled in as errors after the class body, unseen by mypy
        self.loop = WorkflowEventLoop(  # type: ignore[abstract]
            DurableTimers(self._log, self), task_hash_base=task_hash_base(run_id))
        self._random: random.Random | None = None  # see the ``random`` property
        self.info = WorkflowInfo.from_started(run_id, started, stats=self)
        # the worker's workflow interceptors; their chains are built as the run starts
        self._interceptors = interceptors if interceptors and interceptors.classes else None
        self.inbound: WorkflowInboundInterceptor | None = None
        self.outbound: WorkflowOutboundInterceptor | None = None
        # the history's encoded size so far, and events seen but not yet measured
        self._history_bytes = 0
        self._unsized: list[Event] = []
        self.workflow: Any = None
        self.now: datetime = started.time
        self.last_event_id = 0
        self.replaying = False
        self.closed = False
        self.terminal: Command | None = None
        self.result_payload: Any = None
        self.failure: Failure | None = None
        self.handlers = Handlers(self, definition=definition, converter=self.converter,
                                 loop=self.loop)
        self._guard: Callable[[], RunGuard] | None = None if guard is None else guard.for_run(
            run_id=run_id, workflow_type=self.info.workflow_type,
            sandbox_mode=definition.sandbox_mode, fail_task=self.fail_task)
        self._conditions = Conditions(self)
        self._main: asyncio.Task[Any] | None = None
        # the run function's frame: once it has ended, the line that returned or raised
        self._run_frame: FrameType | None = None
        self._patches = Patches()
        # computed as the first run of the class is created, before any of its code runs
        self.code_fingerprint = code_fingerprint(definition.cls)
        # code fingerprints the replayed history recorded with its activations (most
        # histories record one: a set only once they differ)
        self._recorded_code: str | set[str] | None = None
        self._task_failure: tuple[BaseException, str | None] | None = None
        self.cancel_requested = False  # a CancelRequested was delivered

    @property
    def random(self) -> random.Random:
        """The run's generator (``workflow.random()``, ``workflow.uuid4()``), seeded by
        the run's start; created on first use (its state is 2.5 KiB)."""
        rng = self._random
        if rng is None:
            rng = self._random = random.Random(self.started.random_seed)
        return rng

    @property
    def workflow_type(self) -> str:
        return self.info.workflow_type

    @property
    def ended(self) -> bool:
        """True once the run has ended (in this activation or an earlier one)."""
        return self.terminal is not None

    # --- the activation cycle ----------------------------------------------------------

    def activate(self, inputs: Sequence[Event], updates: Sequence[UpdateDelivery],
                 time: datetime, *, replaying: bool = False,
                 recorded: Sequence[Event] = ()) -> ActivationResult:
        """Deliver inputs then updates, run until quiescent, return the commands."""
        self._start_activation(inputs, time, replaying, recorded)
        unhandled = len(self.loop.unhandled)
        with self.running():
            self._deliver(inputs, updates)
        return self._end_activation(unhandled)

    def replay(self, activations: Iterable[ReplayedActivation]) -> None:
        """Replay recorded activations in order: each is activated with its inputs and
        updates, and its commands are matched against the recorded ones
        (``commit_replay``); NondeterminismError at the first that differs.

        The same as ``activate(..., replaying=True)`` then ``commit_replay`` for each,
        but the run's loop, the current instance and the determinism guard are set
        once for all of them rather than once per activation (the engine's code
        between two activations runs under the guard too, which allows it).
        """
        with self.running():
            for inputs, updates, recorded, closing in activations:
                self._start_activation(inputs, closing.time, True, recorded)
                unhandled = len(self.loop.unhandled)
                self._deliver(inputs, updates)
                self.commit_replay(self._end_activation(unhandled), recorded, closing)

    def _start_activation(self, inputs: Sequence[Event], time: datetime, replaying: bool,
                          recorded: Sequence[Event]) -> None:
        self.replaying = replaying
        self._unsized.extend(inputs)
        self.now = time
        self.loop.set_time(time.timestamp())
        self._log.start_activation()
        self.handlers.start_activation()
        self._patches.start_activation(recorded)

    def _deliver(self, inputs: Sequence[Event], updates: Sequence[UpdateDelivery]) -> None:
        """Deliver the inputs, queue the updates, run until quiescent (as workflow code)."""
        for event in inputs:
            self.last_event_id = event.event_id
            try:
                _DISPATCH[type(event)](self, event)
            except Exception as error:  # arguments that do not bind or decode, say
                self.fail_task(error)
        for update in updates:
            # queued behind the handlers the inputs started, so that a validator sees
            # what the signals delivered before its update did (as a later activation
            # would): acceptance must not depend on how inputs were batched
            self.loop.call_soon(self.handlers.deliver_update, update)
        self._drain()

    def _end_activation(self, unhandled: int) -> ActivationResult:
        """The activation's result; WorkflowTaskError if it failed. ``unhandled``: how many
        contexts the loop's exception handler had been given before it."""
        reported = self.loop.unhandled
        if len(reported) > unhandled:
            for context in reported[unhandled:]:
                # a callback raised (the run's end could not be encoded, say): asyncio only
                # reports it, but a run must not carry on as if it had not happened
                if "handle" in context and isinstance(context.get("exception"), Exception):
                    self.fail_task(context["exception"])
        if self._task_failure is not None:
            exc, location = self._task_failure
            raise WorkflowTaskError(run_id=self.run_id, workflow_type=self.info.workflow_type,
                                    cause=exc, location=location) from exc
        commands = self._log.issued()
        if self.terminal is not None:
            commands.append(self.terminal)
            self.handlers.warn_unfinished()
        return ActivationResult(commands=commands, rejected_updates=self.handlers.rejected)

    def commit_live(self, result: ActivationResult, time: datetime,
                    identity: str = "") -> list[Event]:
        """Number the commands as new events, closing the task unless the run ended."""
        out: list[Event] = []
        eid = self.last_event_id
        for cmd in result.commands:
            eid += 1
            self.assign(cmd, eid)
            out.append(cmd.to_event(eid, time))
        if self.terminal is None:
            eid += 1
            out.append(WorkflowTaskCompleted(event_id=eid, time=time, identity=identity,
                                             code_fingerprint=self.code_fingerprint))
        else:
            self.closed = True
        self.last_event_id = eid
        self._unsized.extend(out)
        return out

    def commit_replay(self, result: ActivationResult, recorded: Sequence[Event],
                      closing: Event) -> None:
        """Match the commands against the recorded ones; NondeterminismError if they differ."""
        if type(closing) is WorkflowTaskCompleted:
            fingerprint = closing.code_fingerprint
            if fingerprint and fingerprint != self._recorded_code:
                self._record_code(fingerprint)
            _matching.match(self, result.commands, recorded, closing)
            self._unsized.extend(recorded)
            self._unsized.append(closing)
        else:
            _matching.match(self, result.commands, recorded, closing)
            self._unsized.extend(recorded)
        self.last_event_id = closing.event_id
        if self.terminal is not None:
            self.closed = True

    def close_from_outside(self, event_id: int) -> None:
        """The run was ended from outside (terminated, timed out) by event ``event_id``."""
        self.closed = True
        self.last_event_id = event_id

    def assign(self, cmd: Command, event_id: int) -> None:
        """Record that ``cmd`` is event ``event_id`` (one that awaits a result stays open)."""
        self._log.assign(cmd, event_id)

    def code_changed(self) -> bool | None:
        """Whether the code differs from the code that recorded the replayed activations.

        None if the history recorded no fingerprint (written before they were).
        """
        recorded = self._recorded_code
        if recorded is None:
            return None
        return recorded != self.code_fingerprint if isinstance(recorded, str) else True

    def _record_code(self, fingerprint: str) -> None:
        recorded = self._recorded_code
        if recorded is None:
            self._recorded_code = fingerprint
        elif isinstance(recorded, str):
            if recorded != fingerprint:
                self._recorded_code = {recorded, fingerprint}
        else:
            recorded.add(fingerprint)

    def history_length(self) -> int:
        """Events in the history so far (``workflow.info().get_current_history_length``)."""
        return self.last_event_id

    def history_size(self) -> int:
        """Bytes of the events seen so far, encoded as a history file holds them."""
        if self._unsized:
            self._history_bytes += sum(len(json.dumps(history.event_to_data(e),
                                                      separators=(",", ":")))
                                       for e in self._unsized)
            self._unsized = []
        return self._history_bytes

    def running(self) -> _Running:
        """A block run as this run's workflow code: its loop is the running loop,
        :func:`current_instance` returns it and the determinism guard is on."""
        return _Running(self, self._guard() if self._guard is not None else None)

    def _drain(self) -> None:
        while True:
            self.loop.run_until_quiescent()
            if self._task_failure is not None or not self._conditions.resolve_one():
                return

    # --- inputs ------------------------------------------------------------------------

    def _on_started(self, event: Event) -> None:
        assert isinstance(event, WorkflowStarted)
        d = self.definition
        cls = d.cls
        if d.name is None:
            args: list[Any] = [[RawValue(p) for p in event.args]]
        else:
            args = decode_args(self.converter, d.run, "workflow", event.args)
        if self._interceptors is not None:  # init() runs before the workflow's __init__
            try:
                self.inbound, self.outbound = self._interceptors.build(
                    HandlersInbound(self.handlers))
            except Exception as exc:
                self.fail_task(exc)
                return
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

        def run() -> Coroutine[Any, Any, Any]:
            if self.inbound is None:
                coro = d.run.fn(obj, *args)
            else:
                coro = self.inbound.execute_workflow(ExecuteWorkflowInput(
                    type=cls, run_fn=types.MethodType(d.run.fn, obj), args=args,
                    headers=event.headers))
            self._run_frame = getattr(coro, "cr_frame", None)
            return typing.cast("Coroutine[Any, Any, Any]", coro)

        main = run() if not event.cron_schedule else after_cron_wait(event, run)
        self._main = self.loop.create_task(main, name="workflow-run")
        self._main.add_done_callback(self._on_main_done)

    def _on_signal(self, event: Event) -> None:
        assert isinstance(event, SignalReceived)
        self.handlers.on_signal(event)

    def _on_cancel(self, event: Event) -> None:
        assert isinstance(event, CancelRequested)
        self.cancel_requested = True
        if self._main is not None and not self._main.done():
            self._main.cancel(event.reason or None)

    def _on_result(self, event: Event) -> None:
        self._log.resolve(event)

    # --- completion --------------------------------------------------------------------

    def is_failure(self, exc: BaseException) -> bool:
        """Does ``exc`` fail the run (rather than the task)?"""
        return isinstance(exc, self._failure_types)

    def fail_run(self, exc: BaseException) -> None:
        """End the run as failed by ``exc``, a failure exception."""
        self.failure = to_failure(exc, self.converter)
        self._end(FailCommand(self.failure), exc)

    def _end(self, cmd: Command, exc: BaseException | None) -> None:
        """End the run with ``cmd``, located at the line that raised ``exc`` or else at
        the run function's last line (the one that returned)."""
        cmd.location = (traceback_site(exc) if exc is not None else None) or frame_site(
            self._run_frame)
        self.terminal = cmd

    def _on_main_done(self, task: asyncio.Task[Any]) -> None:
        try:
            self._main_done(task)
        finally:
            self._run_frame = None  # it holds the run function's locals

    def _main_done(self, task: asyncio.Task[Any]) -> None:
        if self.terminal is not None:
            return
        if task.cancelled():
            self._end(CancelCommand(), None)
            return
        exc = task.exception()
        if exc is None:
            try:
                self.result_payload = self.converter.to_payload(task.result())
            except PayloadError as perr:
                self.fail_task(perr)
                return
            self._end(CompleteCommand(self.result_payload), None)
        elif self.cancel_requested and is_cancellation(exc):
            # the run was cancelled and let the cancellation of what it awaited out
            self._end(CancelCommand(), exc)
        elif isinstance(exc, ContinueAsNewError):
            self._end(ContinueAsNewCommand(
                new_run_id=str(self.uuid4()),
                workflow_type=exc.workflow or self.info.workflow_type,
                task_queue=exc.task_queue or self.info.task_queue,
                args=self.converter.to_payloads(exc.args),
                memo=self.converter.to_payload(exc.memo) if exc.memo else {},
                headers=dict(exc.headers),
                search_attributes=(exc.search_attributes if exc.search_attributes is not None
                                   else encode_attributes(self.info.typed_search_attributes)),
            ), exc)
        elif self.is_failure(exc):
            self.fail_run(exc)
        else:
            self.fail_task(exc)

    def fail_task(self, exc: BaseException) -> None:
        """Record a bug in workflow code: the activation fails and nothing is committed.

        An exception of a type listed in ``failure_exception_types`` (the workflow's
        or the worker's) fails the run instead.
        """
        if self.is_failure(exc) and self.terminal is None and self._task_failure is None:
            self.fail_run(exc)
        elif self._task_failure is None:
            self._task_failure = (exc, traceback_location(exc))

    # --- used by the runtime API (replay.workflow) ---------------------------------------

    def ensure_writable(self, what: str) -> None:
        """Raise ReadOnlyContextError while a query handler or update validator runs.

        Called before a command draws a sequence number or random bits, so that a
        refused command leaves the run exactly as it was.
        """
        if self.loop.read_only is not None:
            raise ReadOnlyContextError(what, self.loop.read_only)

    def add_command(self, cmd: Command, engine_frames: int = 0) -> None:
        """Record a command issued by workflow code, with the user line that issued it.

        ``engine_frames``: how many frames, the caller's and those above it, are
        known to be the engine's own (none of them a boundary): the search for the
        user's line starts past them (see ``caller_location``).
        """
        if self.loop.read_only is not None:
            raise ReadOnlyContextError(cmd.event_type.__name__, self.loop.read_only)
        if self.terminal is not None and not isinstance(cmd, TERMINAL_COMMANDS):
            return  # the run has ended in this activation; later commands are dropped
        location = caller_location(1 + engine_frames)
        if location is None and isinstance(cmd, _CANCEL_COMMANDS):
            location = cmd.target.location  # the engine asks to cancel: where it started
        cmd.location = location
        self._log.issue(cmd)

    def next_seq(self, kind: str) -> int:
        """The next sequence number of commands of ``kind`` (1, 2, ... per run)."""
        return self._log.next_seq(kind)

    def add_condition(self, fn: Callable[[], bool]) -> asyncio.Future[bool]:
        """A future resolved once ``fn()`` holds (``workflow.wait_condition``)."""
        fut: asyncio.Future[bool] = self.loop.create_future()
        self._conditions.add(fn, fut)
        return fut

    def patched(self, patch_id: str, *, deprecated: bool = False) -> bool:
        """``workflow.patched``: new code unless replaying a history without the patch."""
        self.ensure_writable("workflow.patched()")
        known = self._patches.decided(patch_id)
        if known is not None:
            return known
        use_new = self._patches.decide(patch_id, deprecated=deprecated,
                                       replaying=self.replaying)
        if use_new:
            self.add_command(MarkerCommand(name="patch", marker_id=patch_id,
                                           deprecated=deprecated))
        return use_new

    def uuid4(self) -> uuid.UUID:
        """A version 4 UUID drawn from the run's seeded generator."""
        return uuid.UUID(int=self.random.getrandbits(128), version=4)

    def discard(self) -> None:
        """Done with this instance (evicted, replaced, or its debugger closed): cancel its
        tasks and run their cleanup now, so nothing is left for the garbage collector to
        report. Nothing the cleanup does is recorded or logged (the instance is marked
        as replaying); the instance cannot be activated afterwards."""
        self.replaying = True
        finish_tasks(self.loop, self.running)

    # --- inspecting --------------------------------------------------------------------

    def query(self, name: str, args: Sequence[Any] = (),
              headers: Mapping[str, Any] | None = None) -> Any:
        """Run a query handler against the current state; returns its payload
        (``headers`` reach the workflow's inbound interceptors)."""
        return self.handlers.query(name, args, headers)

    def stack_trace(self) -> str:
        """Where each of the workflow's tasks is waiting (the debugger's ``where``)."""
        return task_stacks(self.loop)

    def waiting_location(self) -> str | None:
        """``file:line`` where the run function waits (innermost workflow-code frame)."""
        task = self._main
        if task is None or task.done():
            return None
        return awaiting_location(task.get_coro())

    def open_command(self, event_id: int) -> Command | None:
        """The command recorded as event ``event_id`` if it still awaits its result."""
        return self._log.open_command(event_id)

    def open_children(self) -> list[OpenChild]:
        """The children started by this run that it has not seen end (for their
        parent close policies)."""
        return [OpenChild(c.workflow_id, c.run_id, c.parent_close_policy)
                for c in self._log.open_children()]

    def pending(self) -> dict[str, list[str]]:
        """Open commands and running handlers, for debugging."""
        return {
            "commands": self._log.describe_open(),
            "handlers": self.handlers.describe_running(),
        }


class _Running:
    """The ``with`` block of :meth:`WorkflowInstance.running` (a class: it runs per
    activation and per query, and costs less than a generator-based one)."""

    __slots__ = ("_guarding", "_inst", "_previous", "_token")
    _token: contextvars.Token[WorkflowInstance | None]

    def __init__(self, inst: WorkflowInstance, guard: RunGuard | None) -> None:
        self._inst = inst
        self._guarding = guard
        self._previous: asyncio.AbstractEventLoop | None = None

    def __enter__(self) -> None:
        # asyncio offers no public way to swap the running loop; its own loops do this
        self._previous = events._get_running_loop()
        events._set_running_loop(self._inst.loop)
        self._token = _CURRENT.set(self._inst)
        if self._guarding is not None:
            self._guarding.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self._guarding is not None:
            self._guarding.__exit__(None, None, None)
        _CURRENT.reset(self._token)
        events._set_running_loop(self._previous)


# a command issued below these frames without workflow code in between is the engine's own
mark_boundary(WorkflowInstance.activate, WorkflowInstance._deliver, WorkflowInstance.query,
              WorkflowEventLoop.run_until_quiescent)

_DISPATCH: dict[type[Event], Callable[[WorkflowInstance, Event], None]] = {
    WorkflowStarted: WorkflowInstance._on_started,
    SignalReceived: WorkflowInstance._on_signal,
    CancelRequested: WorkflowInstance._on_cancel,
}
for _kind in history.INPUT_KINDS:
    if _kind not in _DISPATCH:
        _DISPATCH[_kind] = WorkflowInstance._on_result
