"""The engine's error tree (under history's ReplayError root) and workflow failures.

The whole tree is drawn in ``replay/exceptions.py``, their public home.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from replay.history import Failure, HistoryError, ReplayError


class WorkflowDefinitionError(ReplayError):
    """A workflow or activity class/function is declared wrongly."""

    code = "RPL-D01"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class NondeterminismError(ReplayError):
    """Workflow code issued different commands than its history recorded.

    Fields: ``run_id``, ``event_id`` (the first recorded event that does not
    match), ``expected`` (what the history holds there), ``actual`` (what the
    code did instead) and ``location`` (``file:line`` of the code that did it).
    ``code_changed`` says whether the workflow's code differs from the code that
    recorded the history (by the code fingerprints recorded with each
    activation; None for a history without them): False means the code itself
    is nondeterministic, and the message names likely causes instead of
    suggesting ``workflow.patched()``. ``in_result`` is True when the commands
    matched but the run ended with another result, failure or continue-as-new
    arguments than recorded (a replay with strict results).
    """

    code = "RPL-ND01"

    def __init__(
        self,
        *,
        run_id: str,
        workflow_type: str,
        event_id: int,
        expected: str,
        actual: str,
        location: str | None,
        code_changed: bool | None = None,
        in_result: bool = False,
    ) -> None:
        where = f" at {location}" if location else ""
        did = "ended the run with" if in_result else "issued"
        if code_changed is False:
            hint = _NONDETERMINISTIC_CODE
        elif in_result:
            hint = _CHANGED_RESULT
        else:
            hint = _CHANGED_CODE
        super().__init__(
            f"nondeterminism in workflow {workflow_type!r} run {run_id!r} at "
            f"event {event_id}: the history holds {expected}, but the code now {did} "
            f"{actual}{where}. {hint}"
        )
        self.run_id = run_id
        self.workflow_type = workflow_type
        self.event_id = event_id
        self.expected = expected
        self.actual = actual
        self.location = location
        self.code_changed = code_changed
        self.in_result = in_result


_CHANGED_CODE = (
    "Replaying a history must reproduce the commands it recorded. If this change is "
    "intended, guard the new code with `if workflow.patched('my-change'):` so running "
    "workflows keep the old path."
)
_CHANGED_RESULT = (
    "Replaying with strict results, the run must end as recorded. If this change is "
    "intended, the history predates it: a different result does not affect running "
    "workflows, so record the history again, or replay without strict results "
    "(Replayer(strict_result=False), replay check --no-strict-result)."
)
_NONDETERMINISTIC_CODE = (
    "The workflow's code is the same as the code that recorded this history (its code "
    "fingerprint matches), so the code is nondeterministic: it decided differently on the "
    "same history. Likely causes: iterating over a set or frozenset (its order changes "
    "between processes: sort it, or keep a list or dict), unseeded randomness (use "
    "workflow.random() or workflow.uuid4()), reading the clock (use workflow.now()), "
    "module or class globals that outlive a run (keep state on self), racing tasks with "
    "asyncio.wait or asyncio.as_completed (use workflow.wait or workflow.as_completed). "
    "`replay lint` finds most of these. workflow.patched() is not the remedy, unless code "
    "outside the workflow's module that it calls has changed."
)


class ReadOnlyContextError(ReplayError):
    """A query handler or update validator tried to change the workflow's course."""

    code = "RPL-RO01"

    def __init__(self, what: str, context: str) -> None:
        super().__init__(
            f"{what} is not allowed in a {context}: {context}s are read-only "
            "and must not issue commands (activities, timers, signals, emits...). Move it "
            "into a signal or update handler."
        )
        self.what = what
        self.context = context


class WorkflowLoopError(ReplayError):
    """Workflow code asked the deterministic event loop for something it cannot do."""

    code = "RPL-L01"

    def __init__(self, call: str) -> None:
        super().__init__(
            f"loop.{call}() is not available inside workflow code: the "
            "workflow event loop has no I/O, threads or executors, because a replay could "
            "not reproduce them. Do the work in an activity (workflow.execute_activity)."
        )
        self.call = call


