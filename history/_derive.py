"""The store rules, once: operations in, checked events and index changes out.

Both stores call :func:`plan_operation` with a :class:`Lookup` over their
current state (including earlier operations of the same commit) and apply the
returned :class:`Plan`. Validation is incremental: appending a batch costs
O(batch), reading only the run's head row and the events a result refers to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from ._batch import RUNNING, Batch, Lookup, Plan, RunHead
from ._changes import (
    Change,
    DeleteActivityTask,
    DropIdleWorkflowTask,
    InsertUpdate,
    LeaseActivityTask,
    NeedWorkflowTask,
    RejectUpdate,
    SetTaskFailure,
)
from ._errors import AppendConflictError, HistoryError, RunNotFoundError
from ._events import (
    ActivityCanceled,
    ActivityCompleted,
    ActivityFailed,
    ActivityScheduled,
    ActivityTimedOut,
    Event,
    Failure,
    JsonValue,
    TimerFired,
    TimerStarted,
    WorkflowStarted,
    WorkflowTaskFailed,
)
from ._store import (
    Append,
    Deliver,
    LeaseActivity,
    Operation,
    RecordTaskFailure,
    RequestUpdate,
    RunAlreadyExistsError,
    RunClosedError,
    StaleResultError,
    Start,
    UpdateRequest,
)

# --- operations -------------------------------------------------------------------------------


def _new_run(run_id: str, started: Event, lookup: Lookup, *, unique: bool = True,
             fresh: bool = False) -> Batch:
    """A batch that creates the run; ``fresh``: nothing of it exists yet in any table (a
    :class:`Start`, not a history appended whole or rebuilt, whose update requests may
    be there already)."""
    if not isinstance(started, WorkflowStarted):
        raise HistoryError(
            "the first event must be WorkflowStarted, found " + type(started).__name__,
            source=f"run {run_id!r}", event_id=started.event_id, rule="first-started")
    if lookup.run_head(run_id) is not None:
        raise RunAlreadyExistsError(started.workflow_id, run_id, run_id)
    open_id = lookup.open_run_id(started.workflow_id) if unique else None
    if open_id is not None:
        raise RunAlreadyExistsError(started.workflow_id, run_id, open_id)
    head = RunHead(run_id, started.workflow_id, started.task_queue, RUNNING, 0,
                   no_timers=fresh, no_open_updates=fresh)
    return Batch(head, lookup)


def plan_events(run_id: str, events: Sequence[Event], lookup: Lookup, *,
                expected_last_event_id: int, unique: bool = True) -> Plan:
    """Check and plan a conditional append (a new run if expected is 0 and it starts one)."""
    head = lookup.run_head(run_id)
    if head is None:
        if expected_last_event_id != 0:
            raise RunNotFoundError(run_id)
        if not events:
            return Plan()
        batch = _new_run(run_id, events[0], lookup, unique=unique)
    elif head.last_event_id != expected_last_event_id:
        raise AppendConflictError(run_id, expected_last_event_id, head.last_event_id)
    else:
        batch = Batch(head, lookup)
    for event in events:
        batch.add(event)
    return batch.plan(created=head is None)


def _plan_append(op: Append, lookup: Lookup) -> Plan:
    return plan_events(op.run_id, op.events, lookup,
                       expected_last_event_id=op.expected_last_event_id)


def _plan_start(op: Start, lookup: Lookup) -> Plan:
    started = op.started
    if started.event_id != 1:
        started = attrs.evolve(started, event_id=1)
    batch = _new_run(op.run_id, started, lookup, fresh=True)
    batch.add(started)
    return batch.plan(created=True)


def _open_activity(lk: Lookup, run_id: str, scheduled_event_id: int) -> bool:
    return lk.has_activity_task(run_id, scheduled_event_id)


def _open_timer(lk: Lookup, run_id: str, started_event_id: int) -> bool:
    return lk.has_timer(run_id, started_event_id)


_STALE_CHECKS: dict[type[Event],
                    tuple[str, Callable[[Lookup, str, int], bool], type[Event]]] = {
    ActivityCompleted: ("scheduled_event_id", _open_activity, ActivityScheduled),
    ActivityFailed: ("scheduled_event_id", _open_activity, ActivityScheduled),
    ActivityTimedOut: ("scheduled_event_id", _open_activity, ActivityScheduled),
    ActivityCanceled: ("scheduled_event_id", _open_activity, ActivityScheduled),
    TimerFired: ("started_event_id", _open_timer, TimerStarted),
}
"""A result's command must still be open. An open activity task (timer) row exists only
for an ActivityScheduled (TimerStarted) event, so the check also tells the command's
kind, and the batch need not read it again."""


def _plan_deliver(op: Deliver, lookup: Lookup) -> Plan:
    cls = type(op.event)
    head = lookup.run_head(op.run_id)
    known: tuple[int, type[Event]] | None = None
    deferred: StaleResultError | None = None
    try:
        if head is None:
            raise RunNotFoundError(op.run_id)
        if head.status != RUNNING:
            raise RunClosedError(op.run_id, head.status, cls.__name__)
        stale = _STALE_CHECKS.get(cls)
        if stale is not None:
            command_id = getattr(op.event, stale[0])
            if op.missing_ok or stale[1] is not _open_activity:
                if not stale[1](lookup, op.run_id, command_id):
                    raise StaleResultError(op.run_id, cls.__name__, command_id)
            else:  # checked as the task is deleted: no read first
                deferred = StaleResultError(op.run_id, cls.__name__, command_id)
            known = (command_id, stale[2])
    except (RunNotFoundError, RunClosedError, StaleResultError):
        if op.missing_ok:
            return Plan()
        raise
    batch = Batch(head, lookup)
    if known is not None:
        batch.kinds[known[0]] = known[1]
    event = op.event
    if event.event_id != head.last_event_id + 1:
        event = attrs.evolve(event, event_id=head.last_event_id + 1)
    batch.add(event)
    if deferred is not None:
        batch.changes = [DeleteActivityTask(c.run_id, c.scheduled_event_id, deferred)
                         if type(c) is DeleteActivityTask else c for c in batch.changes]
    return batch.plan(created=False)


def _plan_lease_activity(op: LeaseActivity, lookup: Lookup) -> Plan:
    return Plan(changes=(LeaseActivityTask(op.run_id, op.scheduled_event_id, op.owner, op.now,
                                           op.default_lease),))


def same_cause(a: WorkflowTaskFailed, b: WorkflowTaskFailed) -> bool:
    """Do two task failures have one cause (type, message, code and location)?"""
    return (a.failure.type, a.failure.message, a.code, a.location) == (
        b.failure.type, b.failure.message, b.code, b.location)


def _plan_task_failure(op: RecordTaskFailure, lookup: Lookup) -> Plan:
    head = lookup.run_head(op.run_id)
    if head is None or head.status != RUNNING:
        return Plan()  # the run ended meanwhile (or never was): nothing is failing
    event = op.event
    recorded = lookup.task_failure(op.run_id) if head.task_attempt > 0 else None
    if recorded is not None and same_cause(recorded, event):
        return Plan(changes=(SetTaskFailure(op.run_id, event.attempt, event.next_retry_time,
                                            None),))
    batch = Batch(head, lookup)
    batch.add(attrs.evolve(event, event_id=head.last_event_id + 1))
    return batch.plan(created=False)


def _plan_request_update(op: RequestUpdate, lookup: Lookup) -> Plan:
    _, changes = plan_request_update(lookup, op.run_id, op.update_id, op.name, op.args, op.now)
    head = lookup.run_head(op.run_id)
    if changes and head is not None and (head.task_has_inputs is None or head.no_open_updates):
        # the request's task row is there now (without inputs), and so is an update
        has_inputs = False if head.task_has_inputs is None else head.task_has_inputs
        return Plan(changes=changes, head=attrs.evolve(head, task_has_inputs=has_inputs,
                                                       no_open_updates=False))
    return Plan(changes=changes)


_PLANNERS: dict[type, Callable[[Any, Lookup], Plan]] = {
    Append: _plan_append,
    Start: _plan_start,
    Deliver: _plan_deliver,
    LeaseActivity: _plan_lease_activity,
    RecordTaskFailure: _plan_task_failure,
    RequestUpdate: _plan_request_update,
}


def plan_operation(op: Operation, lookup: Lookup) -> Plan:
    """Check one commit() operation against the store's state and plan its writes.

    Raises the store errors (conflict, not found, closed, stale, already exists)
    and HistoryError for events that break the history rules.
    """
    return _PLANNERS[type(op)](op, lookup)


def plan_request_update(
    lookup: Lookup, run_id: str, update_id: str, name: str, args: list[JsonValue],
    now: datetime, headers: Mapping[str, JsonValue] | None = None,
) -> tuple[UpdateRequest, tuple[Change, ...]]:
    """A client's update: the existing request with that id, or a new ``requested`` one."""
    head = lookup.run_head(run_id)
    if head is None:
        raise RunNotFoundError(run_id)
    existing = lookup.get_update(run_id, update_id)
    if existing is not None:
        return existing, ()
    if head.status != RUNNING:
        raise RunClosedError(run_id, head.status, f"update {name!r}")
    request = UpdateRequest(run_id=run_id, update_id=update_id, name=name, args=args,
                            status="requested", requested_at=now, headers=dict(headers or {}))
    return request, (InsertUpdate(request),
                     NeedWorkflowTask(run_id, head.task_queue, False))


def plan_reject_update(
    lookup: Lookup, run_id: str, update_id: str, failure: Failure
) -> tuple[Change, ...]:
    """A validator said no: only a ``requested`` update can be rejected (else nothing)."""
    existing = lookup.get_update(run_id, update_id)
    if existing is None or existing.status != "requested":
        return ()
    return RejectUpdate(run_id, update_id, failure), DropIdleWorkflowTask(run_id)
