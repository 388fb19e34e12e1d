"""Exceptions to recorded Failures and back.

A Failure's ``type`` is the application error type (``ApplicationError.type``,
or the class name of any other exception); a few engine types round-trip to
their own classes. Nothing is imported by name: unknown types come back as
ApplicationError carrying the recorded type string.
"""

from __future__ import annotations

import traceback

from replay.history import Failure, PayloadConverter

from ._exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
    FailureError,
    TerminatedError,
    TimeoutError,
)


def to_failure(exc: BaseException, converter: PayloadConverter) -> Failure:
    """Record an exception (and its cause chain) as a Failure."""
    cause = exc.__cause__ if exc.__cause__ is not None else None
    cause_failure = to_failure(cause, converter) if cause is not None else None
    stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, chain=False))
    if isinstance(exc, ApplicationError):
        return Failure(
            message=exc.message,
            type=exc.type or "ApplicationError",
            non_retryable=exc.non_retryable,
            details=converter.to_payloads(exc.details),
            stack_trace=stack,
            cause=cause_failure,
        )
    if isinstance(exc, TimeoutError):
        return Failure(message=exc.message, type=f"TimeoutError:{exc.type}",
                       non_retryable=True, stack_trace=stack, cause=cause_failure)
    if isinstance(exc, FailureError):
        return Failure(message=exc.message, type=type(exc).__name__, stack_trace=stack,
                       cause=cause_failure)
    return Failure(message=str(exc), type=type(exc).__name__, stack_trace=stack,
                   cause=cause_failure)


def from_failure(failure: Failure) -> FailureError:
    """Rebuild the exception a Failure recorded (cause chain included)."""
    exc: FailureError
    kind = failure.type
    if kind.startswith("TimeoutError"):
        _, _, sub = kind.partition(":")
        exc = TimeoutError(failure.message, type=sub or "start_to_close")
    elif kind == "CancelledError":
        exc = CancelledError(failure.message, *failure.details)
    elif kind == "TerminatedError":
        exc = TerminatedError(failure.message)
    elif kind == "ActivityError":
        exc = ActivityError(failure.message, activity_type="", activity_id="",
                            scheduled_event_id=0)
    elif kind == "ChildWorkflowError":
        exc = ChildWorkflowError(failure.message, workflow_type="", workflow_id="", run_id="")
    else:
        app_type = None if kind == "ApplicationError" else kind
        exc = ApplicationError(failure.message, *failure.details, type=app_type,
                               non_retryable=failure.non_retryable)
    exc.failure = failure
    if failure.cause is not None:
        exc.__cause__ = from_failure(failure.cause)
    return exc
