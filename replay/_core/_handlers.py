"""Handler dispatch for one run: signals, updates and queries.

Signals without a handler are buffered until one is registered at run time
(``workflow.set_signal_handler``). An update is validated (read-only) then
accepted and run as a task whose outcome becomes its completion; a rejected one
is reported to the caller and records nothing. Queries run synchronously and
read-only. Handlers still running when the run ends are warned about.

:class:`Handlers` is owned by the run's WorkflowInstance and reaches it only
through :class:`HandlerHost`, so this module never imports the instance.
"""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

import attrs

from replay.history import Failure, PayloadConverter, PayloadError, SignalReceived

from ._command_base import Command
from ._commands import UpdateAcceptedCommand, UpdateCompletedCommand
from ._common import RawValue
from ._definition import (
    HandlerDefinition,
    HandlerUnfinishedPolicy,
    WorkflowDefinition,
    signature_types,
)
from ._exceptions import QueryFailedError, ReadOnlyContextError, UnknownQueryError
from ._failure import to_failure
from ._info import WorkflowInfo
from ._interceptors import (
    ExecuteWorkflowInput,
    HandleQueryInput,
    HandleSignalInput,
    HandleUpdateInput,
    RootInbound,
    WorkflowInboundInterceptor,
)
from ._locations import mark_boundary, task_stacks
from ._loop import WorkflowEventLoop

log = logging.getLogger("replay.workflow")


@attrs.frozen
class UpdateDelivery:
    """An update for this activation: a live request, or an acceptance being replayed."""

    update_id: str
    name: str
    args: list[Any]
    validate: bool = True
    headers: Mapping[str, Any] = attrs.field(factory=dict)


class HandlerHost(Protocol):
    """What handler dispatch needs from the run it serves (its WorkflowInstance)."""

    @property
    def workflow(self) -> Any:
        """The workflow object (None before the run method's activation)."""
        ...

    @property
    def replaying(self) -> bool: ...

    @property
    def ended(self) -> bool:
        """True once the run has ended (in this activation or before)."""
        ...

    @property
    def info(self) -> WorkflowInfo:
        """The run's facts (run id and workflow type, for messages)."""
        ...

    @property
    def inbound(self) -> WorkflowInboundInterceptor | None:
        """The run's inbound interceptor chain; None when the worker has none."""
        ...

    def add_command(self, cmd: Command) -> None: ...
    def fail_task(self, exc: BaseException) -> None: ...
    def is_failure(self, exc: BaseException) -> bool: ...

    def fail_run(self, exc: BaseException) -> None:
        """End the run as failed by ``exc`` (a failure exception)."""
        ...

    def running(self) -> AbstractContextManager[None]:
        """A block that runs as the run's workflow code (its loop, guard and context)."""
        ...


_NO_HANDLERS: Mapping[str | None, HandlerDefinition] = types.MappingProxyType({})