class UnorderedTasksError(WorkflowLoopError):
    """Workflow code made asyncio start tasks in the order of a set (``asyncio.as_completed``).

    ``asyncio.as_completed`` wraps each coroutine (or other awaitable that is not a
    task or future) in a task while iterating a ``set`` of them, whose order follows
    memory addresses: a replay would start them, and issue their commands, in
    another order. ``call`` names the function, ``location`` the user's ``file:line``.
    """

    code = "RPL-L02"

    def __init__(self, call: str, location: str | None) -> None:
        where = f" at {location}" if location else ""
        ReplayError.__init__(
            self,
            f"{call}() was given a coroutine{where}: it wraps coroutines in tasks in the "
            "order of a set, which follows memory addresses and differs between processes, "
            "so a replay would start them (and issue their commands) in another order. Use "
            "workflow.as_completed(...), which keeps the order you give, or create the "
            "tasks yourself first (a list of asyncio.create_task(...))."
        )
        self.call = call
        self.location = location


class WorkflowTaskError(ReplayError):
    """An activation failed because of a bug in workflow code (not a workflow failure).

    The run stays open and none of the task's commands are appended; the worker
    records the failure (``WorkflowTaskFailed``) and retries the task with backoff.
    """

    code = "RPL-WT01"

    def __init__(self, *, run_id: str, workflow_type: str, cause: BaseException,
                 location: str | None) -> None:
        where = f" at {location}" if location else ""
        super().__init__(
            f"workflow task of {workflow_type!r} run {run_id!r} failed: "
            f"{type(cause).__name__}: {str(cause).rstrip('.')}{where}. The run stays open "
            "and none of the task's commands were recorded; the task is retried with "
            "backoff, so fixed code resumes the run. To fail the run instead, raise "
            "ApplicationError or list the type in workflow.defn(failure_exception_types=...) "
            "or Worker(workflow_failure_exception_types=...)."
        )
        self.run_id = run_id
        self.workflow_type = workflow_type
        self.cause = cause
        self.location = location


# --- failures that travel through histories ----------------------------------------


