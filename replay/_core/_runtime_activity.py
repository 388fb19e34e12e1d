"""The workflow API for activities (re-exported by ``replay.workflow``).

``start_activity`` is the one place workflow code schedules an activity; the
other functions are spellings of it.
"""

from __future__ import annotations

import asyncio
import functools
import typing
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any, TypeVar, Unpack

from ._activity_defn import activity_name_and_result_type
from ._activity_typing import ActivityOptions, ActivityParam, ActivityReturn
from ._args import UNSET, all_args
from ._commands import ActivityCancelCommand, ActivityCommand, retry_policy_data
from ._common import ActivityCancellationType, RetryPolicy
from ._current import instance_for
from ._instance import WorkflowInstance
from ._interceptors import StartActivityInput
from ._loop import WorkflowTask

T = TypeVar("T")


class ActivityHandle(WorkflowTask[T]):
    """A started activity: await it for the result, ``cancel()`` it to request cancellation.

    Like every task of the workflow loop it hashes by creation order, so a set of
    handles iterates the same way in every replay.
    """

    _request_cancel: Callable[[], None] | None = None

    def cancel(self, msg: Any | None = None) -> bool:
        """Request the activity's cancellation, as its ``cancellation_type`` says.

        Awaiting the handle then raises ``ActivityError`` caused by ``CancelledError``
        (or, with WAIT_CANCELLATION_COMPLETED, gives the activity's own outcome); the
        awaiting code is never cancelled with ``asyncio.CancelledError``. This holds
        also when the handle has not started running yet, and when the cancellation
        comes from a task or run that awaits it. False if the handle is done.
        """
        if self.done():
            return False
        if self._request_cancel is None:
            return super().cancel(msg)
        self._request_cancel()
        return True


@typing.overload
def start_activity(activity: Callable[[], Awaitable[ActivityReturn]],
                   **options: Unpack[ActivityOptions]) -> ActivityHandle[ActivityReturn]: ...
@typing.overload
def start_activity(activity: Callable[[], ActivityReturn],
                   **options: Unpack[ActivityOptions]) -> ActivityHandle[ActivityReturn]: ...
@typing.overload
def start_activity(activity: Callable[[ActivityParam], Awaitable[ActivityReturn]],
                   arg: ActivityParam,
                   **options: Unpack[ActivityOptions]) -> ActivityHandle[ActivityReturn]: ...
@typing.overload
def start_activity(activity: Callable[[ActivityParam], ActivityReturn], arg: ActivityParam,
                   **options: Unpack[ActivityOptions]) -> ActivityHandle[ActivityReturn]: ...
@typing.overload
def start_activity(activity: Callable[..., Awaitable[ActivityReturn]], *, args: Sequence[Any],
                   **options: Unpack[ActivityOptions]) -> ActivityHandle[ActivityReturn]: ...
@typing.overload
def start_activity(activity: Callable[..., ActivityReturn], *, args: Sequence[Any],
                   **options: Unpack[ActivityOptions]) -> ActivityHandle[ActivityReturn]: ...
@typing.overload
def start_activity(activity: str, arg: Any = ..., *, args: Sequence[Any] = ...,
                   result_type: Any = ..., **options: Unpack[ActivityOptions]
                   ) -> ActivityHandle[Any]: ...
