"""Handler dispatch for a WorkflowInstance: signals, updates and queries.

Signals without a handler are buffered until one is registered at run time
(``workflow.set_signal_handler``). An update is validated (read-only) then
accepted and run as a task whose outcome becomes its completion; a rejected one
is reported to the caller and records nothing. Queries run synchronously and
read-only. Handlers still running when the run ends are warned about.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from replay.history import Failure, PayloadConverter, PayloadError, SignalReceived

from ._commands import Command, FailCommand, UpdateAcceptedCommand, UpdateCompletedCommand
from ._common import RawValue
from ._definition import (
    HandlerDefinition,
    HandlerUnfinishedPolicy,
    WorkflowDefinition,
    _signature_types,
)
from ._exceptions import QueryFailedError, ReadOnlyContextError, UnknownQueryError
from ._failure import to_failure
from ._info import WorkflowInfo
from ._locations import task_stacks

if TYPE_CHECKING:
    from replay.history import Event

    from ._instance import UpdateDelivery, _Entered
    from ._loop import WorkflowEventLoop

log = logging.getLogger("replay.workflow")


class HandlerDispatch:
    """Mixin of WorkflowInstance: runs its signal, update and query handlers."""

    # provided by WorkflowInstance
    definition: WorkflowDefinition
    converter: PayloadConverter
    loop: WorkflowEventLoop
    info: WorkflowInfo
    run_id: str
    workflow: Any
    replaying: bool
    terminal: Command | None
    failure: Failure | None

    if TYPE_CHECKING:
        def add_command(self, cmd: Command) -> None: ...
        def fail_task(self, exc: BaseException) -> None: ...
        def _is_failure(self, exc: BaseException) -> bool: ...
        def _entered(self) -> _Entered: ...

    def _init_handlers(self) -> None:
        self._handlers: dict[asyncio.Task[Any], tuple[HandlerDefinition, str]] = {}
        self._signal_buffer: list[SignalReceived] = []
        self._extra_signals: dict[str | None, HandlerDefinition] = {}
        self._extra_queries: dict[str | None, HandlerDefinition] = {}
        self._extra_updates: dict[str | None, HandlerDefinition] = {}
        self._rejected: list[tuple[str, Failure]] = []

    # --- signals -----------------------------------------------------------------------

    def _on_signal(self, event: Event) -> None:
        assert isinstance(event, SignalReceived)
        name = event.signal_name
        handler = self._find("signal", name)
        if handler is None:
            self._signal_buffer.append(event)
            return
        try:
            args = self._handler_args(handler, name, event.args)
        except PayloadError as exc:
            log.warning("dropped signal %r for run %s: %s", name, self.run_id, exc)
            return
        task: asyncio.Task[Any] = self.loop.create_task(
            _call(handler.fn, self.workflow, *args), name=f"signal:{name}")
        self._handlers[task] = (handler, name)
        task.add_done_callback(self._on_signal_done)

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

    def set_signal_handler(self, name: str | None, fn: Callable[..., Any] | None) -> None:
        """Register (or remove) a signal handler at run time; buffered signals it takes
        are delivered now."""
        self.set_runtime_handler("signal", name, fn)
        if fn is not None:
            pending, self._signal_buffer = self._signal_buffer, []
            for event in pending:
                self._on_signal(event)

    def set_runtime_handler(self, kind: str, name: str | None, fn: Callable[..., Any] | None,
                            validator: Callable[..., Any] | None = None) -> None:
        """Register (or remove) a signal, query or update handler while the workflow runs."""
        table = self._tables(kind)[0]
        if fn is None:
            table.pop(name, None)
            return
        skip = 1 if name is None else 0  # a dynamic handler's first argument is the name
        arg_types, return_type = _signature_types(fn, skip=skip)
        table[name] = HandlerDefinition(
            kind=kind, name=name, fn=_unbound(fn), arg_types=arg_types,
            return_type=return_type, is_async=asyncio.iscoroutinefunction(fn),
            validator=_unbound(validator) if validator is not None else None)

    def _tables(self, kind: str) -> tuple[dict[str | None, HandlerDefinition],
                                          dict[str | None, HandlerDefinition]]:
        """(registered at run time, declared on the class) handlers of one kind."""
        d = self.definition
        return {"signal": (self._extra_signals, d.signals),
                "query": (self._extra_queries, d.queries),
                "update": (self._extra_updates, d.updates)}[kind]

    def _find(self, kind: str, name: str) -> HandlerDefinition | None:
        """The handler for ``name``: by name first, then a dynamic one; run-time first."""
        extra, static = self._tables(kind)
        return extra.get(name) or static.get(name) or extra.get(None) or static.get(None)

    def _known(self, kind: str) -> list[str]:
        extra, static = self._tables(kind)
        return sorted({n for n in (*extra, *static) if n})

    # --- updates -----------------------------------------------------------------------

    def _deliver_update(self, u: UpdateDelivery) -> None:
        handler = self._find("update", u.name)
        if handler is None:
            known = ", ".join(self._known("update")) or "none"
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

    # --- queries -----------------------------------------------------------------------

    def query(self, name: str, args: Sequence[Any] = ()) -> Any:
        """Run a query handler against the current state; returns its payload."""
        if name == "__stack_trace":
            return self.stack_trace()
        handler = self._find("query", name)
        if handler is None:
            raise UnknownQueryError(name, self.info.workflow_type, self._known("query"))
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
        return task_stacks(self.loop)

    # --- shared by all handlers ----------------------------------------------------------

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

    def all_handlers_finished(self) -> bool:
        return not self._handlers

    def _running_handlers(self) -> list[str]:
        return [f"{h.kind} {n!r}" for h, n in self._handlers.values()]

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


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    result = fn(*args)
    if asyncio.iscoroutine(result):
        return await result
    return result


def _unbound(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A run-time handler as the dispatch calls it: ``fn(workflow, *args)``."""
    def call(_workflow: Any, *args: Any) -> Any:
        return fn(*args)

    return call
