"""The workflow API for activities (re-exported by ``replay.workflow``).

``start_activity`` is the one place workflow code schedules an activity; the
other functions are spellings of it.
"""

from __future__ import annotations

import asyncio
import functools
import typing
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from ._activity_defn import activity_name_and_result_type
from ._args import UNSET, all_args
from ._commands import ActivityCancelCommand, ActivityCommand, retry_policy_data
from ._common import ActivityCancellationType, RetryPolicy
from ._current import instance_for
from ._instance import WorkflowInstance

T = TypeVar("T")


class ActivityHandle(asyncio.Task[Any]):
    """A started activity: await it for the result, ``cancel()`` it to request cancellation."""

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
) -> ActivityHandle:
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
    seq = inst.next_seq("activity")
    loop = inst.loop
    cmd = ActivityCommand(
        seq=seq,
        activity_type=name,
        activity_id=activity_id or str(seq),
        args=inst.converter.to_payloads(all_args(arg, args)),
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
    handle = ActivityHandle(_await_activity(inst, cmd), loop=loop, name=f"activity:{name}")
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
async def execute_activity(activity: Callable[..., Awaitable[T]], arg: Any = ...,
                           **kwargs: Any) -> T: ...
@typing.overload
async def execute_activity(activity: Callable[..., T], arg: Any = ..., **kwargs: Any) -> T: ...
@typing.overload
async def execute_activity(activity: str, arg: Any = ..., **kwargs: Any) -> Any: ...
async def execute_activity(activity: Any, arg: Any = UNSET, **kwargs: Any) -> Any:
    """Schedule an activity and wait for its result (see ``start_activity``).

    The result is decoded into the activity's return annotation (or ``result_type``).
    """
    return await start_activity(activity, arg, **kwargs)


execute_activity_method = execute_activity
"""``execute_activity`` for an activity declared as a method (registered bound)."""
start_activity_method = start_activity
"""``start_activity`` for an activity declared as a method (registered bound)."""


def start_local_activity(activity: Any, arg: Any = UNSET, *,
                         local_retry_threshold: timedelta | None = None,
                         **kwargs: Any) -> ActivityHandle:
    """A local activity: here the same as a regular one (scheduled, recorded and retried
    durably by the worker of the run's task queue). ``local_retry_threshold`` is the
    backoff above which the familiar engine retries with a durable timer; here every
    retry already waits on a durable schedule, so any threshold is honoured.
    """
    return start_activity(activity, arg, **kwargs)


async def execute_local_activity(activity: Any, arg: Any = UNSET, **kwargs: Any) -> Any:
    """Run a local activity and wait for its result (see ``start_local_activity``)."""
    return await start_local_activity(activity, arg, **kwargs)


execute_local_activity_method = execute_local_activity
"""``execute_local_activity`` for an activity declared as a method."""
start_local_activity_method = start_local_activity
"""``start_local_activity`` for an activity declared as a method."""
