"""Event kinds: one frozen attrs class per kind of thing a history records.

Payload fields (``args``, ``result``, ``details``...) hold data that is
already JSON-able (see :mod:`history._codec`): a history never stores Python
objects, and never names a type to import (DESIGN invariant 7).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeAlias

import attrs

JsonValue: TypeAlias = Any
"""JSON-able data: ``None``, bool, int, float, str, lists and str-keyed dicts of them."""

# ``search_attributes`` (WorkflowStarted, ChildWorkflowStarted, WorkflowContinuedAsNew): the
# run's (or the new run's) search attributes, name -> {"type": ..., "value": ...}; added to
# the format later, left out while empty.
# ``headers`` (WorkflowStarted, SignalReceived, ActivityScheduled, ChildWorkflowStarted,
# ExternalSignalSent, WorkflowContinuedAsNew):
# name -> payload set by interceptors (context propagation, tracing) and carried to the
# interceptors of the receiving side; added to the format later, left out while empty.

ADDED_LATER = "replay.added_later"
"""Field metadata: a field added to version 1 of the format after files were written.

The codec leaves such a field out of a file while it holds its default, so a
file written before the field existed re-encodes byte for byte.
"""


def added_later(cls: type[Any]) -> list[str]:
    """Names of ``cls``'s fields marked :data:`ADDED_LATER`."""
    return [f.name for f in attrs.fields(cls) if f.metadata.get(ADDED_LATER)]


@attrs.frozen(kw_only=True)
class Failure:
    """A recorded exception: what a workflow, activity, update or child raised."""

    message: str
    type: str = "Error"
    non_retryable: bool = False
    details: list[JsonValue] = attrs.field(factory=list)
    stack_trace: str = ""
    cause: Failure | None = None
    category: str = attrs.field(default="", metadata={ADDED_LATER: True})
    """An ApplicationError's category (``"BENIGN"``); ``""`` when unspecified."""


@attrs.frozen(kw_only=True)
class RetryPolicyData:
    """The retry policy an activity was scheduled with, as recorded."""

    initial_interval: timedelta = timedelta(seconds=1)
    backoff_coefficient: float = 2.0
    maximum_interval: timedelta | None = None
    maximum_attempts: int = 0
    non_retryable_error_types: list[str] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class Event:
    """Base of every event: its id within the run (1, 2, ...) and workflow time."""

    event_id: int
    time: datetime

    kind: ClassVar[str] = "Event"


# --- run lifecycle -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class WorkflowStarted(Event):
    """The run began: its type, arguments, random seed and lineage."""

    workflow_type: str
    workflow_id: str
    task_queue: str
    args: list[JsonValue] = attrs.field(factory=list)
    random_seed: int = 0
    first_execution_run_id: str = ""
    continued_from_run_id: str | None = None
    parent_workflow_id: str | None = None
    parent_run_id: str | None = None
    parent_initiated_event_id: int | None = None
    memo: dict[str, JsonValue] = attrs.field(factory=dict)
    execution_timeout: timedelta | None = None
    run_timeout: timedelta | None = None
    headers: dict[str, JsonValue] = attrs.field(factory=dict, metadata={ADDED_LATER: True})
    search_attributes: dict[str, JsonValue] = attrs.field(factory=dict,
                                                       metadata={ADDED_LATER: True})
    cron_schedule: str = attrs.field(default="", metadata={ADDED_LATER: True})
    """The run's cron expression ("" for none): it waits for the next matching time before
    its code runs, and its end (completed, failed, timed out) starts the next run."""


@attrs.frozen(kw_only=True)
class WorkflowCompleted(Event):
    """The run function returned ``result``."""

    result: JsonValue = None


@attrs.frozen(kw_only=True)
class WorkflowFailed(Event):
    """The run function raised a workflow failure."""

    failure: Failure


