"""The workflow API for child workflows and signals to other runs (re-exported by
``replay.workflow``)."""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from ._args import UNSET, all_args
from ._commands import ChildCommand, SignalExternalCommand
from ._current import instance_for
from ._definition import handler_name, workflow_name
from ._interceptors import (
    SignalChildWorkflowInput,
    SignalExternalWorkflowInput,
    StartChildWorkflowInput,
)
from ._parent_close import ParentClosePolicy, policy_from
from ._search_attributes import TypedSearchAttributes, encode_attributes

T = TypeVar("T")
ChildSelf = TypeVar("ChildSelf")
ChildParam = TypeVar("ChildParam")
ChildParams = ParamSpec("ChildParams")


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

    async def signal(self, signal: Any, arg: Any = UNSET, *, args: Sequence[Any] = ()
                     ) -> None:
        """Send the child a signal."""
        out = instance_for("signal").outbound
        if out is None:
            await _signal_external(self.id, self.run_id, signal, all_args(arg, args))
            return
        await out.signal_child_workflow(SignalChildWorkflowInput(
            signal=handler_name(signal, "signal"), args=all_args(arg, args),
            child_workflow_id=self.id))


def start_child_workflow(
    workflow: Any,
    arg: Any = UNSET,
    *,
    args: Sequence[Any] = (),
    id: str | None = None,
    task_queue: str | None = None,
    result_type: Any = None,
    memo: dict[str, Any] | None = None,
    search_attributes: TypedSearchAttributes | None = None,
    parent_close_policy: ParentClosePolicy = ParentClosePolicy.TERMINATE,
    **options: Any,
) -> Awaitable[ChildWorkflowHandle]:
    """Start a child run; the returned awaitable gives its handle.

    Takes the familiar SDK's ``id``, ``task_queue``, ``memo``, ``search_attributes``
    (the child's own; nothing is inherited), ``result_type`` and
    ``parent_close_policy`` (what happens to the child when this run closes:
    TERMINATE, the default, ABANDON or REQUEST_CANCEL); any other option raises
    TypeError naming it rather than being ignored.
    """
    refuse_options("workflow.start_child_workflow()", options, UNSUPPORTED_CHILD_OPTIONS)
    inst = instance_for("start_child_workflow")
    inst.ensure_writable("workflow.start_child_workflow()")
    policy = policy_from(parent_close_policy)
    name, declared = workflow_name(workflow)
    input = StartChildWorkflowInput(
        workflow=name, args=all_args(arg, args), id=id, task_queue=task_queue, memo=memo,
        ret_type=result_type if result_type is not None else declared,
        parent_close_policy=policy, search_attributes=search_attributes)
    encode_attributes(search_attributes)  # refuse bad values before anything is recorded
    if inst.outbound is not None:
        # the chain ends in start_child, which returns a ChildWorkflowHandle
        return typing.cast("Awaitable[ChildWorkflowHandle]",
                           inst.outbound.start_child_workflow(input))
    handle = start_child(input)

    async def started() -> ChildWorkflowHandle:
        return handle

    return started()


def start_child(input: StartChildWorkflowInput) -> ChildWorkflowHandle:
    """Start the child run ``input`` describes (the end of the outbound chain)."""
    inst = instance_for("start_child_workflow")
    inst.ensure_writable("workflow.start_child_workflow()")
    cmd = ChildCommand(
        seq=inst.next_seq("child"),
        workflow_type=input.workflow,
        workflow_id=input.id or f"{inst.info.workflow_id}/child-{inst.uuid4()}",
        run_id=str(inst.uuid4()),
        task_queue=input.task_queue or inst.info.task_queue,
        args=inst.converter.to_payloads(input.args),
        memo=inst.converter.to_payload(dict(input.memo)) if input.memo else {},
        result_type=input.ret_type,
        future=inst.loop.create_future(),
        decode=inst.converter.from_payload,
        headers=dict(input.headers),
        search_attributes=encode_attributes(input.search_attributes),
        parent_close_policy=policy_from(input.parent_close_policy).recorded,
    )
    inst.add_command(cmd)
    return ChildWorkflowHandle(cmd)


# Typed as in the familiar SDK: given the child's run method, its argument is checked
# and its result typed (the options are checked when called: unknown ones are refused).
@typing.overload
async def execute_child_workflow(workflow: Callable[[ChildSelf], Awaitable[T]],
                                 **kwargs: Any) -> T: ...