class FailureError(ReplayError):
    """Base of errors that are recorded as a Failure and fail a workflow.

    Their messages are the user's own (``ApplicationError("card declined")``) and
    are recorded in histories as they are, so they carry no ``[CODE]`` prefix.
    """

    code = "RPL-F00"
    shows_code = False

    def __init__(self, message: str, *, failure: Failure | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.failure = failure

    @property
    def cause(self) -> BaseException | None:
        return self.__cause__


class ApplicationErrorCategory(enum.IntEnum):
    """How serious an ApplicationError is (the familiar SDK's categories).

    ``BENIGN`` marks an expected failure (a poll that found nothing yet, a
    declined card): the worker logs a benign activity failure at DEBUG instead
    of WARNING. The category is recorded with the failure
    (``Failure.category``), so the error rebuilt from a history has it too.
    """

    UNSPECIFIED = 0
    BENIGN = 1


class ApplicationError(FailureError):
    """An error raised on purpose by workflow or activity code.

    Raised out of a workflow's run method it fails the workflow; raised by an
    activity it fails the attempt (retried unless ``non_retryable`` or its
    ``type`` is listed in the retry policy's ``non_retryable_error_types``).
    ``category`` (:class:`ApplicationErrorCategory`) only changes how loudly the
    failure is logged; retries and results are the same.
    """

    def __init__(
        self,
        message: str,
        *details: Any,
        type: str | None = None,
        non_retryable: bool = False,
        next_retry_delay: Any = None,
        category: ApplicationErrorCategory = ApplicationErrorCategory.UNSPECIFIED,
    ) -> None:
        super().__init__(message)
        self._details = tuple(details)
        self.type = type
        self.non_retryable = non_retryable
        self.next_retry_delay = next_retry_delay
        self.category = ApplicationErrorCategory(category)

    @property
    def details(self) -> Sequence[Any]:
        return self._details

    def __str__(self) -> str:
        return self.message


class CancelledError(FailureError):
    """A cancellation, recorded as a failure (e.g. an activity that was cancelled)."""

    def __init__(self, message: str = "cancelled", *details: Any) -> None:
        super().__init__(message)
        self._details = tuple(details)

    @property
    def details(self) -> Sequence[Any]:
        return self._details


class TerminatedError(FailureError):
    """The run was terminated from outside."""


class TimeoutError(FailureError):
    """An activity or workflow passed one of its timeouts."""

    def __init__(self, message: str, *, type: str = "start_to_close") -> None:
        super().__init__(message)
        self.type = type


class ActivityError(FailureError):
    """An activity failed; the reason is in ``cause`` (ApplicationError, TimeoutError...)."""

    def __init__(self, message: str, *, activity_type: str, activity_id: str,
                 scheduled_event_id: int, retry_state: str = "") -> None:
        super().__init__(message)
        self.activity_type = activity_type
        self.activity_id = activity_id
        self.scheduled_event_id = scheduled_event_id
        self.retry_state = retry_state


class ChildWorkflowError(FailureError):
    """A child workflow failed; the reason is in ``cause``."""

    def __init__(self, message: str, *, workflow_type: str, workflow_id: str,
                 run_id: str) -> None:
        super().__init__(message)
        self.workflow_type = workflow_type
        self.workflow_id = workflow_id
        self.run_id = run_id


def is_cancellation(exc: BaseException) -> bool:
    """Is ``exc`` a cancellation: ``CancelledError``, or an activity or child workflow
    error caused by one (what a run that was cancelled while awaiting one raises)?"""
    if isinstance(exc, ActivityError | ChildWorkflowError):
        return isinstance(exc.__cause__, CancelledError)
    return isinstance(exc, CancelledError)


class ContinueAsNewError(BaseException):
    """Raised by ``workflow.continue_as_new``; not an Exception so broad handlers let it pass."""

    def __init__(self, *, workflow: str, args: Sequence[Any], task_queue: str | None,
                 memo: dict[str, Any] | None, headers: dict[str, Any] | None = None,
                 search_attributes: dict[str, Any] | None = None) -> None:
        super().__init__("continue as new")
        self.workflow = workflow
        self.args = tuple(args)
        self.task_queue = task_queue
        self.memo = memo
        self.headers = headers or {}
        self.search_attributes = search_attributes
        """The new run's attributes (stored form); None: the current ones carry over."""


class UnknownQueryError(ReplayError):
    """A query names no handler of the workflow."""

    code = "RPL-Q01"

    def __init__(self, name: str, workflow_type: str, known: list[str]) -> None:
        super().__init__(
            f"workflow {workflow_type!r} has no query {name!r} (known queries: "
            f"{', '.join(known) or 'none'}). Check the name, or add a @workflow.query handler."
        )
        self.name = name
        self.workflow_type = workflow_type
        self.known = list(known)


class QueryFailedError(ReplayError):
    """A query handler raised; ``cause`` is what it raised."""

    code = "RPL-Q02"

    def __init__(self, name: str, cause: BaseException) -> None:
        super().__init__(f"query {name!r} failed: {type(cause).__name__}: {cause}")
        self.name = name
        self.cause = cause


# --- replaying and debugging histories ---------------------------------------------


class ForeignHistoryError(HistoryError):
    """A history holds an input between two commands of one activation.

    The engine writes an activation's commands together, after its inputs, so
    the history was not written by replay (or was edited by hand). ``event_id``
    is the misplaced input and ``rule`` is ``"activation-order"``.
    """

    code = "RPL-ND02"

    def __init__(self, event_id: int, kind: str) -> None:
        super().__init__(
            f"input {kind} sits between commands of one activation; this history was not "
            "written by replay", event_id=event_id, rule="activation-order")
        self.kind = kind


class NoReplayedWorkflowError(ReplayError):
    """A replay result was queried, but the replay failed before the workflow existed.

    The replay's own error is ``WorkflowReplayResult.replay_failure``.
    """

    code = "RPL-R01"

    def __init__(self) -> None:
        super().__init__("the replay failed before the workflow existed")


class DebuggerNotReadyError(ReplayError):
    """The debugger was asked about the workflow before its first activation."""

    code = "RPL-DBG01"

    def __init__(self) -> None:
        super().__init__("the workflow object does not exist yet: step into the first "
                         "activation (step) before querying")


class DeterminismViolation(ReplayError, AssertionError):
    """A schedule under which replay or crash recovery did not reproduce the live run.

    Raised by ``replay.testing.check_determinism``. ``schedule`` is the (shrunk)
    schedule and ``history_path`` a saved history that reproduces the problem
    with ``replay check`` or a Replayer. It is an AssertionError too, so test
    runners report it as a failed check.
    """

    code = "RPL-T01"

    def __init__(self, what: str, *, workflow_type: str, schedule: Sequence[Any],
                 schedule_text: str, history_path: Path | None) -> None:
        saved = f"\nSaved history: {history_path}" if history_path is not None else ""
        super().__init__(f"determinism check of workflow {workflow_type!r} failed: {what}\n"
                         f"Schedule:\n{schedule_text}{saved}")
        self.workflow_type = workflow_type
        self.what = what
        self.schedule = list(schedule)
        self.history_path = history_path