class Handlers:
    """Runs one run's signal, update and query handlers; holds those registered at run
    time, buffered signals, running handler tasks and this activation's rejections.

    What most runs never use (run-time handlers, buffered signals, rejections) is
    created on first use: a worker keeps many idle runs in memory.
    """

    __slots__ = ("_converter", "_definition", "_extra", "_host", "_loop",
                 "_rejected", "_running", "_signal_buffer")

    def __init__(self, host: HandlerHost, *, definition: WorkflowDefinition,
                 converter: PayloadConverter, loop: WorkflowEventLoop) -> None:
        self._host = host
        self._definition = definition
        self._converter = converter
        self._loop = loop
        self._running: dict[asyncio.Task[Any], tuple[HandlerDefinition, str]] | None = None
        self._signal_buffer: list[SignalReceived] | None = None
        self._extra: dict[str, dict[str | None, HandlerDefinition]] | None = None
        self._rejected: list[tuple[str, Failure]] | None = None

    # --- signals -----------------------------------------------------------------------

    def on_signal(self, event: SignalReceived) -> None:
        """Start the signal's handler, or buffer the signal until one is registered."""
        name = event.signal_name
        handler = self._find("signal", name)
        if handler is None:
            if self._signal_buffer is None:
                self._signal_buffer = []
            self._signal_buffer.append(event)
            return
        try:
            args = decode_args(self._converter, handler, name, event.args)
        except PayloadError as exc:
            log.warning("dropped signal %r for run %s: %s", name, self._host.info.run_id, exc)
            return
        inbound = self._host.inbound
        call = _call(handler.fn, self._host.workflow, *args) if inbound is None else \
            inbound.handle_signal(HandleSignalInput(signal=name, args=args,
                                                    headers=event.headers))
        task: asyncio.Task[Any] = self._loop.create_task(call, name=f"signal:{name}")
        self._started(task, handler, name)
        task.add_done_callback(self._on_signal_done)

    def _on_signal_done(self, task: asyncio.Task[Any]) -> None:
        self._finished(task)
        if task.cancelled() or self._host.ended:
            return
        exc = task.exception()
        if exc is None:
            return
        if self._host.is_failure(exc):
            self._host.fail_run(exc)
        else:
            self._host.fail_task(exc)

    def set_signal_handler(self, name: str | None, fn: Callable[..., Any] | None) -> None:
        """Register (or remove) a signal handler at run time; buffered signals it takes
        are delivered now."""
        self.set_runtime_handler("signal", name, fn)
        if fn is not None and self._signal_buffer:
            pending, self._signal_buffer = self._signal_buffer, None
            for event in pending:
                self.on_signal(event)

    def set_runtime_handler(self, kind: str, name: str | None, fn: Callable[..., Any] | None,
                            validator: Callable[..., Any] | None = None) -> None:
        """Register (or remove) a signal, query or update handler while the workflow runs."""
        if fn is None:
            if self._extra is not None:
                self._extra[kind].pop(name, None)
            return
        if self._extra is None:
            self._extra = {"signal": {}, "query": {}, "update": {}}
        table = self._extra[kind]
        skip = 1 if name is None else 0  # a dynamic handler's first argument is the name
        arg_types, return_type = signature_types(fn, skip=skip)
        table[name] = HandlerDefinition(
            kind=kind, name=name, fn=_unbound(fn), arg_types=arg_types,
            return_type=return_type, is_async=asyncio.iscoroutinefunction(fn),
            validator=_unbound(validator) if validator is not None else None)

    def get_handler(self, kind: str, name: str | None) -> Callable[..., Any] | None:
        """The handler ``workflow.get_<kind>_handler`` returns: the function registered at
        run time, or the workflow's own method bound to it; None if there is none (a
        named lookup does not fall back to the dynamic handler)."""
        handler = self._runtime(kind).get(name) or self._declared(kind).get(name)
        if handler is None:
            return None
        original: Callable[..., Any] | None = getattr(handler.fn, "__wrapped__", None)
        if original is not None:
            return original
        return types.MethodType(handler.fn, self._host.workflow)

    def _handler(self, kind: str, name: str) -> HandlerDefinition:
        handler = self._find(kind, name)
        if handler is None:  # an interceptor renamed the message
            raise KeyError(f"no {kind} handler named {name!r}")
        return handler

    async def run_handler(self, kind: str, name: str, args: Sequence[Any]) -> Any:
        """Run the signal or update handler for ``name`` (the end of the inbound chain)."""
        return await _call(self._handler(kind, name).fn, self._host.workflow, *args)

    def run_sync(self, kind: str, name: str, args: Sequence[Any], *,
                 validator: bool = False) -> Any:
        """Run the query handler, or the update validator, for ``name``."""
        handler = self._handler(kind, name)
        fn = handler.validator if validator else handler.fn
        return None if fn is None else fn(self._host.workflow, *args)

    def _runtime(self, kind: str) -> Mapping[str | None, HandlerDefinition]:
        """The handlers of ``kind`` registered at run time."""
        return _NO_HANDLERS if self._extra is None else self._extra[kind]

    def _declared(self, kind: str) -> dict[str | None, HandlerDefinition]:
        d = self._definition
        return {"signal": d.signals, "query": d.queries, "update": d.updates}[kind]

    def _find(self, kind: str, name: str) -> HandlerDefinition | None:
        """The handler for ``name``: by name first, then a dynamic one; run-time first."""
        extra, static = self._runtime(kind), self._declared(kind)
        return extra.get(name) or static.get(name) or extra.get(None) or static.get(None)

    def _known(self, kind: str) -> list[str]:
        return sorted({n for n in (*self._runtime(kind), *self._declared(kind)) if n})

    # --- updates -----------------------------------------------------------------------

    def start_activation(self) -> None:
        """Forget the previous activation's rejected updates."""
        self._rejected = None

    @property
    def rejected(self) -> list[tuple[str, Failure]]:
        """Updates rejected in this activation: (update id, why)."""
        return [] if self._rejected is None else list(self._rejected)

    def deliver_update(self, u: UpdateDelivery) -> None:
        """Validate the update, then accept it and start its handler (or reject it)."""
        handler = self._find("update", u.name)
        if handler is None:
            known = ", ".join(self._known("update")) or "none"
            self._reject(u, f"unknown update {u.name!r} for workflow "
                            f"{self._host.info.workflow_type!r} (known updates: {known})",
                         "UnknownUpdate")
            return
        try:
            args = decode_args(self._converter, handler, u.name, u.args)
        except PayloadError as exc:
            self._reject(u, str(exc), "PayloadError")
            return
        if u.validate and handler.validator is not None:
            self._loop.read_only = "update validator"
            try:
                if self._host.inbound is None:
                    handler.validator(self._host.workflow, *args)
                else:
                    self._host.inbound.handle_update_validator(HandleUpdateInput(
                        id=u.update_id, update=u.name, args=args, headers=dict(u.headers)))
            except Exception as exc:
                self._reject(u, str(exc) or type(exc).__name__, type(exc).__name__)
                return
            finally:
                self._loop.read_only = None
        accepted = UpdateAcceptedCommand(update_id=u.update_id, name=u.name, args=u.args,
                                         headers=u.headers)
        self._host.add_command(accepted)
        inbound = self._host.inbound
        call = _call(handler.fn, self._host.workflow, *args) if inbound is None else \
            inbound.handle_update_handler(HandleUpdateInput(id=u.update_id, update=u.name,
                                                            args=args,
                                                            headers=dict(u.headers)))
        task: asyncio.Task[Any] = self._loop.create_task(
            call, name=f"update:{u.name}:{u.update_id}")
        self._started(task, handler, u.name)
        task.add_done_callback(lambda t: self._on_update_done(t, accepted))

    def _reject(self, u: UpdateDelivery, message: str, type_name: str) -> None:
        if self._rejected is None:
            self._rejected = []
        self._rejected.append((u.update_id, Failure(message=message, type=type_name,
                                                    non_retryable=True)))

    def _on_update_done(self, task: asyncio.Task[Any], accepted: UpdateAcceptedCommand) -> None:
        self._finished(task)
        if self._host.ended:
            return
        if task.cancelled():
            failure: Failure | None = Failure(message="update handler was cancelled",
                                              type="CancelledError")
            result = None
        else:
            exc = task.exception()
            if exc is not None and not self._host.is_failure(exc):
                self._host.fail_task(exc)
                return
            failure = to_failure(exc, self._converter) if exc is not None else None
            result = None
            if exc is None:
                try:
                    result = self._converter.to_payload(task.result())
                except PayloadError as perr:
                    failure = to_failure(perr, self._converter)
        self._host.add_command(UpdateCompletedCommand(accepted=accepted, result=result,
                                                      failure=failure))

    # --- queries -----------------------------------------------------------------------

    def query(self, name: str, args: Sequence[Any] = (),
              headers: Mapping[str, Any] | None = None) -> Any:
        """Run a query handler against the current state; returns its payload
        (``headers`` reach the inbound interceptors)."""
        if name == "__stack_trace":
            return task_stacks(self._loop)
        handler = self._find("query", name)
        if handler is None:
            raise UnknownQueryError(name, self._host.info.workflow_type, self._known("query"))
        self._loop.read_only = "query handler"
        try:
            with self._host.running():
                decoded = decode_args(self._converter, handler, name, list(args))
                inbound = self._host.inbound
                if inbound is None:
                    value = handler.fn(self._host.workflow, *decoded)
                else:
                    value = inbound.handle_query(HandleQueryInput(
                        id="", query=name, args=decoded, headers=dict(headers or {})))
            return self._converter.to_payload(value)
        except (ReadOnlyContextError, PayloadError):
            raise
        except Exception as exc:
            raise QueryFailedError(name, exc) from exc
        finally:
            self._loop.read_only = None

    # --- running handlers ----------------------------------------------------------------

    def all_finished(self) -> bool:
        """True when no signal or update handler is still running."""
        return not self._running

    def _started(self, task: asyncio.Task[Any], handler: HandlerDefinition,
                 name: str) -> None:
        if self._running is None:
            self._running = {}
        self._running[task] = (handler, name)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        running = self._running
        if running is not None:
            running.pop(task, None)
            if not running:
                self._running = None  # an idle run keeps no table

    def describe_running(self) -> list[str]:
        """``kind 'name'`` of each handler still running, for debugging."""
        return [f"{h.kind} {n!r}" for h, n in (self._running or {}).values()]

    def warn_unfinished(self) -> None:
        """Log the handlers the ended run abandons (unless replaying or told not to)."""
        names = [f"{h.kind} {n!r}" for h, n in (self._running or {}).values()
                 if h.unfinished_policy is HandlerUnfinishedPolicy.WARN_AND_ABANDON]
        if names and not self._host.replaying:
            log.warning(
                "workflow %r run %s finished while handlers were still running: %s. Their "
                "updates fail for callers. Wait for them with "
                "`await workflow.wait_condition(workflow.all_handlers_finished)` before "
                "returning, or declare them with unfinished_policy=ABANDON.",
                self._host.info.workflow_type, self._host.info.run_id, ", ".join(names),
            )


