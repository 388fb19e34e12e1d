"""Exceptions to recorded Failures and back.

A Failure's ``type`` is the application error type (``ApplicationError.type``,
or the class name of any other exception); a few engine types round-trip to
their own classes. Nothing is imported by name: unknown types come back as
ApplicationError carrying the recorded type string.
"""

from __future__ import annotations

import itertools
import os
import traceback
from datetime import datetime

from replay.history import (
    MAX_FAILURE_CHAIN,
    Failure,
    PayloadConverter,
    ReplayError,
    WorkflowTaskFailed,
)

from ._exceptions import (
    ActivityError,
    ApplicationError,
    ApplicationErrorCategory,
    CancelledError,
    ChildWorkflowError,
    FailureError,
    TerminatedError,
    TimeoutError,
    WorkflowTaskError,
)
from ._locations import ENGINE_DIRS


def to_failure(exc: BaseException, converter: PayloadConverter) -> Failure:
    """Record an exception (and its ``__cause__`` chain) as a Failure.

    The chain is walked without recursion and recorded up to MAX_FAILURE_CHAIN
    failures, so a history holding it is never too deep to read back: past
    that, the last one kept is a marker saying how many causes were dropped
    (a chain that loops back on itself ends where it would repeat).
    """
    chain = _cause_chain(exc)
    kept = chain if len(chain) <= MAX_FAILURE_CHAIN else chain[:MAX_FAILURE_CHAIN - 1]
    failure: Failure | None = None
    if len(kept) < len(chain):
        failure = _truncation_marker(len(chain) - len(kept))
    for one, stack in reversed(list(zip(kept, _stack_texts(kept), strict=True))):
        failure = _one_failure(one, stack, converter, failure)
    assert failure is not None
    return failure


CAUSES_DROPPED = "CausesDropped"
"""The type of the Failure that ends a cause chain recorded without its deepest causes."""


def _cause_chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and its causes, outermost first, each once."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__
    return chain


def _truncation_marker(dropped: int) -> Failure:
    return Failure(
        message=f"{dropped} more cause{'s' if dropped != 1 else ''} dropped: a recorded "
                f"failure keeps at most {MAX_FAILURE_CHAIN} failures in its cause chain",
        type=CAUSES_DROPPED)


def _stack_texts(chain: list[BaseException]) -> list[str]:
    """Each exception's traceback text without its causes, as ``format_exception`` with
    ``chain=False`` writes it.

    Describing an exception describes its whole chain, so each is taken from one
    description of the outermost (one pass over a long chain, not one per exception).
    """
    texts: list[str] = []
    described: traceback.TracebackException | None = None
    for exc in chain:
        if described is None:  # the first, or a cause the description reached another way
            described = traceback.TracebackException(type(exc), exc, exc.__traceback__,
                                                     compact=True)
        texts.append("".join(described.format(chain=False)))
        described = described.__cause__
    return texts


def _one_failure(exc: BaseException, stack: str, converter: PayloadConverter,
                 cause_failure: Failure | None) -> Failure:
    """One exception as a Failure whose cause is ``cause_failure``."""
    if isinstance(exc, ApplicationError):
        return Failure(
            message=exc.message,
            type=exc.type or "ApplicationError",
            non_retryable=exc.non_retryable,
            details=converter.to_payloads(exc.details),
            stack_trace=stack,
            cause=cause_failure,
            category=_category_name(exc.category),
        )
    if isinstance(exc, TimeoutError):
        return Failure(message=exc.message, type=f"TimeoutError:{exc.type}",
                       non_retryable=True, stack_trace=stack, cause=cause_failure)
    if isinstance(exc, FailureError):
        return Failure(message=exc.message, type=type(exc).__name__, stack_trace=stack,
                       cause=cause_failure)
    return Failure(message=str(exc), type=type(exc).__name__, stack_trace=stack,
                   cause=cause_failure)


def _from_one(failure: Failure) -> FailureError:
    """The exception one Failure recorded, without its cause."""
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
                               non_retryable=failure.non_retryable,
                               category=_category(failure.category))
    exc.failure = failure
    return exc


def from_failure(failure: Failure) -> FailureError:
    """Rebuild the exception a Failure recorded (cause chain included, walked without
    recursion)."""
    chain = [failure]
    while (cause := chain[-1].cause) is not None:
        chain.append(cause)
    errors = [_from_one(f) for f in chain]
    for outer, inner in itertools.pairwise(errors):
        outer.__cause__ = inner
    return errors[0]


def _category_name(category: ApplicationErrorCategory) -> str:
    """How a Failure records a category: its name, ``""`` when unspecified."""
    return "" if category is ApplicationErrorCategory.UNSPECIFIED else category.name


def _category(name: str) -> ApplicationErrorCategory:
    """A recorded category back (an unknown name, from a newer writer, is unspecified)."""
    return ApplicationErrorCategory.__members__.get(name, ApplicationErrorCategory.UNSPECIFIED)


_ENGINE_DIRS = (os.path.dirname(os.path.dirname(__file__)) + os.sep, *ENGINE_DIRS)
"""Frames under these directories are the engine's (the whole ``replay`` package)."""


def task_failed_event(exc: BaseException, *, time: datetime, attempt: int,
                      next_retry_time: datetime | None, identity: str) -> WorkflowTaskFailed:
    """What a WorkflowTaskFailed records of an exception that failed a workflow task.

    A WorkflowTaskError is unwrapped to its cause (the exception workflow code
    raised); the code is the cause's own when replay raised it; the stack keeps
    only workflow code's frames.
    """
    cause = exc.cause if isinstance(exc, WorkflowTaskError) else exc
    location = (exc.location if isinstance(exc, WorkflowTaskError) else None) or getattr(
        cause, "location", None) or _workflow_location(cause)
    return WorkflowTaskFailed(
        event_id=0, time=time, attempt=attempt, next_retry_time=next_retry_time,
        failure=Failure(message=str(cause), type=type(cause).__name__,
                        stack_trace=workflow_stack(cause)),
        code=cause.code if isinstance(cause, ReplayError) else "",
        location=location if isinstance(location, str) else "", identity=identity)


def _workflow_location(exc: BaseException) -> str | None:
    """``file:line`` of the innermost workflow-code frame of ``exc``'s traceback."""
    frames = _workflow_frames(exc)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else None


def _workflow_frames(exc: BaseException) -> list[traceback.FrameSummary]:
    return [f for f in traceback.extract_tb(exc.__traceback__)
            if not f.filename.startswith(_ENGINE_DIRS)]


def workflow_stack(exc: BaseException) -> str:
    """``exc``'s traceback without the engine's frames (and without its cause chain)."""
    lines = traceback.format_list(_workflow_frames(exc))
    head = ["Traceback (workflow code, most recent call last):\n"] if lines else []
    return "".join([*head, *lines, *traceback.format_exception_only(type(exc), exc)])
