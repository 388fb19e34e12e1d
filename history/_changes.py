"""Index changes: what appending events does to a store's derived tables, as data.

:mod:`history._derive` turns operations into these records; each store is
only an interpreter of them (a dict update in :class:`MemoryStore`, one SQL
statement in :class:`SqliteStore`), so the rules live in one place. Changes
are applied in order, inside the transaction that appends the events.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeAlias

import attrs

from ._events import Event, Failure, JsonValue, WorkflowTaskFailed
from ._store import ActivityTask, DueTimer, PendingActivity, RunInfo, UpdateRequest

# --- rows of the task tables (leases are optional until a worker takes one) -------------------


@attrs.frozen(kw_only=True)
class WorkflowTaskRow:
    """A run that needs a workflow task; ``has_inputs`` if an input came after its last WTC."""

    run_id: str
    task_queue: str
    has_inputs: bool
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None


@attrs.frozen(kw_only=True)
class ActivityRow:
    """An open activity of a run: scheduled, not yet completed, failed, timed out or canceled."""

    run_id: str
    scheduled_event_id: int
    workflow_id: str
    task_queue: str
    activity_type: str
    activity_id: str
    args: list[JsonValue]
    scheduled_time: datetime
    available_at: datetime
    attempt: int = 0
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    heartbeat_details: list[JsonValue] = attrs.field(factory=list)
    cancel_requested: bool = False
    attempt_timeout: float | None = None
    last_failure: Failure | None = None
    last_heartbeat_at: datetime | None = None

    def lease_until(self, now: datetime, default: timedelta) -> datetime:
        """When a lease taken ``now`` ends: one attempt's timeout plus a second."""
        if self.attempt_timeout is None:
            return now + default
        return now + timedelta(seconds=self.attempt_timeout + 1)

    def leased(self, owner: str, now: datetime, default: timedelta) -> ActivityRow:
        """The row as a lease taken ``now`` by ``owner`` leaves it (one attempt more)."""
        return ActivityRow(
            run_id=self.run_id, scheduled_event_id=self.scheduled_event_id,
            workflow_id=self.workflow_id, task_queue=self.task_queue,
            activity_type=self.activity_type, activity_id=self.activity_id, args=self.args,
            scheduled_time=self.scheduled_time, available_at=self.available_at,
            attempt=self.attempt + 1, lease_owner=owner,
            lease_expires_at=self.lease_until(now, default),
            heartbeat_details=self.heartbeat_details, cancel_requested=self.cancel_requested,
            attempt_timeout=self.attempt_timeout, last_failure=self.last_failure,
            last_heartbeat_at=self.last_heartbeat_at)

    def to_task(self) -> ActivityTask:
        """The row as the leased task handed to a worker (the lease must be set)."""
        assert self.lease_owner is not None and self.lease_expires_at is not None
        return ActivityTask(
            run_id=self.run_id,
            workflow_id=self.workflow_id,
            scheduled_event_id=self.scheduled_event_id,
            task_queue=self.task_queue,
            activity_type=self.activity_type,
            activity_id=self.activity_id,
            args=self.args,
            attempt=self.attempt,
            scheduled_time=self.scheduled_time,
            lease_owner=self.lease_owner,
            lease_expires_at=self.lease_expires_at,
            heartbeat_details=self.heartbeat_details,
            cancel_requested=self.cancel_requested,
        )

    def to_pending(self) -> PendingActivity:
        """The row as ``describe()`` shows an open activity."""
        return PendingActivity(
            run_id=self.run_id, scheduled_event_id=self.scheduled_event_id,
            activity_id=self.activity_id, activity_type=self.activity_type,
            task_queue=self.task_queue, attempt=self.attempt,
            scheduled_time=self.scheduled_time, next_attempt_time=self.available_at,
            lease_owner=self.lease_owner, lease_expires_at=self.lease_expires_at,
            last_failure=self.last_failure, last_heartbeat_time=self.last_heartbeat_at,
            heartbeat_details=self.heartbeat_details, cancel_requested=self.cancel_requested,
        )


# --- the changes ------------------------------------------------------------------------------


@attrs.frozen
class AddEvents:
    """Write these events of the run to the events table."""

    run_id: str
    events: tuple[Event, ...]


@attrs.frozen
class InsertRun:
    """Create the runs-index row of a new run."""

    info: RunInfo


@attrs.frozen
class AdvanceRun:
    """The run's newest event id moved on; nothing else about it changed."""

    run_id: str
    last_event_id: int


@attrs.frozen
class CloseRun:
    """A terminal event ended the run."""

    run_id: str
    last_event_id: int
    status: str
    close_time: datetime
    next_run_id: str | None


