"""Command state machines: one small class per kind of thing workflow code asks for.

Each knows the fields of the event it becomes (the base, ``KEY_FIELDS`` and
matching live in ``_command_base``) and how the input that resolves it (an
activity result, a timer firing...) reaches the awaiting workflow code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from replay.history import (
    ActivityCanceled,
    ActivityCancelRequested,
    ActivityCompleted,
    ActivityFailed,
    ActivityScheduled,
    ActivityTimedOut,
    ChildWorkflowCanceled,
    ChildWorkflowCompleted,
    ChildWorkflowFailed,
    ChildWorkflowStarted,
    Event,
    EventEmitted,
    ExternalSignalDelivered,
    ExternalSignalFailed,
    ExternalSignalSent,
    Failure,
    MarkerRecorded,
    RetryPolicyData,
    SearchAttributesUpserted,
    TimerCanceled,
    TimerStarted,
    UpdateAccepted,
    UpdateCompleted,
    WorkflowCanceled,
    WorkflowCompleted,
    WorkflowContinuedAsNew,
    WorkflowFailed,
)

from ._command_base import Command
from ._exceptions import ActivityError, CancelledError, ChildWorkflowError, TimeoutError
from ._failure import from_failure

if TYPE_CHECKING:
    from ._loop import DurableTimerHandle

class ActivityCommand(Command):
    __slots__ = (
        "activity_id",
        "activity_type",
        "args",
        "cancel_requested",
        "cancellation_type",
        "decode",
        "done",
        "future",
        "options",
        "result_type",
        "seq",
    )
    event_type = ActivityScheduled
    key_attributes = True

    def __init__(self, *, seq: int, activity_type: str, activity_id: str, args: list[Any],
                 options: dict[str, Any], cancellation_type: str, result_type: Any,
                 future: asyncio.Future[Any], done: asyncio.Future[None],
                 decode: Any) -> None:
        super().__init__()
        self.seq = seq
        self.activity_type = activity_type
        self.activity_id = activity_id
        self.args = args
        self.options = options
        self.cancellation_type = cancellation_type
        self.result_type = result_type
        self.future = future
        self.done = done
        self.cancel_requested = False
        self.decode = decode

    def fields(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "activity_type": self.activity_type,
            "activity_id": self.activity_id,
            "args": self.args,
            "cancellation_type": self.cancellation_type,
            **self.options,
        }

    def _error(self, message: str, cause: BaseException) -> ActivityError:
        err = ActivityError(message, activity_type=self.activity_type,
                            activity_id=self.activity_id, scheduled_event_id=self.event_id)
        err.__cause__ = cause
        return err

    def resolve(self, event: Event) -> None:
        fut = self.future
        if isinstance(event, ActivityCompleted):
            if not fut.done():
                fut.set_result(self.decode(event.result, self.result_type))
        elif isinstance(event, ActivityFailed):
            if not fut.done():
                fut.set_exception(self._error("activity failed", from_failure(event.failure)))
        elif isinstance(event, ActivityTimedOut):
            if not fut.done():
                cause = TimeoutError(f"activity timed out ({event.timeout_type})",
                                     type=event.timeout_type)
                fut.set_exception(self._error("activity timed out", cause))
        elif isinstance(event, ActivityCanceled):
            self.resolve_cancelled()
        if not self.done.done():
            self.done.set_result(None)

    def resolve_cancelled(self) -> None:
        """Resolve as cancelled: ``ActivityError`` caused by ``CancelledError``."""
        if not self.future.done():
            self.future.set_exception(self._error("activity cancelled",
                                                  CancelledError("activity cancelled")))


class ActivityCancelCommand(Command):
    __slots__ = ("target",)
    event_type = ActivityCancelRequested

    def __init__(self, target: ActivityCommand) -> None:
        super().__init__()
        self.target = target

    def fields(self) -> dict[str, Any]:
        return {"scheduled_event_id": self.target.event_id}


class TimerCommand(Command):
    __slots__ = ("canceled", "duration", "fire_at", "handle", "seq")
    event_type = TimerStarted
    key_attributes = True

    def __init__(self, *, seq: int, duration: timedelta, fire_at: datetime,
                 handle: DurableTimerHandle) -> None:
        super().__init__()
        self.seq = seq
        self.duration = duration
        self.fire_at = fire_at
        self.handle = handle
        self.canceled = False

    def fields(self) -> dict[str, Any]:
        return {"seq": self.seq, "duration": self.duration, "fire_at": self.fire_at}

    def resolve(self, event: Event) -> None:
        handle = self.handle
        # The handle no longer needs its command (a cancel of a fired timer is a no-op),
        # and without the reference back the two are freed as soon as they are done
        # with, not left as a cycle for the garbage collector (one per timer).
        handle.command = None
        handle.workflow_loop.fire(handle)


class TimerCancelCommand(Command):
    __slots__ = ("target",)
    event_type = TimerCanceled

    def __init__(self, target: TimerCommand) -> None:
        super().__init__()
        self.target = target

    def fields(self) -> dict[str, Any]:
        return {"started_event_id": self.target.event_id}


class ChildCommand(Command):
    __slots__ = (
        "args",
        "decode",
        "future",
        "headers",
        "memo",
        "parent_close_policy",
        "result_type",
        "run_id",
        "search_attributes",
        "seq",
        "task_queue",
        "workflow_id",
        "workflow_type",
    )
    event_type = ChildWorkflowStarted
    key_attributes = True

    def __init__(self, *, seq: int, workflow_type: str, workflow_id: str, run_id: str,
                 task_queue: str, args: list[Any], memo: dict[str, Any], result_type: Any,
                 future: asyncio.Future[Any], decode: Any,
                 headers: dict[str, Any] | None = None,
                 search_attributes: dict[str, Any] | None = None,
                 parent_close_policy: str = "terminate") -> None:
        super().__init__()
        self.headers = headers or {}
        self.search_attributes = search_attributes or {}
        self.parent_close_policy = parent_close_policy
        self.seq = seq
        self.workflow_type = workflow_type
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.task_queue = task_queue
        self.args = args
        self.memo = memo
        self.result_type = result_type
        self.future = future
        self.decode = decode

    def fields(self) -> dict[str, Any]:
        return {"seq": self.seq, "workflow_type": self.workflow_type,
                "workflow_id": self.workflow_id, "run_id": self.run_id,
                "task_queue": self.task_queue, "args": self.args, "memo": self.memo,
                "headers": self.headers, "search_attributes": self.search_attributes,
                "parent_close_policy": self.parent_close_policy}

    def resolve(self, event: Event) -> None:
        if self.future.done():
            return
        if isinstance(event, ChildWorkflowCompleted):
            self.future.set_result(self.decode(event.result, self.result_type))
            return
        if isinstance(event, ChildWorkflowFailed):
            message, cause = "child workflow failed", from_failure(event.failure)
        else:
            assert isinstance(event, ChildWorkflowCanceled)
            message, cause = "child workflow cancelled", CancelledError("child cancelled")
        err = ChildWorkflowError(message, workflow_type=self.workflow_type,
                                 workflow_id=self.workflow_id, run_id=self.run_id)
        err.__cause__ = cause
        self.future.set_exception(err)


class SignalExternalCommand(Command):
    __slots__ = ("args", "future", "headers", "run_id", "seq", "signal_name", "workflow_id")
    event_type = ExternalSignalSent
    key_attributes = True

    def __init__(self, *, seq: int, workflow_id: str, run_id: str | None, signal_name: str,
                 args: list[Any], future: asyncio.Future[None],
                 headers: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.headers = headers or {}
        self.seq = seq
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.signal_name = signal_name
        self.args = args
        self.future = future

    def fields(self) -> dict[str, Any]:
        return {"seq": self.seq, "workflow_id": self.workflow_id, "run_id": self.run_id,
                "signal_name": self.signal_name, "args": self.args, "headers": self.headers}

    def resolve(self, event: Event) -> None:
        if self.future.done():
            return
        if isinstance(event, ExternalSignalDelivered):
            self.future.set_result(None)
        elif isinstance(event, ExternalSignalFailed):
            self.future.set_exception(from_failure(event.failure))


class MarkerCommand(Command):
    __slots__ = ("deprecated", "details", "marker_id", "name")
    event_type = MarkerRecorded
    key_attributes = True

    def __init__(self, *, name: str, marker_id: str, details: Any = None,
                 deprecated: bool = False) -> None:
        super().__init__()
        self.name = name
        self.marker_id = marker_id
        self.details = details
        self.deprecated = deprecated

    def fields(self) -> dict[str, Any]:
        return {"name": self.name, "marker_id": self.marker_id, "details": self.details,
                "deprecated": self.deprecated}


class UpdateAcceptedCommand(Command):
    __slots__ = ("args", "headers", "name", "update_id")
    event_type = UpdateAccepted
    key_attributes = True

    def __init__(self, *, update_id: str, name: str, args: list[Any],
                 headers: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.update_id = update_id
        self.name = name
        self.args = args
        self.headers = dict(headers or {})

    def fields(self) -> dict[str, Any]:
        return {"update_id": self.update_id, "name": self.name, "args": self.args,
                "headers": self.headers}


class UpdateCompletedCommand(Command):
    __slots__ = ("accepted", "failure", "result")
    event_type = UpdateCompleted

    def __init__(self, *, accepted: UpdateAcceptedCommand, result: Any,
                 failure: Failure | None) -> None:
        super().__init__()
        self.accepted = accepted
        self.result = result
        self.failure = failure

    def fields(self) -> dict[str, Any]:
        return {"update_id": self.accepted.update_id,
                "accepted_event_id": self.accepted.event_id,
                "result": self.result, "failure": self.failure}


class EmitCommand(Command):
    __slots__ = ("payload", "seq")
    event_type = EventEmitted

    def __init__(self, *, seq: int, payload: Any) -> None:
        super().__init__()
        self.seq = seq
        self.payload = payload

    def fields(self) -> dict[str, Any]:
        return {"seq": self.seq, "payload": self.payload}


class UpsertSearchAttributesCommand(Command):
    __slots__ = ("search_attributes",)
    event_type = SearchAttributesUpserted
    key_attributes = True

    def __init__(self, search_attributes: dict[str, Any]) -> None:
        super().__init__()
        self.search_attributes = search_attributes

    def fields(self) -> dict[str, Any]:
        return {"search_attributes": self.search_attributes}


class CompleteCommand(Command):
    __slots__ = ("result",)
    event_type = WorkflowCompleted

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result

    def fields(self) -> dict[str, Any]:
        return {"result": self.result}


class FailCommand(Command):
    __slots__ = ("failure",)
    event_type = WorkflowFailed

    def __init__(self, failure: Failure) -> None:
        super().__init__()
        self.failure = failure

    def fields(self) -> dict[str, Any]:
        return {"failure": self.failure}


class CancelCommand(Command):
    __slots__ = ()
    event_type = WorkflowCanceled

    def fields(self) -> dict[str, Any]:
        return {}


class ContinueAsNewCommand(Command):
    __slots__ = ("args", "headers", "memo", "new_run_id", "search_attributes", "task_queue",
                 "workflow_type")
    event_type = WorkflowContinuedAsNew
    key_attributes = True

    def __init__(self, *, new_run_id: str, workflow_type: str, task_queue: str,
                 args: list[Any], memo: dict[str, Any],
                 headers: dict[str, Any] | None = None,
                 search_attributes: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.headers = headers or {}
        self.search_attributes = search_attributes or {}
        self.new_run_id = new_run_id
        self.workflow_type = workflow_type
        self.task_queue = task_queue
        self.args = args
        self.memo = memo

    def fields(self) -> dict[str, Any]:
        return {"new_run_id": self.new_run_id, "workflow_type": self.workflow_type,
                "task_queue": self.task_queue, "args": self.args, "memo": self.memo,
                "headers": self.headers, "search_attributes": self.search_attributes}


TERMINAL_COMMANDS = (CompleteCommand, FailCommand, CancelCommand, ContinueAsNewCommand)


def retry_policy_data(policy: Any) -> RetryPolicyData | None:
    """Record a RetryPolicy (from replay.common) as history data."""
    if policy is None:
        return None
    return RetryPolicyData(
        initial_interval=policy.initial_interval,
        backoff_coefficient=policy.backoff_coefficient,
        maximum_interval=policy.maximum_interval,
        maximum_attempts=policy.maximum_attempts,
        non_retryable_error_types=list(policy.non_retryable_error_types or ()),
    )