class HandlersInbound(RootInbound):
    """The end of a run's inbound interceptor chain: the workflow's own run method and
    handlers (found again by name, so an interceptor may not swap the handler)."""

    def __init__(self, handlers: Handlers) -> None:
        super().__init__()
        self._handlers = handlers

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        return await input.run_fn(*input.args)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        await self._handlers.run_handler("signal", input.signal, input.args)

    def handle_query(self, input: HandleQueryInput) -> Any:
        return self._handlers.run_sync("query", input.query, input.args)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        self._handlers.run_sync("update", input.update, input.args, validator=True)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        return await self._handlers.run_handler("update", input.update, input.args)


def decode_args(converter: PayloadConverter, handler: HandlerDefinition, name: str,
                payloads: list[Any]) -> list[Any]:
    """A handler's arguments decoded into its annotations (raw for a dynamic handler)."""
    if handler.dynamic and handler.kind != "run":
        return [name, [RawValue(p) for p in payloads]]
    types = handler.arg_types
    if len(payloads) > len(types):
        raise PayloadError(
            f"{handler.kind} {name!r} takes {len(types)} argument(s), got {len(payloads)}",
            type_name="args", path="$",
        )
    return [converter.from_payload(p, t) for p, t in zip(payloads, types, strict=False)]


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    result = fn(*args)
    if asyncio.iscoroutine(result):
        return await result
    return result


def _unbound(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A run-time handler as the dispatch calls it: ``fn(workflow, *args)``."""
    def call(_workflow: Any, *args: Any) -> Any:
        return fn(*args)

    call.__wrapped__ = fn  # type: ignore[attr-defined]  # get_handler returns the original
    return call


# a command issued below a query without workflow code in between is the engine's own
mark_boundary(Handlers.query)