@typing.overload
async def execute_child_workflow(workflow: Callable[[ChildSelf, ChildParam], Awaitable[T]],
                                 arg: ChildParam, **kwargs: Any) -> T: ...
@typing.overload
async def execute_child_workflow(
        workflow: Callable[Concatenate[ChildSelf, ChildParams], Awaitable[T]], *,
        args: Sequence[Any], **kwargs: Any) -> T: ...
@typing.overload
async def execute_child_workflow(workflow: str | type[Any], arg: Any = ...,
                                 **kwargs: Any) -> Any: ...
async def execute_child_workflow(workflow: Any, arg: Any = UNSET, **kwargs: Any) -> Any:
    """Start a child run and wait for its result."""
    handle = await start_child_workflow(workflow, arg, **kwargs)
    return await handle.result()


UNSUPPORTED_CHILD_OPTIONS = frozenset({
    "cancellation_type", "execution_timeout", "run_timeout",
    "task_timeout", "id_reuse_policy", "retry_policy", "cron_schedule",
    "static_summary", "static_details", "versioning_intent", "priority",
})
"""The familiar SDK's child options that replay does not implement yet."""


def refuse_options(call: str, options: dict[str, Any], known: frozenset[str]) -> None:
    """TypeError for the first option in ``options``: a known one that is not supported
    yet, or a keyword the call does not take at all. Nothing is silently ignored."""
    for name in sorted(options):
        if name in known:
            raise TypeError(
                f"{call} does not support {name}= yet; replay would ignore it, so it refuses "
                "it instead. Remove the argument (the run then behaves as with its default)."
            )
        raise TypeError(f"{call} got an unexpected keyword argument {name!r}")


async def _signal_external(workflow_id: str, run_id: str | None, signal: Any,
                           args: Sequence[Any], headers: Mapping[str, Any] | None = None
                           ) -> None:
    inst = instance_for("signal")
    inst.ensure_writable("signalling another workflow")
    name = handler_name(signal, "signal")
    fut: asyncio.Future[None] = inst.loop.create_future()
    inst.add_command(SignalExternalCommand(
        seq=inst.next_seq("signal"), workflow_id=workflow_id, run_id=run_id,
        signal_name=name, args=inst.converter.to_payloads(args), future=fut,
        headers=dict(headers or {})))
    await fut


async def signal_child(input: SignalChildWorkflowInput) -> None:
    """Signal a child run (the end of the outbound chain)."""
    await _signal_external(input.child_workflow_id, None, input.signal, input.args,
                           input.headers)


async def signal_external(input: SignalExternalWorkflowInput) -> None:
    """Signal another run (the end of the outbound chain)."""
    await _signal_external(input.workflow_id, input.workflow_run_id, input.signal,
                           input.args, input.headers)


class ExternalWorkflowHandle:
    """Another run, addressed by workflow id (and optionally run id), to signal."""

    def __init__(self, workflow_id: str, run_id: str | None = None) -> None:
        self.id = workflow_id
        self.run_id = run_id

    async def signal(self, signal: Any, arg: Any = UNSET, *, args: Sequence[Any] = ()
                     ) -> None:
        """Send a signal; raises if no open run has this id."""
        out = instance_for("signal").outbound
        if out is None:
            await _signal_external(self.id, self.run_id, signal, all_args(arg, args))
            return
        await out.signal_external_workflow(SignalExternalWorkflowInput(
            signal=handler_name(signal, "signal"), args=all_args(arg, args),
            namespace="default", workflow_id=self.id, workflow_run_id=self.run_id))


def get_external_workflow_handle(workflow_id: str, *, run_id: str | None = None
                                 ) -> ExternalWorkflowHandle:
    """A handle to signal another run from workflow code."""
    instance_for("get_external_workflow_handle")
    return ExternalWorkflowHandle(workflow_id, run_id)


def get_external_workflow_handle_for(workflow: Any, workflow_id: str, *,
                                     run_id: str | None = None) -> ExternalWorkflowHandle:
    """Typed variant of :func:`get_external_workflow_handle` (the type is not checked)."""
    return get_external_workflow_handle(workflow_id, run_id=run_id)