def start_activity(
    activity: Any,
    arg: Any = UNSET,
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
    _is_local: bool = False,
) -> ActivityHandle[Any]:
    """Schedule an activity (a function decorated with ``activity.defn``, or its name).

    One of ``start_to_close_timeout`` or ``schedule_to_close_timeout`` is required.
    """
    inst = instance_for("start_activity")
    inst.ensure_writable("workflow.start_activity()")
    if start_to_close_timeout is None and schedule_to_close_timeout is None:
        raise ValueError(
            "execute_activity needs start_to_close_timeout or schedule_to_close_timeout, so "
            "a lost worker cannot leave the workflow waiting forever"
        )
    name, declared = activity_name_and_result_type(activity)
    input = StartActivityInput(
        activity=name, args=all_args(arg, args), activity_id=activity_id,
        task_queue=task_queue, schedule_to_close_timeout=schedule_to_close_timeout,
        schedule_to_start_timeout=schedule_to_start_timeout,
        start_to_close_timeout=start_to_close_timeout, heartbeat_timeout=heartbeat_timeout,
        retry_policy=retry_policy, cancellation_type=cancellation_type,
        ret_type=result_type if result_type is not None else declared, is_local=_is_local)
    out = inst.outbound
    if out is not None:
        started = out.start_local_activity(input) if _is_local else out.start_activity(input)
        # the chain ends in schedule_activity
        return typing.cast(ActivityHandle[Any], started)
    cmd = issue_activity(input)
    # the handle's coroutine is created here, in the frame workflow code called, so it
    # records the user's line (where an engine-issued cancellation is placed)
    return activity_handle(inst, cmd, _await_activity(inst, cmd))


def schedule_activity(input: StartActivityInput) -> ActivityHandle[Any]:
    """Schedule the activity ``input`` describes (the end of the outbound chain)."""
    inst = instance_for("start_activity")
    cmd = issue_activity(input)
    return activity_handle(inst, cmd, _await_activity(inst, cmd))


def issue_activity(input: StartActivityInput) -> ActivityCommand:
    """Issue the ActivityScheduled command ``input`` describes."""
    inst = instance_for("start_activity")
    inst.ensure_writable("workflow.start_activity()")
    seq = inst.next_seq("activity")
    loop = inst.loop
    name = input.activity
    cmd = ActivityCommand(
        seq=seq,
        activity_type=name,
        activity_id=input.activity_id or str(seq),
        args=inst.converter.to_payloads(input.args),
        options={
            "task_queue": input.task_queue or inst.info.task_queue,
            "schedule_to_close_timeout": input.schedule_to_close_timeout,
            "schedule_to_start_timeout": input.schedule_to_start_timeout,
            "start_to_close_timeout": input.start_to_close_timeout,
            "heartbeat_timeout": input.heartbeat_timeout,
            "retry_policy": retry_policy_data(input.retry_policy),
            "headers": dict(input.headers),
        },
        cancellation_type=input.cancellation_type.value,
        result_type=input.ret_type,
        future=loop.create_future(),
        done=loop.create_future(),
        decode=inst.converter.from_payload,
    )
    inst.add_command(cmd)
    return cmd


def activity_handle(inst: WorkflowInstance, cmd: ActivityCommand,
                    outcome: Coroutine[Any, Any, Any]) -> ActivityHandle[Any]:
    """The handle workflow code awaits for ``cmd``'s ``outcome``."""
    handle = ActivityHandle(outcome, loop=inst.loop, name=f"activity:{cmd.activity_type}")
    handle._request_cancel = functools.partial(_request_cancel, inst, cmd)
    return handle


async def _await_activity(inst: WorkflowInstance, cmd: ActivityCommand) -> Any:
    """The activity's outcome, as the familiar SDK reports it.

    Cancelling the handle (or a task awaiting it, or the whole run) never cancels the
    awaiting code with ``asyncio.CancelledError``: the activity is asked to cancel as
    its ``cancellation_type`` says (TRY_CANCEL: request it and resolve at once;
    ABANDON: resolve at once without a request; WAIT_CANCELLATION_COMPLETED: request
    it and wait for the activity's own outcome, which may still be its result), and a
    cancelled activity raises ``ActivityError`` with a ``CancelledError`` cause. The
    result future is shielded so that the request never cancels it.
    """
    while True:
        try:
            return await asyncio.shield(cmd.future)
        except asyncio.CancelledError:
            if cmd.future.done():
                # resolved in the same step as the cancellation: keep the real outcome
                return cmd.future.result()
            _request_cancel(inst, cmd)


