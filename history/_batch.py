"""One batch of events appended to one run: checked, and turned into index changes.

:class:`Batch` applies the rules of :func:`history.validate_events` one event
at a time (same rule names, same messages), so an append costs O(batch), and
dispatches each event to the rule of its kind (a table, not an if/elif chain)
that records what it does to the indexes as :mod:`history._changes` records.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

import attrs

from ._changes import (
    AbortUpdates,
    AcceptUpdate,
    ActivityRow,
    AddEvents,
    AdvanceRun,
    Change,
    ClearTaskFailure,
    CloseRun,
    CompleteUpdate,
    DeleteActivityTask,
    DeleteTimer,
    FinishWorkflowTask,
    InsertActivityTask,
    InsertRun,
    InsertTimer,
    NeedWorkflowTask,
    RemoveRunWork,
    RequestActivityCancel,
    SetSearchAttributes,
    SetTaskFailure,
)
from ._errors import HistoryError
from ._events import (
    ActivityCanceled,
    ActivityCancelRequested,
    ActivityCompleted,
    ActivityFailed,
    ActivityScheduled,
    ActivityTimedOut,
    Event,
    Failure,
    SearchAttributesUpserted,
    TimerCanceled,
    TimerFired,
    TimerStarted,
    UpdateAccepted,
    UpdateCompleted,
    WorkflowContinuedAsNew,
    WorkflowStarted,
    WorkflowTaskCompleted,
    WorkflowTaskFailed,
)
from ._kinds import INPUT_KINDS, REFERENCES, TERMINAL_STATUS
from ._search_values import event_problem
from ._store import (
    DueTimer,
    RunInfo,
    UpdateRequest,
)

RUNNING = "running"



@attrs.frozen
class RunHead:
    """The little a derivation needs to know about a run before appending to it.

    ``task_has_inputs`` is the ``has_inputs`` flag of the run's workflow task
    (None if it has none): when it is already set, a new input changes nothing.
    None is exact (there is no row); False may also stand for a row that a
    finished task deleted.
    ``task_attempt`` is the runs index's count of failed task attempts in a row
    (0: not failing), so that a success clears it only when there is something
    to clear.
    ``no_timers`` and ``no_open_updates`` are True only when the run is known to have
    no timer and no requested or accepted update (a run started by the planner that
    has not started a timer or taken an update since), so that its end writes nothing
    to those tables; False means it may have some.
    """

    run_id: str
    workflow_id: str
    task_queue: str
    status: str
    last_event_id: int
    task_has_inputs: bool | None = None
    task_attempt: int = 0
    no_timers: bool = False
    no_open_updates: bool = False


class Lookup(Protocol):
    """Point reads over a store's current state (inside the writing transaction)."""

    def run_head(self, run_id: str) -> RunHead | None: ...
    def open_run_id(self, workflow_id: str) -> str | None: ...
    def event_kind(self, run_id: str, event_id: int) -> type[Event] | None: ...
    def has_activity_task(self, run_id: str, scheduled_event_id: int) -> bool: ...
    def has_timer(self, run_id: str, started_event_id: int) -> bool: ...
    def get_update(self, run_id: str, update_id: str) -> UpdateRequest | None: ...
    def task_failure(self, run_id: str) -> WorkflowTaskFailed | None: ...


@attrs.frozen
class Plan:
    """What one operation writes: the events (ids assigned) and the index changes."""

    events: tuple[Event, ...] = ()
    changes: tuple[Change, ...] = ()
    head: RunHead | None = None
    """The run's head once this is applied (None: unchanged, or not known here)."""


def run_info_from_started(run_id: str, started: WorkflowStarted) -> RunInfo:
    """The runs-index row a WorkflowStarted creates."""
    timeouts = [t for t in (started.execution_timeout, started.run_timeout) if t is not None]
    return RunInfo(
        run_id=run_id,
        workflow_id=started.workflow_id,
        workflow_type=started.workflow_type,
        task_queue=started.task_queue,
        status=RUNNING,
        start_time=started.time,
        close_time=None,
        last_event_id=started.event_id,
        first_execution_run_id=started.first_execution_run_id or run_id,
        parent_workflow_id=started.parent_workflow_id,
        parent_run_id=started.parent_run_id,
        continued_from_run_id=started.continued_from_run_id,
        memo=started.memo,
        deadline=started.time + min(timeouts) if timeouts else None,
        search_attributes=dict(started.search_attributes),
    )


# --- incremental validation: the rules of history.validate_events, one event at a time --------


