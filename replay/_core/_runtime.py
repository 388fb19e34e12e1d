"""The API workflow code calls (re-exported by ``replay.workflow``).

Every function finds the current run through the running loop, which is the
run's WorkflowEventLoop while workflow code runs. The few functions that
create commands are the only places workflow code suspends on durable work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random as _random
import typing
import uuid
from asyncio import events
from collections.abc import Awaitable, Callable, Generator, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeVar

from replay.history import PayloadConverter, ReplayError

from ._activity_defn import activity_name_and_result_type
from ._commands import (
    ActivityCancelCommand,
    ActivityCommand,
    ChildCommand,
    EmitCommand,
    SignalExternalCommand,
    retry_policy_data,
)
from ._common import ActivityCancellationType, RetryPolicy
from ._exceptions import ContinueAsNewError
from ._info import WorkflowInfo
from ._instance import WorkflowInstance
from ._loop import WorkflowEventLoop

T = TypeVar("T")


class NotInWorkflowError(ReplayError):
    """A ``workflow.*`` function was called outside workflow code."""

    code = "RPL-W01"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"workflow.{name}() can only be called from workflow code (a "
            "@workflow.defn class's run method, handlers or what they call), while a worker "
            "or replayer runs it."
        )
        self.name = name


def _inst(name: str) -> WorkflowInstance:
    loop = events._get_running_loop()
    if isinstance(loop, WorkflowEventLoop):
        inst: WorkflowInstance = loop.instance  # type: ignore[attr-defined]  # set by the instance
        return inst
    raise NotInWorkflowError(name)


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()


def _all_args(arg: Any, args: Sequence[Any]) -> list[Any]:
    if arg is not _UNSET:
        if args:
            raise TypeError("pass either a single `arg` or `args=[...]`, not both")
        return [arg]
    return list(args)


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# --- facts, time, randomness ------------------------------------------------------------


def info() -> WorkflowInfo:
    """Facts about the current run (ids, type, task queue, start time, parent)."""
    return _inst("info").info


def now() -> datetime:
    """Workflow time as an aware UTC datetime; fixed within one activation."""
    return _inst("now").now


def time() -> float:
    """Workflow time in seconds since the epoch (the loop's clock)."""
    return _inst("time").loop.time()


def random() -> _random.Random:
    """A random generator seeded from the history: the same draws on every replay."""
    return _inst("random").random


def uuid4() -> uuid.UUID:
    """A version 4 UUID drawn from the run's seeded generator."""
    return _inst("uuid4").uuid4()


def memo() -> dict[str, Any]:
    """The run's memo, as recorded when it started (values undecoded)."""
    return dict(_inst("memo").info.memo)


def memo_value(key: str, default: Any = _UNSET, *, type_hint: Any = None) -> Any:
    """One memo value decoded into ``type_hint``; KeyError without a default."""
    inst = _inst("memo_value")
    if key not in inst.info.memo:
        if default is _UNSET:
            raise KeyError(f"the run's memo has no key {key!r}")
        return default
    return inst.converter.from_payload(inst.info.memo[key], type_hint)


def payload_converter() -> PayloadConverter:
    """The converter that decodes ``RawValue`` payloads in dynamic handlers."""
    return _inst("payload_converter").converter


async def sleep(duration: float | timedelta) -> None:
    """Wait on a durable timer (the same as ``asyncio.sleep`` in workflow code)."""
    await asyncio.sleep(_seconds(duration))


async def wait_condition(fn: Callable[[], bool], *, timeout: float | timedelta | None = None,
                         timeout_summary: str | None = None) -> None:
    """Wait until ``fn()`` is true, checked after each step of the workflow.

    With ``timeout`` a durable timer bounds the wait and ``asyncio.TimeoutError``
    is raised when it fires first.
    """
    fut = _inst("wait_condition").add_condition(fn)
    if timeout is None:
        await fut
    else:
        await asyncio.wait_for(fut, _seconds(timeout))


def all_handlers_finished() -> bool:
    """True when no signal or update handler is still running."""
    return _inst("all_handlers_finished").all_handlers_finished()


def patched(patch_id: str) -> bool:
    """True on new code paths; False while replaying a history recorded before the patch."""
    return _inst("patched").patched(patch_id)


def deprecate_patch(patch_id: str) -> None:
    """Mark a patch as the only path from now on (old histories no longer replay)."""
    _inst("deprecate_patch").patched(patch_id, deprecated=True)


def emit(value: Any) -> None:
    """Record ``value`` for clients streaming this run's events (``stream_events``)."""
    inst = _inst("emit")
    inst.ensure_writable("workflow.emit()")
    inst.add_command(EmitCommand(seq=inst.next_seq("emit"),
                                 payload=inst.converter.to_payload(value)))


def continue_as_new(arg: Any = _UNSET, *, args: Sequence[Any] = (), workflow: Any = None,
                    task_queue: str | None = None, memo: dict[str, Any] | None = None
                    ) -> NoReturn:
    """End this run and start a fresh one of the same workflow id with new arguments."""
    _inst("continue_as_new").ensure_writable("workflow.continue_as_new()")
    name = workflow if isinstance(workflow, str) or workflow is None else _workflow_name(
        workflow)[0]
    raise ContinueAsNewError(workflow=name or "", args=_all_args(arg, args),
                             task_queue=task_queue, memo=memo)


# --- activities ---------------------------------------------------------------------------


class ActivityHandle(asyncio.Task[Any]):
    """A started activity: await it for the result, ``cancel()`` it to request cancellation."""


def start_activity(
    activity: Any,
    arg: Any = _UNSET,
    *,
    args: Sequence[Any] = (),
    task_queue: str | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    schedule_to_start_timeout: timedelta | None = None,
    start_to_close_timeout: timedelta | None = None,
    heartbeat_timeout: timedelta | None = None,
    retry_policy: RetryPolicy | None = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    activity_id: str | None = None,
    result_type: Any = None,
) -> ActivityHandle:
    """Schedule an activity (a function decorated with ``activity.defn``, or its name).

    One of ``start_to_close_timeout`` or ``schedule_to_close_timeout`` is required.
    """
    inst = _inst("start_activity")
    inst.ensure_writable("workflow.start_activity()")
    if start_to_close_timeout is None and schedule_to_close_timeout is None:
        raise ValueError(
            "execute_activity needs start_to_close_timeout or schedule_to_close_timeout, so "
            "a lost worker cannot leave the workflow waiting forever"
        )
    name, declared = activity_name_and_result_type(activity)
    seq = inst.next_seq("activity")
    loop = inst.loop
    cmd = ActivityCommand(
        seq=seq,
        activity_type=name,
        activity_id=activity_id or str(seq),
        args=inst.converter.to_payloads(_all_args(arg, args)),
        options={
            "task_queue": task_queue or inst.info.task_queue,
            "schedule_to_close_timeout": schedule_to_close_timeout,
            "schedule_to_start_timeout": schedule_to_start_timeout,
            "start_to_close_timeout": start_to_close_timeout,
            "heartbeat_timeout": heartbeat_timeout,
            "retry_policy": retry_policy_data(retry_policy),
        },
        cancellation_type=cancellation_type.value,
        result_type=result_type if result_type is not None else declared,
        future=loop.create_future(),
        done=loop.create_future(),
        decode=inst.converter.from_payload,
    )
    inst.add_command(cmd)
    return ActivityHandle(_await_activity(inst, cmd), loop=loop, name=f"activity:{name}")


async def _await_activity(inst: WorkflowInstance, cmd: ActivityCommand) -> Any:
    try:
        return await cmd.future
    except asyncio.CancelledError:
        if cmd.done.done() or cmd.cancellation_type == ActivityCancellationType.ABANDON.value:
            raise
        if not cmd.cancel_requested:
            cmd.cancel_requested = True
            inst.add_command(ActivityCancelCommand(cmd))
        if cmd.cancellation_type == ActivityCancellationType.WAIT_CANCELLATION_COMPLETED.value:
            while not cmd.done.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(cmd.done)
        raise


@typing.overload
async def execute_activity(activity: Callable[..., Awaitable[T]], arg: Any = ...,
                           **kwargs: Any) -> T: ...
@typing.overload
async def execute_activity(activity: Callable[..., T], arg: Any = ..., **kwargs: Any) -> T: ...
@typing.overload
async def execute_activity(activity: str, arg: Any = ..., **kwargs: Any) -> Any: ...
async def execute_activity(activity: Any, arg: Any = _UNSET, **kwargs: Any) -> Any:
    """Schedule an activity and wait for its result (see ``start_activity``).

    The result is decoded into the activity's return annotation (or ``result_type``).
    """
    return await start_activity(activity, arg, **kwargs)


execute_activity_method = execute_activity
"""``execute_activity`` for an activity declared as a method (registered bound)."""
start_activity_method = start_activity
"""``start_activity`` for an activity declared as a method (registered bound)."""


def start_local_activity(activity: Any, arg: Any = _UNSET, *,
                         local_retry_threshold: timedelta | None = None,
                         **kwargs: Any) -> ActivityHandle:
    """A local activity: here the same as a regular one (scheduled, recorded and retried
    durably by the worker of the run's task queue); ``local_retry_threshold`` has no role.
    """
    return start_activity(activity, arg, **kwargs)


async def execute_local_activity(activity: Any, arg: Any = _UNSET, **kwargs: Any) -> Any:
    """Run a local activity and wait for its result (see ``start_local_activity``)."""
    return await start_local_activity(activity, arg, **kwargs)


execute_local_activity_method = execute_local_activity
"""``execute_local_activity`` for an activity declared as a method."""
start_local_activity_method = start_local_activity
"""``start_local_activity`` for an activity declared as a method."""


# --- child workflows and other runs ---------------------------------------------------------


def _workflow_name(workflow: Any) -> tuple[str, Any]:
    if isinstance(workflow, str):
        return workflow, None
    from ._definition import WorkflowDefinition

    if isinstance(workflow, type):
        d = WorkflowDefinition.of(workflow)
        return d.name or workflow.__name__, d.run.return_type
    name = getattr(workflow, "__replay_workflow_name__", None)
    if name is None:
        raise TypeError(
            f"{workflow!r} is not a workflow: pass a workflow class, its @workflow.run "
            "method, or the workflow type name"
        )
    from ._definition import _signature_types

    return name, _signature_types(workflow)[1]


class ChildWorkflowHandle:
    """A started child run: await it (or ``result()``) for its result; ``signal`` it."""

    def __init__(self, cmd: ChildCommand) -> None:
        self._cmd = cmd
        self.id = cmd.workflow_id
        self.run_id = cmd.run_id
        self.first_execution_run_id = cmd.run_id

    async def result(self) -> Any:
        return await self._cmd.future

    def __await__(self) -> Generator[Any, None, Any]:
        return self.result().__await__()

    async def signal(self, signal: Any, arg: Any = _UNSET, *, args: Sequence[Any] = ()
                     ) -> None:
        await _signal_external(self.id, self.run_id, signal, _all_args(arg, args))


def start_child_workflow(
    workflow: Any,
    arg: Any = _UNSET,
    *,
    args: Sequence[Any] = (),
    id: str | None = None,
    task_queue: str | None = None,
    result_type: Any = None,
    memo: dict[str, Any] | None = None,
    **_options: Any,
) -> Awaitable[ChildWorkflowHandle]:
    """Start a child run; the returned awaitable gives its handle."""
    inst = _inst("start_child_workflow")
    inst.ensure_writable("workflow.start_child_workflow()")
    name, declared = _workflow_name(workflow)
    cmd = ChildCommand(
        seq=inst.next_seq("child"),
        workflow_type=name,
        workflow_id=id or f"{inst.info.workflow_id}/child-{inst.uuid4()}",
        run_id=str(inst.uuid4()),
        task_queue=task_queue or inst.info.task_queue,
        args=inst.converter.to_payloads(_all_args(arg, args)),
        memo=inst.converter.to_payload(memo) if memo else {},
        result_type=result_type if result_type is not None else declared,
        future=inst.loop.create_future(),
        decode=inst.converter.from_payload,
    )
    inst.add_command(cmd)
    handle = ChildWorkflowHandle(cmd)

    async def started() -> ChildWorkflowHandle:
        return handle

    return started()


@typing.overload
async def execute_child_workflow(workflow: Callable[..., Awaitable[T]], arg: Any = ...,
                                 **kwargs: Any) -> T: ...
@typing.overload
async def execute_child_workflow(workflow: Any, arg: Any = ..., **kwargs: Any) -> Any: ...
async def execute_child_workflow(workflow: Any, arg: Any = _UNSET, **kwargs: Any) -> Any:
    """Start a child run and wait for its result."""
    handle = await start_child_workflow(workflow, arg, **kwargs)
    return await handle.result()


async def _signal_external(workflow_id: str, run_id: str | None, signal: Any,
                           args: list[Any]) -> None:
    inst = _inst("signal")
    inst.ensure_writable("signalling another workflow")
    name = signal if isinstance(signal, str) else _signal_name(signal)
    fut: asyncio.Future[None] = inst.loop.create_future()
    inst.add_command(SignalExternalCommand(
        seq=inst.next_seq("signal"), workflow_id=workflow_id, run_id=run_id,
        signal_name=name, args=inst.converter.to_payloads(args), future=fut))
    await fut


def _signal_name(fn: Any) -> str:
    marks = getattr(fn, "__replay_handler__", {})
    if "signal" in marks and marks["signal"][0]:
        return str(marks["signal"][0])
    raise TypeError(f"{fn!r} is not a @workflow.signal handler; pass it or its name")


class ExternalWorkflowHandle:
    """Another run, addressed by workflow id (and optionally run id), to signal."""

    def __init__(self, workflow_id: str, run_id: str | None = None) -> None:
        self.id = workflow_id
        self.run_id = run_id

    async def signal(self, signal: Any, arg: Any = _UNSET, *, args: Sequence[Any] = ()
                     ) -> None:
        """Send a signal; raises if no open run has this id."""
        await _signal_external(self.id, self.run_id, signal, _all_args(arg, args))


def get_external_workflow_handle(workflow_id: str, *, run_id: str | None = None
                                 ) -> ExternalWorkflowHandle:
    """A handle to signal another run from workflow code."""
    _inst("get_external_workflow_handle")
    return ExternalWorkflowHandle(workflow_id, run_id)


def get_external_workflow_handle_for(workflow: Any, workflow_id: str, *,
                                     run_id: str | None = None) -> ExternalWorkflowHandle:
    """Typed variant of :func:`get_external_workflow_handle` (the type is not checked)."""
    return get_external_workflow_handle(workflow_id, run_id=run_id)


# --- handlers registered at run time ---------------------------------------------------------


def set_signal_handler(name: str, handler: Callable[..., Any] | None) -> None:
    """Register (or with None remove) a signal handler; buffered signals are delivered."""
    _inst("set_signal_handler").set_signal_handler(name, handler)


def set_dynamic_signal_handler(handler: Callable[..., Any] | None) -> None:
    """Register a handler ``(name, args: Sequence[RawValue])`` for signals with no handler."""
    _inst("set_dynamic_signal_handler").set_signal_handler(None, handler)


def set_query_handler(name: str, handler: Callable[..., Any] | None) -> None:
    """Register (or with None remove) a query handler while the workflow runs."""
    _inst("set_query_handler").set_runtime_handler("query", name, handler)


def set_dynamic_query_handler(handler: Callable[..., Any] | None) -> None:
    """Register a handler ``(name, args: Sequence[RawValue])`` for queries with no handler."""
    _inst("set_dynamic_query_handler").set_runtime_handler("query", None, handler)


def set_update_handler(name: str, handler: Callable[..., Any] | None, *,
                       validator: Callable[..., Any] | None = None) -> None:
    """Register (or with None remove) an update handler, and its validator, at run time."""
    _inst("set_update_handler").set_runtime_handler("update", name, handler, validator)


def set_dynamic_update_handler(handler: Callable[..., Any] | None, *,
                               validator: Callable[..., Any] | None = None) -> None:
    """Register a handler ``(name, args: Sequence[RawValue])`` for updates with no handler."""
    _inst("set_dynamic_update_handler").set_runtime_handler("update", None, handler,
                                                              validator)


# --- logging and unsafe ------------------------------------------------------------------------


class _WorkflowLogger(logging.LoggerAdapter[logging.Logger]):
    """Adds run ids to records and stays silent while replaying."""

    def isEnabledFor(self, level: int) -> bool:
        loop = events._get_running_loop()
        if isinstance(loop, WorkflowEventLoop) and loop.instance.replaying:  # type: ignore[attr-defined]
            return False
        return self.logger.isEnabledFor(level)

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        loop = events._get_running_loop()
        if isinstance(loop, WorkflowEventLoop):
            i = loop.instance.info  # type: ignore[attr-defined]
            extra = kwargs.setdefault("extra", {})
            extra.update(workflow_id=i.workflow_id, run_id=i.run_id,
                         workflow_type=i.workflow_type)
        return msg, kwargs


logger = _WorkflowLogger(logging.getLogger("replay.workflow"), {})
"""Logger for workflow code: silent during replay, records carry the run's ids."""


class _Unsafe:
    """Escape hatches; read each docstring before using one."""

    @staticmethod
    def is_replaying() -> bool:
        """True while the current activation replays recorded history."""
        return _inst("unsafe.is_replaying").replaying

    @staticmethod
    @contextlib.contextmanager
    def imports_passed_through() -> Iterator[None]:
        """Accepted for compatibility; imports are never re-executed per run here."""
        yield


unsafe = _Unsafe()