@attrs.frozen(kw_only=True)
class WorkflowCanceled(Event):
    """The run accepted a cancellation request and ended."""

    details: list[JsonValue] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class WorkflowTerminated(Event):
    """The run was ended from outside, without running workflow code."""

    reason: str = ""
    details: list[JsonValue] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class WorkflowContinuedAsNew(Event):
    """The run ended and handed over to a new run of the same workflow id."""

    new_run_id: str
    workflow_type: str
    task_queue: str
    args: list[JsonValue] = attrs.field(factory=list)
    memo: dict[str, JsonValue] = attrs.field(factory=dict)
    headers: dict[str, JsonValue] = attrs.field(factory=dict, metadata={ADDED_LATER: True})
    search_attributes: dict[str, JsonValue] = attrs.field(factory=dict,
                                                       metadata={ADDED_LATER: True})


@attrs.frozen(kw_only=True)
class WorkflowTimedOut(Event):
    """The run passed its execution or run timeout."""

    timeout_type: str = "execution"


@attrs.frozen(kw_only=True)
class CancelRequested(Event):
    """Someone asked the run to cancel; workflow code decides what that means."""

    reason: str = ""


# --- task boundaries -----------------------------------------------------------


@attrs.frozen(kw_only=True)
class WorkflowTaskCompleted(Event):
    """Closes one activation: the commands just before it were produced by it.

    ``code_fingerprint`` identifies the workflow code that produced them (a
    hash of its bytecode; ``""`` in histories written before it was recorded),
    so a replay that diverges can tell changed code from nondeterministic code.
    """

    identity: str = ""
    code_fingerprint: str = attrs.field(default="", metadata={ADDED_LATER: True})


@attrs.frozen(kw_only=True)
class WorkflowTaskFailed(Event):
    """A workflow task failed; nothing it did was recorded, and it is retried later.

    Workflow code raised (a bug), replay diverged from the history, the run's
    arguments did not fit its code, or its type is unknown to the worker. Not a
    command and not an input: replay skips it. ``failure`` is the cause (its
    type, message and the stack without the engine's frames), ``code`` the
    error code when replay raised it (``""`` otherwise), ``location`` the
    workflow code's ``file:line`` (``""`` if unknown). ``attempt`` counts the
    task's failed attempts in a row; ``next_retry_time`` is when it runs again.
    A worker records a failure when it first happens and when its cause
    changes; repeats of one cause only advance the runs index's attempt count.
    """

    failure: Failure
    attempt: int = 1
    next_retry_time: datetime | None = None
    code: str = ""
    location: str = ""
    identity: str = ""


# --- commands ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ActivityScheduled(Event):
    """Workflow code asked for an activity to run."""

    seq: int
    activity_type: str
    activity_id: str
    task_queue: str
    args: list[JsonValue] = attrs.field(factory=list)
    schedule_to_close_timeout: timedelta | None = None
    schedule_to_start_timeout: timedelta | None = None
    start_to_close_timeout: timedelta | None = None
    heartbeat_timeout: timedelta | None = None
    retry_policy: RetryPolicyData | None = None
    cancellation_type: str = "try_cancel"
    headers: dict[str, JsonValue] = attrs.field(factory=dict, metadata={ADDED_LATER: True})


@attrs.frozen(kw_only=True)
class ActivityCancelRequested(Event):
    """Workflow code asked a scheduled activity to stop."""

    scheduled_event_id: int


@attrs.frozen(kw_only=True)
class TimerStarted(Event):
    """Workflow code started a durable timer."""

    seq: int
    duration: timedelta
    fire_at: datetime


@attrs.frozen(kw_only=True)
class TimerCanceled(Event):
    """Workflow code cancelled a timer before it fired."""

    started_event_id: int


@attrs.frozen(kw_only=True)
class ChildWorkflowStarted(Event):
    """Workflow code started a child workflow run."""

    seq: int
    workflow_type: str
    workflow_id: str
    run_id: str
    task_queue: str
    args: list[JsonValue] = attrs.field(factory=list)
    memo: dict[str, JsonValue] = attrs.field(factory=dict)
    headers: dict[str, JsonValue] = attrs.field(factory=dict, metadata={ADDED_LATER: True})
    search_attributes: dict[str, JsonValue] = attrs.field(factory=dict,
                                                       metadata={ADDED_LATER: True})
    parent_close_policy: str = attrs.field(default="terminate", metadata={ADDED_LATER: True})
    """What happens to the child when this (the parent) run closes: ``terminate``,
    ``abandon`` or ``request_cancel`` (a history written before the field existed
    means ``terminate``, the familiar default)."""