class Batch:
    """Events being appended to one run: checks each and collects its index changes."""

    def __init__(self, head: RunHead, lookup: Lookup) -> None:
        self.head = head
        self.lookup = lookup
        self.source = f"run {head.run_id!r}"
        self.last = head.last_event_id
        self.status = head.status
        self.terminal_id: int | None = None if head.status == RUNNING else head.last_event_id
        self.close_time: datetime | None = None
        self.task_has_inputs = head.task_has_inputs
        self.task_failing = head.task_attempt > 0
        self.task_attempt = head.task_attempt
        self.next_run_id: str | None = None
        self.no_timers = head.no_timers
        self.no_open_updates = head.no_open_updates
        self.kinds: dict[int, type[Event]] = {}
        self.events: list[Event] = []
        self.changes: list[Change] = []

    def add(self, event: Event) -> None:
        self.check(event)
        _RULES.get(type(event), _on_other)(self, event)
        self.kinds[event.event_id] = type(event)
        self.events.append(event)
        self.last = event.event_id

    def check(self, event: Event) -> None:
        """Raise HistoryError (same rule names and messages as validate_events)."""
        eid, expected, cls = event.event_id, self.last + 1, type(event)
        if eid != expected:
            what = "duplicate" if 1 <= eid < expected else "gap in"
            self.fail(f"{what} event ids: expected id {expected}, found {eid}", eid,
                      "contiguous-ids")
        if (expected == 1) != (cls is WorkflowStarted):
            msg = ("the first event must be WorkflowStarted, found " + cls.__name__
                   if expected == 1 else "WorkflowStarted may only be the first event")
            self.fail(msg, eid, "first-started")
        if self.terminal_id is not None:
            self.fail(f"{cls.__name__} comes after terminal event {self.terminal_id}; nothing "
                      "may follow the end of a run", eid, "after-terminal")
        if cls in TERMINAL_STATUS:
            self.terminal_id = eid
        problem = event_problem(event)
        if problem is not None:
            self.fail(problem, eid, "search-attributes")
        ref = REFERENCES.get(cls)
        if ref is not None:
            field, targets = ref
            target_id = getattr(event, field)
            target_cls = self.kind_of(target_id)
            if target_cls not in targets:
                want = " or ".join(t.__name__ for t in targets)
                found = f"a {target_cls.__name__}" if target_cls else "no earlier event"
                self.fail(f"{cls.__name__}.{field}={target_id} must name an earlier {want}, "
                          f"but that id is {found}", eid, "unknown-command")

    def kind_of(self, event_id: Any) -> type[Event] | None:
        if not isinstance(event_id, int):
            return None
        if event_id in self.kinds:
            return self.kinds[event_id]
        if 1 <= event_id <= self.head.last_event_id:
            return self.lookup.event_kind(self.head.run_id, event_id)
        return None

    def fail(self, message: str, event_id: int, rule: str) -> None:
        raise HistoryError(message, source=self.source, event_id=event_id, rule=rule)

    def plan(self, *, created: bool) -> Plan:
        run_id = self.head.run_id
        tail: Change
        if self.close_time is not None:
            tail = CloseRun(run_id, self.last, self.status, self.close_time, self.next_run_id)
        else:
            tail = AdvanceRun(run_id, self.last)
        if not self.events:
            return Plan()
        changes = [AddEvents(run_id, tuple(self.events)), *self.changes]
        if not created or tail != AdvanceRun(run_id, 1):
            changes.append(tail)
        h = self.head
        head = RunHead(run_id, h.workflow_id, h.task_queue, self.status, self.last,
                       self.task_has_inputs, self.task_attempt if self.task_failing else 0,
                       self.no_timers, self.no_open_updates)
        return Plan(tuple(self.events), tuple(changes), head)


# --- what each kind does to the indexes -------------------------------------------------------


def _need_task(b: Batch) -> None:
    if not b.task_has_inputs:
        b.changes.append(NeedWorkflowTask(b.head.run_id, b.head.task_queue, True,
                                          new_row=b.task_has_inputs is None))
        b.task_has_inputs = True


def _on_started(b: Batch, e: WorkflowStarted) -> None:
    b.changes.append(InsertRun(run_info_from_started(b.head.run_id, e)))
    if e.search_attributes:
        b.changes.append(SetSearchAttributes(b.head.run_id, dict(e.search_attributes),
                                             fresh=True))
    _need_task(b)


def _on_search_attributes(b: Batch, e: SearchAttributesUpserted) -> None:
    if e.search_attributes:
        b.changes.append(SetSearchAttributes(b.head.run_id, dict(e.search_attributes)))


def _on_input(b: Batch, e: Event) -> None:
    _need_task(b)


