"""The Store protocol: where runs' events live, plus the indexes that find work.

The events are the source of truth. Everything else a store keeps (the runs
index, workflow tasks, activity tasks, due timers) is derived from the events
inside the same transaction that appends them, and can be rebuilt from them
with :meth:`Store.rebuild_indexes`. Update requests are the one exception:
they are messages that have not been accepted yet, so by design (a rejected
update leaves no trace) they live outside the history.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import attrs

from ._errors import ReplayError
from ._events import Event, Failure, JsonValue, WorkflowStarted, WorkflowTaskFailed
from ._history import History
from ._registry import (
    ActivityRegistration,
    HandlerSignature,
    WorkflowRegistration,
    WorkflowSignature,
)

# --- errors specific to stores ------------------------------------------------------


class RunClosedError(ReplayError):
    """An input was sent to a run that has already ended. Nothing was written."""

    code = "RPL-S04"

    def __init__(self, run_id: str, status: str, what: str) -> None:
        super().__init__(
            f"cannot deliver {what} to run {run_id!r}: the run is {status}. "
            "Nothing was written; start a new run or address the newest run of the workflow id."
        )
        self.run_id = run_id
        self.status = status
        self.what = what


class RunAlreadyExistsError(ReplayError):
    """A run with this run id, or an open run with this workflow id, already exists."""

    code = "RPL-S05"

    def __init__(self, workflow_id: str, run_id: str, existing_run_id: str) -> None:
        super().__init__(
            f"cannot start run {run_id!r} of workflow id {workflow_id!r}: "
            f"run {existing_run_id!r} is open with that workflow id. Nothing was written."
        )
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.existing_run_id = existing_run_id


class StaleResultError(ReplayError):
    """A result for a command that is no longer open (already resolved, or unknown)."""

    code = "RPL-S06"

    def __init__(self, run_id: str, kind: str, command_event_id: int) -> None:
        super().__init__(
            f"{kind} for command event {command_event_id} of run {run_id!r} "
            "was not recorded: that command is not open (its result is already recorded, "
            "it was cancelled, or it never existed). Nothing was written."
        )
        self.run_id = run_id
        self.kind = kind
        self.command_event_id = command_event_id


for _cls in (RunClosedError, RunAlreadyExistsError, StaleResultError):
    _cls.__module__ = "replay.history"  # their public home (see replay/exceptions.py)
del _cls


# --- what the indexes hold -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RunInfo:
    """One row of the runs index.

    ``task_attempt`` counts the failed attempts in a row of the run's current
    workflow task (0: it is not failing), ``task_failure`` is the last recorded
    :class:`WorkflowTaskFailed` since the last successful task and
    ``task_retry_at`` when the task is retried. The failure comes from the
    events; the attempt count and the retry time move on without an event while
    the cause stays the same (rebuilding the indexes keeps them).
    """

    run_id: str
    workflow_id: str
    workflow_type: str
    task_queue: str
    status: str  # running, completed, failed, canceled, terminated, continued_as_new, timed_out
    start_time: datetime
    close_time: datetime | None
    last_event_id: int
    first_execution_run_id: str
    parent_workflow_id: str | None = None
    parent_run_id: str | None = None
    continued_from_run_id: str | None = None
    next_run_id: str | None = None
    memo: dict[str, JsonValue] = attrs.field(factory=dict)
    deadline: datetime | None = None
    task_attempt: int = 0
    task_failure: WorkflowTaskFailed | None = None
    task_retry_at: datetime | None = None
    search_attributes: dict[str, JsonValue] = attrs.field(factory=dict)
    """The run's search attributes now: name -> ``{"type": ..., "value": ...}``."""

    @property
    def task_failing(self) -> bool:
        """True while the run's workflow task keeps failing (no success since)."""
        return self.task_attempt > 0


@attrs.frozen(kw_only=True)
class WorkflowTask:
    """A leased workflow task: the run has inputs (or update requests) to process."""

    run_id: str
    task_queue: str
    lease_owner: str
    lease_expires_at: datetime
    updates_pending: bool | None = None
    """False if the run had no requested update when the task was leased (its activation
    need not look for one: an update requested later keeps the task for the next one);
    None if the store does not say."""