@attrs.frozen(kw_only=True)
class ExternalSignalSent(Event):
    """Workflow code sent a signal to another run."""

    seq: int
    workflow_id: str
    run_id: str | None
    signal_name: str
    args: list[JsonValue] = attrs.field(factory=list)
    headers: dict[str, JsonValue] = attrs.field(factory=dict, metadata={ADDED_LATER: True})


@attrs.frozen(kw_only=True)
class MarkerRecorded(Event):
    """A decision recorded for replay: a patch, or another named marker."""

    name: str
    marker_id: str
    details: JsonValue = None
    deprecated: bool = False


@attrs.frozen(kw_only=True)
class UpdateAccepted(Event):
    """An update passed its validator; its handler now runs (``headers``: the client's,
    given to the inbound interceptors again when the run is replayed)."""

    update_id: str
    name: str
    args: list[JsonValue] = attrs.field(factory=list)
    headers: dict[str, JsonValue] = attrs.field(factory=dict, metadata={ADDED_LATER: True})


@attrs.frozen(kw_only=True)
class UpdateCompleted(Event):
    """An accepted update's handler finished with a result or a failure."""

    update_id: str
    accepted_event_id: int
    result: JsonValue = None
    failure: Failure | None = None


@attrs.frozen(kw_only=True)
class SearchAttributesUpserted(Event):
    """Workflow code set or removed search attributes of its run.

    ``search_attributes`` maps each name to its new stored value
    (``{"type": ..., "value": ...}``, see :mod:`history._search_values`) or to
    ``None`` when the attribute was removed; names not mentioned keep their value.
    """

    search_attributes: dict[str, JsonValue] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class EventEmitted(Event):
    """Workflow code emitted a value for clients streaming the run's events."""

    seq: int
    payload: JsonValue = None


# --- inputs --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SignalReceived(Event):
    """A signal arrived for the run."""

    signal_name: str
    args: list[JsonValue] = attrs.field(factory=list)
    headers: dict[str, JsonValue] = attrs.field(factory=dict, metadata={ADDED_LATER: True})


@attrs.frozen(kw_only=True)
class ActivityCompleted(Event):
    """An activity returned ``result`` on attempt ``attempt``."""

    scheduled_event_id: int
    result: JsonValue = None
    attempt: int = 1


@attrs.frozen(kw_only=True)
class ActivityFailed(Event):
    """An activity failed for good (non-retryable, or out of attempts)."""

    scheduled_event_id: int
    failure: Failure
    attempt: int = 1


@attrs.frozen(kw_only=True)
class ActivityTimedOut(Event):
    """An activity passed one of its timeouts for good."""

    scheduled_event_id: int
    timeout_type: str
    attempt: int = 1


@attrs.frozen(kw_only=True)
class ActivityCanceled(Event):
    """An activity acknowledged a cancellation request."""

    scheduled_event_id: int
    details: list[JsonValue] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class TimerFired(Event):
    """A timer reached its fire time."""

    started_event_id: int


@attrs.frozen(kw_only=True)
class ChildWorkflowCompleted(Event):
    """A child run completed with ``result``."""

    initiated_event_id: int
    result: JsonValue = None


@attrs.frozen(kw_only=True)
class ChildWorkflowFailed(Event):
    """A child run failed, timed out, was terminated or could not start."""

    initiated_event_id: int
    failure: Failure


@attrs.frozen(kw_only=True)
class ChildWorkflowCanceled(Event):
    """A child run was cancelled."""

    initiated_event_id: int


@attrs.frozen(kw_only=True)
class ExternalSignalDelivered(Event):
    """A signal this run sent reached its target."""

    initiated_event_id: int


@attrs.frozen(kw_only=True)
class ExternalSignalFailed(Event):
    """A signal this run sent could not be delivered (no such open run)."""

    initiated_event_id: int
    failure: Failure