def _request_cancel(inst: WorkflowInstance, cmd: ActivityCommand) -> None:
    """Ask for ``cmd``'s cancellation (once) as its cancellation type says."""
    if cmd.cancel_requested:
        return
    cmd.cancel_requested = True
    kind = ActivityCancellationType(cmd.cancellation_type)
    if kind is not ActivityCancellationType.ABANDON:
        inst.add_command(ActivityCancelCommand(cmd))
    if kind is not ActivityCancellationType.WAIT_CANCELLATION_COMPLETED:
        cmd.resolve_cancelled()


@typing.overload
async def execute_activity(activity: Callable[[], Awaitable[ActivityReturn]],
                           **options: Unpack[ActivityOptions]) -> ActivityReturn: ...
@typing.overload
async def execute_activity(activity: Callable[[], ActivityReturn],
                           **options: Unpack[ActivityOptions]) -> ActivityReturn: ...
@typing.overload
async def execute_activity(activity: Callable[[ActivityParam], Awaitable[ActivityReturn]],
                           arg: ActivityParam,
                           **options: Unpack[ActivityOptions]) -> ActivityReturn: ...
@typing.overload
async def execute_activity(activity: Callable[[ActivityParam], ActivityReturn], arg: ActivityParam,
                           **options: Unpack[ActivityOptions]) -> ActivityReturn: ...
@typing.overload
async def execute_activity(activity: Callable[..., Awaitable[ActivityReturn]], *,
                           args: Sequence[Any],
                           **options: Unpack[ActivityOptions]) -> ActivityReturn: ...
@typing.overload
async def execute_activity(activity: Callable[..., ActivityReturn], *, args: Sequence[Any],
                           **options: Unpack[ActivityOptions]) -> ActivityReturn: ...
@typing.overload
async def execute_activity(activity: str, arg: Any = ..., *, args: Sequence[Any] = ...,
                           result_type: Any = ..., **options: Unpack[ActivityOptions]
                           ) -> Any: ...
async def execute_activity(activity: Any, arg: Any = UNSET, **kwargs: Any) -> Any:
    """Schedule an activity and wait for its result (see ``start_activity``).

    The result is decoded into the activity's return annotation (or ``result_type``).
    """
    return await start_activity(activity, arg, **kwargs)


@typing.overload
async def execute_activity_method(activity: Callable[..., Awaitable[T]], arg: Any = ...,
                                  **kwargs: Any) -> T: ...
@typing.overload
async def execute_activity_method(activity: Callable[..., T], arg: Any = ...,
                                  **kwargs: Any) -> T: ...
async def execute_activity_method(activity: Any, arg: Any = UNSET, **kwargs: Any) -> Any:
    """``execute_activity`` for an activity declared as a method (registered bound)."""
    return await start_activity(activity, arg, **kwargs)


def start_activity_method(activity: Any, arg: Any = UNSET, **kwargs: Any
                          ) -> ActivityHandle[Any]:
    """``start_activity`` for an activity declared as a method (registered bound)."""
    return start_activity(activity, arg, **kwargs)


def start_local_activity(activity: Any, arg: Any = UNSET, *,
                         local_retry_threshold: timedelta | None = None,
                         **kwargs: Any) -> ActivityHandle[Any]:
    """A local activity: here the same as a regular one (scheduled, recorded and retried
    durably by the worker of the run's task queue). ``local_retry_threshold`` is the
    backoff above which the familiar engine retries with a durable timer; here every
    retry already waits on a durable schedule, so any threshold is honoured.
    """
    # the implementation's own keyword (the overloads leave it out: it is not public)
    schedule: Callable[..., ActivityHandle[Any]] = start_activity
    return schedule(activity, arg, _is_local=True, **kwargs)


async def execute_local_activity(activity: Any, arg: Any = UNSET, **kwargs: Any) -> Any:
    """Run a local activity and wait for its result (see ``start_local_activity``)."""
    return await start_local_activity(activity, arg, **kwargs)


execute_local_activity_method = execute_local_activity
"""``execute_local_activity`` for an activity declared as a method."""
start_local_activity_method = start_local_activity
"""``start_local_activity`` for an activity declared as a method."""