@attrs.frozen(kw_only=True)
class ActivityTask:
    """A leased activity task, with everything needed to run one attempt."""

    run_id: str
    workflow_id: str
    scheduled_event_id: int
    task_queue: str
    activity_type: str
    activity_id: str
    args: list[JsonValue]
    attempt: int
    scheduled_time: datetime
    lease_owner: str
    lease_expires_at: datetime
    heartbeat_details: list[JsonValue] = attrs.field(factory=list)
    cancel_requested: bool = False


@attrs.frozen(kw_only=True)
class PendingActivity:
    """An open activity of a run, as the activity tasks index holds it.

    ``attempt`` is the number of attempts started so far (0: none yet);
    ``next_attempt_time`` is when the next one may start (after a failed attempt:
    when its retry is due); ``lease_owner`` names the worker running it now.
    ``last_failure`` is why the last attempt failed, ``last_heartbeat_time`` and
    ``heartbeat_details`` what the activity last reported.
    """

    run_id: str
    scheduled_event_id: int
    activity_id: str
    activity_type: str
    task_queue: str
    attempt: int
    scheduled_time: datetime
    next_attempt_time: datetime
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    last_failure: Failure | None = None
    last_heartbeat_time: datetime | None = None
    heartbeat_details: list[JsonValue] = attrs.field(factory=list)
    cancel_requested: bool = False

    @property
    def state(self) -> str:
        """``started`` (an attempt runs), ``backing_off`` (a retry waits) or ``scheduled``."""
        if self.lease_owner is not None:
            return "started"
        return "backing_off" if self.last_failure is not None else "scheduled"


@attrs.frozen(kw_only=True)
class DueTimer:
    """An open timer of a run, from the due-timers index."""

    run_id: str
    started_event_id: int
    fire_at: datetime
    task_queue: str


@attrs.frozen(kw_only=True)
class UpdateRequest:
    """An update sent to a run, and how far it got.

    ``status`` is ``requested`` (waiting for a worker), ``rejected`` (validator
    said no; never in the history), ``accepted``, ``completed`` (result or
    failure known) or ``aborted`` (the run closed before accepting it).
    """

    run_id: str
    update_id: str
    name: str
    args: list[JsonValue]
    status: str
    requested_at: datetime
    result: JsonValue = None
    failure: Failure | None = None
    headers: dict[str, JsonValue] = attrs.field(factory=dict)
    """What the client's interceptors set; they reach the workflow's inbound
    interceptors (``HandleUpdateInput.headers``) and are recorded with the acceptance."""


# --- operations for commit() -------------------------------------------------------------


@attrs.frozen
class Append:
    """Append ``events`` (with their ids) if the run's last id is ``expected_last_event_id``."""

    run_id: str
    events: Sequence[Event]
    expected_last_event_id: int


@attrs.frozen
class Deliver:
    """Append one input event after whatever the run holds now (its id is assigned).

    Fails with RunClosedError if the run has ended, RunNotFoundError if it does
    not exist, StaleResultError for a result whose command is not open; with
    ``missing_ok`` those cases skip the operation instead.
    """

    run_id: str
    event: Event
    missing_ok: bool = False


@attrs.frozen
class Start:
    """Create a run whose first event is ``started`` (event id 1)."""

    run_id: str
    started: WorkflowStarted


@attrs.frozen
class LeaseActivity:
    """Lease an activity task scheduled earlier in the same commit to ``owner`` (eager dispatch).

    The lease lasts the activity's start_to_close (or schedule_to_close) timeout
    plus one second, else ``default_lease``. A task that is gone or already
    leased is left alone.
    """

    run_id: str
    scheduled_event_id: int
    owner: str
    now: datetime
    default_lease: timedelta


@attrs.frozen
class RecordTaskFailure:
    """A workflow task failed: record ``event`` (a :class:`WorkflowTaskFailed`).

    It is appended after whatever the run holds now (its id is assigned) when
    the run's task was not failing or failed for another cause; a repeat of the
    recorded cause appends nothing and only moves the runs index's attempt
    count and retry time on. Either way the run's workflow task is not leased
    again before ``event.next_retry_time``. A run that has closed (or does not
    exist) is left alone.
    """

    run_id: str
    event: WorkflowTaskFailed