def _on_activity_result(b: Batch, e: ActivityCompleted) -> None:
    b.changes.append(DeleteActivityTask(b.head.run_id, e.scheduled_event_id))
    _need_task(b)


def _on_timer_fired(b: Batch, e: TimerFired) -> None:
    b.changes.append(DeleteTimer(b.head.run_id, e.started_event_id))
    _need_task(b)


def _on_task_completed(b: Batch, e: WorkflowTaskCompleted) -> None:
    if b.task_has_inputs is not None:  # None: the run has no task row to finish
        b.changes.append(FinishWorkflowTask(b.head.run_id))
        b.task_has_inputs = False
    _clear_task_failure(b)


def _clear_task_failure(b: Batch) -> None:
    if b.task_failing:
        b.changes.append(ClearTaskFailure(b.head.run_id))
        b.task_failing = False


def _on_task_failed(b: Batch, e: WorkflowTaskFailed) -> None:
    b.changes.append(SetTaskFailure(b.head.run_id, e.attempt, e.next_retry_time, e))
    b.task_failing = True
    b.task_attempt = max(e.attempt, 1)


def _on_activity_scheduled(b: Batch, e: ActivityScheduled) -> None:
    row = ActivityRow(
        run_id=b.head.run_id, scheduled_event_id=e.event_id, workflow_id=b.head.workflow_id,
        task_queue=e.task_queue, activity_type=e.activity_type, activity_id=e.activity_id,
        args=e.args, scheduled_time=e.time, available_at=e.time,
        attempt_timeout=_seconds(e.start_to_close_timeout or e.schedule_to_close_timeout),
    )
    b.changes.append(InsertActivityTask(row))


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def _on_activity_cancel(b: Batch, e: ActivityCancelRequested) -> None:
    b.changes.append(RequestActivityCancel(b.head.run_id, e.scheduled_event_id))


def _on_timer_started(b: Batch, e: TimerStarted) -> None:
    b.no_timers = False
    b.changes.append(InsertTimer(DueTimer(
        run_id=b.head.run_id, started_event_id=e.event_id, fire_at=e.fire_at,
        task_queue=b.head.task_queue,
    )))


def _on_timer_canceled(b: Batch, e: TimerCanceled) -> None:
    b.changes.append(DeleteTimer(b.head.run_id, e.started_event_id))


def _on_update_accepted(b: Batch, e: UpdateAccepted) -> None:
    b.no_open_updates = False
    b.changes.append(AcceptUpdate(b.head.run_id, e.update_id, e.name, e.args, e.time))


def _on_update_completed(b: Batch, e: UpdateCompleted) -> None:
    b.changes.append(CompleteUpdate(b.head.run_id, e.update_id, e.result, e.failure))


def _on_terminal(b: Batch, e: Event) -> None:
    run_id = b.head.run_id
    b.status = TERMINAL_STATUS[type(e)]
    b.close_time = e.time
    if isinstance(e, WorkflowContinuedAsNew):
        b.next_run_id = e.new_run_id
    failure = Failure(
        message=f"update aborted: run {run_id!r} ended ({b.status}, event {e.event_id}) "
        "before the update completed",
        type="UpdateAborted",
        non_retryable=True,
    )
    b.changes.append(RemoveRunWork(run_id, timers=not b.no_timers))
    if not b.no_open_updates:
        b.changes.append(AbortUpdates(run_id, failure))
    b.no_timers = b.no_open_updates = True
    b.task_has_inputs = None
    _clear_task_failure(b)


def _on_other(b: Batch, e: Event) -> None:
    """Commands that leave the indexes alone (markers, child starts, signals sent...)."""


_RULES: dict[type[Event], Callable[[Batch, Any], None]] = {
    **{cls: _on_input for cls in INPUT_KINDS},
    **{cls: _on_terminal for cls in TERMINAL_STATUS},
    WorkflowStarted: _on_started,
    ActivityCompleted: _on_activity_result,
    ActivityFailed: _on_activity_result,
    ActivityTimedOut: _on_activity_result,
    ActivityCanceled: _on_activity_result,
    TimerFired: _on_timer_fired,
    WorkflowTaskCompleted: _on_task_completed,
    WorkflowTaskFailed: _on_task_failed,
    ActivityScheduled: _on_activity_scheduled,
    ActivityCancelRequested: _on_activity_cancel,
    TimerStarted: _on_timer_started,
    TimerCanceled: _on_timer_canceled,
    UpdateAccepted: _on_update_accepted,
    UpdateCompleted: _on_update_completed,
    SearchAttributesUpserted: _on_search_attributes,
}