@attrs.frozen
class SetSearchAttributes:
    """WorkflowStarted or SearchAttributesUpserted: set these search attributes of the run
    (stored values, see ``_search_values``); a name mapped to None is removed."""

    run_id: str
    values: dict[str, JsonValue]
    fresh: bool = False
    """True for a new run's start: its runs row was just inserted with these values, so
    only the index rows are written."""


@attrs.frozen
class NeedWorkflowTask:
    """Make sure the run has a workflow task (leases untouched).

    ``has_inputs`` marks that an input event arrived; an update request alone
    passes False, which leaves an existing row's flag as it is. ``new_row``: the
    run had no workflow task row when this was planned (so a finish later in the
    same batch leaves none).
    """

    run_id: str
    task_queue: str
    has_inputs: bool
    new_row: bool = False


@attrs.frozen
class FinishWorkflowTask:
    """A WorkflowTaskCompleted: drop the task, or if requested updates remain keep it
    with ``has_inputs`` cleared and its lease released."""

    run_id: str


@attrs.frozen
class SetTaskFailure:
    """The run's workflow task failed (again): its attempt count and retry time, and
    the recorded failure (None: a repeat of the recorded cause, which stays). The
    workflow task is not leased again before ``retry_at``."""

    run_id: str
    attempt: int
    retry_at: datetime | None
    failure: WorkflowTaskFailed | None


@attrs.frozen
class ClearTaskFailure:
    """A workflow task succeeded (or the run ended): the run's task is not failing."""

    run_id: str


@attrs.frozen
class DropIdleWorkflowTask:
    """Drop the run's workflow task if it has no inputs and no requested updates."""

    run_id: str


@attrs.frozen
class RemoveRunWork:
    """A closed run: delete its workflow task, activity tasks and timers.

    ``task_row`` and ``timers`` False: the run is known to have no workflow task row,
    or no timer, so a store may skip that table.
    """

    run_id: str
    task_row: bool = True
    timers: bool = True


@attrs.frozen
class AbortUpdates:
    """A closed run: its ``requested`` and ``accepted`` updates become ``aborted``."""

    run_id: str
    failure: Failure


@attrs.frozen
class InsertActivityTask:
    """ActivityScheduled: a new activity task, available from its scheduled time."""

    row: ActivityRow


@attrs.frozen
class LeaseActivityTask:
    """Eager dispatch: lease a just-scheduled activity task to the worker that scheduled it."""

    run_id: str
    scheduled_event_id: int
    owner: str
    now: datetime
    default_lease: timedelta


@attrs.frozen
class RequestActivityCancel:
    """ActivityCancelRequested: flag the activity task (if still open)."""

    run_id: str
    scheduled_event_id: int


@attrs.frozen
class DeleteActivityTask:
    """An activity result: the task is done.

    ``missing``: the error to raise if there is no such task (a result delivered
    for an activity that is no longer open); the store checks it as it deletes,
    so a result costs no read beforehand. None: a missing task is not an error.
    """

    run_id: str
    scheduled_event_id: int
    missing: Exception | None = attrs.field(default=None, eq=False)


@attrs.frozen
class InsertTimer:
    """TimerStarted: a timer becomes due at ``fire_at``."""

    timer: DueTimer


@attrs.frozen
class DeleteTimer:
    """TimerFired or TimerCanceled."""

    run_id: str
    started_event_id: int


@attrs.frozen
class InsertUpdate:
    """A client sent an update (status ``requested``)."""

    request: UpdateRequest


@attrs.frozen
class AcceptUpdate:
    """UpdateAccepted: status ``accepted`` (the row is created if it was missing)."""

    run_id: str
    update_id: str
    name: str
    args: list[JsonValue]
    time: datetime


@attrs.frozen
class CompleteUpdate:
    """UpdateCompleted: status ``completed`` with the result or the failure."""

    run_id: str
    update_id: str
    result: JsonValue
    failure: Failure | None


@attrs.frozen
class RejectUpdate:
    """The validator rejected a requested update (this never enters the history)."""

    run_id: str
    update_id: str
    failure: Failure


Change: TypeAlias = (
    AddEvents
    | InsertRun
    | AdvanceRun
    | CloseRun
    | SetSearchAttributes
    | NeedWorkflowTask
    | FinishWorkflowTask
    | SetTaskFailure
    | ClearTaskFailure
    | DropIdleWorkflowTask
    | RemoveRunWork
    | AbortUpdates
    | InsertActivityTask
    | LeaseActivityTask
    | RequestActivityCancel
    | DeleteActivityTask
    | InsertTimer
    | DeleteTimer
    | InsertUpdate
    | AcceptUpdate
    | CompleteUpdate
    | RejectUpdate
)
"""Every kind of index change."""