@attrs.frozen
class RequestUpdate:
    """Record a client's update request (as :meth:`Store.request_update` does).

    In a commit after the :class:`Start` of the same run it makes update-with-start
    atomic: the run and its first update exist together or not at all. An update id
    the run already has is left as it is.
    """

    run_id: str
    update_id: str
    name: str
    args: list[JsonValue]
    now: datetime


Operation = Append | Deliver | Start | LeaseActivity | RecordTaskFailure | RequestUpdate


@runtime_checkable
class Store(Protocol):
    """Where runs live. Every method is safe to call from any thread."""

    # events
    def commit(self, ops: Sequence[Operation]) -> list[Event]:
        """Apply all operations in one transaction, or none; returns the events written."""
        ...

    def commit_each(self, batches: Sequence[Sequence[Operation]]
                    ) -> list[list[Event] | ReplayError]:
        """Apply each batch atomically on its own, all in one transaction (group commit).

        A batch that fails leaves nothing behind and its error takes its place in
        the returned list; the other batches are kept.
        """
        ...

    def append(self, run_id: str, events: Sequence[Event], expected_last_event_id: int) -> None:
        """Conditional append (see :class:`Append`); AppendConflictError if it lost."""
        ...

    def read(self, run_id: str, after_event_id: int = 0) -> list[Event]:
        """Events of the run with id > ``after_event_id``; RunNotFoundError if none."""
        ...

    def history(self, run_id: str) -> History:
        """The run's whole history."""
        ...

    def last_event_id(self, run_id: str) -> int:
        """The id of the run's newest event; 0 if the run does not exist."""
        ...

    def tail(self, run_id: str, after_event_id: int = 0) -> AsyncIterator[Event]:
        """Yield events as they are appended, by any process, until the run closes."""
        ...

    async def wait_changed(self, timeout: float, since: int | None = None,
                           run_id: str | None = None) -> bool:
        """Return True when anything was committed (any process), False on timeout.

        With ``since`` (a :meth:`change_token` taken before looking at the store),
        return True at once if something was committed after that token, so a
        commit landing between the look and the wait is never missed. With
        ``run_id``, sleep through this process's commits that touch other runs,
        before the wait (after ``since``) as during it (another process's commits
        always wake: their scope is unknown).
        """
        ...

    def change_token(self) -> int:
        """An opaque counter of commits seen; pass it to ``wait_changed(since=...)``."""
        ...

    # runs index
    def get_run(self, run_id: str) -> RunInfo | None: ...
    def latest_run(self, workflow_id: str) -> RunInfo | None: ...
    def list_runs(
        self,
        *,
        status: str | None = None,
        workflow_type: str | None = None,
        workflow_id: str | None = None,
        limit: int | None = None,
        task_failing: bool | None = None,
    ) -> list[RunInfo]:
        """Runs matching every given filter, most recently started first.

        ``task_failing=True`` keeps the runs whose workflow task is failing
        (``RunInfo.task_failing``), False those whose task is not.
        """
        ...
    def count_runs(self, *, status: str | None = None, workflow_type: str | None = None) -> int: ...
    def query_runs(self, query: str, *, limit: int | None = None) -> list[RunInfo]:
        """Runs matching a list query (docs/list-queries.md), most recently started first.

        ListQueryError (RPL-SA02) if the query is malformed, ListQueryAttributeError
        (RPL-SA03) if it names an attribute no run of the store has, or compares one
        with a value or an operator its type does not take; both give the position.
        """
        ...
    def count_query(self, query: str) -> int:
        """How many runs :meth:`query_runs` would return."""
        ...
    def search_attribute_types(self) -> dict[str, set[str]]:
        """Custom search attribute name -> the types the store's runs gave it."""
        ...

    # workflow tasks
    def lease_workflow_task(
        self, task_queue: str, owner: str, now: datetime, lease_for: timedelta
    ) -> WorkflowTask | None: ...
    def lease_workflow_tasks(
        self, task_queue: str, owner: str, now: datetime, lease_for: timedelta, limit: int
    ) -> list[WorkflowTask]: ...
    def release_workflow_task(self, run_id: str, owner: str) -> None: ...

    # activity tasks
    def lease_activity_task(
        self, task_queue: str, owner: str, now: datetime, lease_for: timedelta
    ) -> ActivityTask | None: ...
    def lease_activity_tasks(
        self, task_queue: str, owner: str, now: datetime, lease_for: timedelta, limit: int
    ) -> list[ActivityTask]: ...
    def heartbeat_activity(
        self,
        run_id: str,
        scheduled_event_id: int,
        owner: str,
        details: list[JsonValue],
        now: datetime,
        lease_for: timedelta,
    ) -> bool: ...
    def cancel_requested_activities(self, owner: str) -> list[tuple[str, int]]:
        """(run id, scheduled event id) of activities leased by ``owner`` asked to cancel."""
        ...
    def hand_over_activity(self, run_id: str, scheduled_event_id: int, owner: str,
                           new_owner: str, lease_until: datetime) -> bool:
        """Move ``owner``'s lease of the task to ``new_owner`` until ``lease_until``.

        Asynchronous completion: the attempt waits for a completer that may live in
        any process, so the lease must not end with the worker that started it.
        False if ``owner`` does not hold the task (nothing changes).
        """
        ...
    def retry_activity(
        self, run_id: str, scheduled_event_id: int, owner: str, available_at: datetime,
        failure: Failure | None = None,
    ) -> None:
        """An attempt failed (``failure``): unlease the task until ``available_at``."""
        ...
    def pending_activities(self, run_id: str) -> list[PendingActivity]:
        """The run's open activities, in the order they were scheduled."""
        ...
    def release_activity_task(self, run_id: str, scheduled_event_id: int, owner: str) -> None: ...

    # timers
    def due_timers(self, now: datetime, limit: int = 100) -> list[DueTimer]: ...
    def next_timer_at(self) -> datetime | None: ...
    def expired_runs(self, now: datetime, limit: int = 100) -> list[RunInfo]: ...

    # leases of dead workers
    def lease_owners(self) -> set[str]: ...
    def release_leases(self, owner: str) -> int: ...

    # update requests
    def request_update(
        self, run_id: str, update_id: str, name: str, args: list[JsonValue], now: datetime,
        headers: Mapping[str, JsonValue] | None = None,
    ) -> UpdateRequest: ...
    def pending_updates(self, run_id: str) -> list[UpdateRequest]: ...
    def get_update(self, run_id: str, update_id: str) -> UpdateRequest | None: ...
    def reject_update(self, run_id: str, update_id: str, failure: Failure) -> None: ...

    # the registry of what workers host (see history._registry)
    def register_worker(self, task_queue: str, worker: str, registered_at: datetime,
                        workflows: Sequence[WorkflowSignature],
                        activities: Sequence[HandlerSignature]) -> None:
        """Record what ``worker`` hosts on ``task_queue``: one entry per workflow type and
        activity, replacing an entry registered at or before ``registered_at`` (a newer one
        is kept). Idempotent; never touches runs."""
        ...

    def registered_workflows(self, task_queue: str | None = None
                             ) -> list[WorkflowRegistration]:
        """The workflow types registered on ``task_queue`` (every queue if None), by task
        queue and type."""
        ...

    def registered_activities(self, task_queue: str | None = None
                              ) -> list[ActivityRegistration]:
        """The activities registered on ``task_queue`` (every queue if None), by task queue
        and name."""
        ...

    # maintenance
    def rebuild_indexes(self) -> None: ...
    def close(self) -> None: ...


@runtime_checkable
class RunCloseWaits(Protocol):
    """A store that can wake a waiter only when a run ends (optional beside :class:`Store`).

    ``await handle.result()`` uses it when the store has it, so waiting for a result
    costs nothing per step of the run.
    """

    async def wait_closed(self, run_id: str, timeout: float, since: int | None = None) -> bool:
        """True once a commit ending ``run_id`` lands after ``since`` (a
        :meth:`Store.change_token`; or one whose scope is unknown, such as another
        process's commit), False after ``timeout``."""
        ...


RunCloseWaits.__module__ = "replay.history"
