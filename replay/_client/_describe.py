"""What ``describe()`` adds to a run's listing: its failing workflow task, its open activities.

Both come from the store, so any process sees them: the failing task from the
runs index (the recorded ``WorkflowTaskFailed`` and the attempt count), the
open activities from the activity tasks index.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from replay.history import Failure, PendingActivity, RunInfo, Store


@attrs.frozen(kw_only=True)
class WorkflowTaskFailure:
    """Why the run's workflow task keeps failing, and when it is tried again.

    ``type``, ``message``, ``code`` (an error code when replay raised it, else
    ``""``), ``location`` (workflow code's ``file:line``, or ``""``) and
    ``stack_trace`` (workflow code's frames only) describe the cause, as the
    ``WorkflowTaskFailed`` event ``event_id`` recorded it. ``attempt`` counts
    the failed attempts in a row (a repeat of one cause is counted, not
    recorded again); ``next_retry_time`` is when the task runs again.
    """

    type: str
    message: str
    code: str
    location: str
    stack_trace: str
    attempt: int
    next_retry_time: datetime | None
    event_id: int
    time: datetime

    def __str__(self) -> str:
        where = f" at {self.location}" if self.location else ""
        return f"{self.type}: {self.message}{where} (attempt {self.attempt})"


class PendingActivityState(enum.Enum):
    """Where an open activity is: waiting to start, running, or waiting to retry."""

    SCHEDULED = "scheduled"
    STARTED = "started"
    BACKING_OFF = "backing_off"


@attrs.frozen(kw_only=True)
class PendingActivityInfo:
    """An activity the run scheduled that has no outcome yet.

    ``attempt`` is how many attempts have started (0: none yet);
    ``last_failure`` is why the last one failed, and ``next_attempt_schedule_time``
    when the next one may start. ``last_heartbeat_time`` and ``heartbeat_details``
    are what the activity last reported; ``last_worker_identity`` is the worker
    running it now (None between attempts).
    """

    activity_id: str
    activity_type: str
    scheduled_event_id: int
    state: PendingActivityState
    attempt: int
    scheduled_time: datetime
    next_attempt_schedule_time: datetime | None
    last_failure: Failure | None
    last_heartbeat_time: datetime | None
    heartbeat_details: list[Any]
    last_worker_identity: str | None
    cancel_requested: bool

    @staticmethod
    def from_pending(p: PendingActivity) -> PendingActivityInfo:
        return PendingActivityInfo(
            activity_id=p.activity_id, activity_type=p.activity_type,
            scheduled_event_id=p.scheduled_event_id, state=PendingActivityState(p.state),
            attempt=p.attempt, scheduled_time=p.scheduled_time,
            next_attempt_schedule_time=p.next_attempt_time if p.lease_owner is None else None,
            last_failure=p.last_failure, last_heartbeat_time=p.last_heartbeat_time,
            heartbeat_details=list(p.heartbeat_details), last_worker_identity=p.lease_owner,
            cancel_requested=p.cancel_requested)


def task_failure_of(run: RunInfo) -> WorkflowTaskFailure | None:
    """The run's failing workflow task, from its runs-index row (None if not failing)."""
    recorded = run.task_failure
    if not run.task_failing or recorded is None:
        return None
    return WorkflowTaskFailure(
        type=recorded.failure.type, message=recorded.failure.message, code=recorded.code,
        location=recorded.location, stack_trace=recorded.failure.stack_trace,
        attempt=run.task_attempt, next_retry_time=run.task_retry_at,
        event_id=recorded.event_id, time=recorded.time)


def pending_activities_of(store: Store, run: RunInfo) -> list[PendingActivityInfo]:
    """The run's open activities, in the order it scheduled them (none once it closed)."""
    if run.status != "running":
        return []
    return [PendingActivityInfo.from_pending(p) for p in store.pending_activities(run.run_id)]
