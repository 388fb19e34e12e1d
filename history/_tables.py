"""In-memory index tables: the state of a MemoryStore, and the scratch space of rebuilds.

:class:`Tables` answers :class:`~history._derive.Lookup` point reads and applies
:mod:`history._changes` records, keeping an undo journal so that a failed
commit leaves nothing behind. :func:`derive_tables` recomputes every index
from events alone; both stores' ``rebuild_indexes`` use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from ._batch import RUNNING, Plan, RunHead
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
    DropIdleWorkflowTask,
    FinishWorkflowTask,
    InsertActivityTask,
    InsertRun,
    InsertTimer,
    InsertUpdate,
    LeaseActivityTask,
    NeedWorkflowTask,
    RejectUpdate,
    RemoveRunWork,
    RequestActivityCancel,
    SetSearchAttributes,
    SetTaskFailure,
    WorkflowTaskRow,
)
from ._derive import plan_events
from ._events import Event, WorkflowTaskFailed
from ._search_values import merged
from ._store import DueTimer, RunInfo, UpdateRequest

_MISSING: Any = object()


class Tables:
    """Events and derived indexes of many runs, as plain dicts (not thread-safe)."""

    def __init__(self) -> None:
        self.events: dict[str, list[Event]] = {}
        self.runs: dict[str, RunInfo] = {}
        self.open_by_workflow: dict[str, str] = {}
        self.workflow_tasks: dict[str, WorkflowTaskRow] = {}
        self.activity_tasks: dict[tuple[str, int], ActivityRow] = {}
        self.timers: dict[tuple[str, int], DueTimer] = {}
        self.updates: dict[str, dict[str, UpdateRequest]] = {}
        self._undo: list[Callable[[], None]] | None = None

    # --- transactions -------------------------------------------------------------------------

    def begin(self) -> None:
        """Start journaling changes so that :meth:`rollback` can undo them."""
        self._undo = []

    def rollback(self) -> None:
        """Undo everything since :meth:`begin`."""
        for undo in reversed(self._undo or []):
            undo()
        self._undo = None

    def end(self) -> bool:
        """Keep everything since :meth:`begin`; True if anything changed."""
        changed = bool(self._undo)
        self._undo = None
        return changed

    def put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        """``table[key] = value``, journaled."""
        if self._undo is not None:
            old = table.get(key, _MISSING)
            self._undo.append(lambda: _restore(table, key, old))
        table[key] = value

    def delete(self, table: dict[Any, Any], key: Any) -> None:
        """``del table[key]`` if present, journaled."""
        if key not in table:
            return
        if self._undo is not None:
            old = table[key]
            self._undo.append(lambda: _restore(table, key, old))
        del table[key]

    # --- Lookup -------------------------------------------------------------------------------

    def run_head(self, run_id: str) -> RunHead | None:
        info = self.runs.get(run_id)
        if info is None:
            return None
        task = self.workflow_tasks.get(run_id)
        return RunHead(run_id, info.workflow_id, info.task_queue, info.status,
                       info.last_event_id, None if task is None else task.has_inputs,
                       info.task_attempt)

    def task_failure(self, run_id: str) -> WorkflowTaskFailed | None:
        info = self.runs.get(run_id)
        return None if info is None else info.task_failure

    def open_run_id(self, workflow_id: str) -> str | None:
        return self.open_by_workflow.get(workflow_id)

    def event_kind(self, run_id: str, event_id: int) -> type[Event] | None:
        events = self.events.get(run_id, [])
        return type(events[event_id - 1]) if 1 <= event_id <= len(events) else None

    def has_activity_task(self, run_id: str, scheduled_event_id: int) -> bool:
        return (run_id, scheduled_event_id) in self.activity_tasks

    def has_timer(self, run_id: str, started_event_id: int) -> bool:
        return (run_id, started_event_id) in self.timers

    def get_update(self, run_id: str, update_id: str) -> UpdateRequest | None:
        return self.updates.get(run_id, {}).get(update_id)

    def has_requested_updates(self, run_id: str) -> bool:
        """True if a client update of the run waits for a worker."""
        return any(u.status == "requested" for u in self.updates.get(run_id, {}).values())

    # --- applying changes ---------------------------------------------------------------------

    def apply_plan(self, plan: Plan) -> None:
        """Apply a plan's changes in order."""
        self.apply(plan.changes)

    def apply(self, changes: Iterable[Change]) -> None:
        """Apply changes in order."""
        for change in changes:
            _APPLY[type(change)](self, change)

    def _add_events(self, c: AddEvents) -> None:
        events = self.events.get(c.run_id)
        if events is None:
            self.put(self.events, c.run_id, list(c.events))
            return
        size = len(events)
        if self._undo is not None:
            self._undo.append(lambda: events.__delitem__(slice(size, None)))
        events.extend(c.events)

    def _insert_run(self, c: InsertRun) -> None:
        self.put(self.runs, c.info.run_id, c.info)
        if c.info.status == RUNNING:
            self.put(self.open_by_workflow, c.info.workflow_id, c.info.run_id)

    def _advance_run(self, c: AdvanceRun) -> None:
        info = self.runs[c.run_id]
        self.put(self.runs, c.run_id, attrs.evolve(info, last_event_id=c.last_event_id))

    def _close_run(self, c: CloseRun) -> None:
        info = self.runs[c.run_id]
        self.put(self.runs, c.run_id, attrs.evolve(
            info, last_event_id=c.last_event_id, status=c.status, close_time=c.close_time,
            next_run_id=c.next_run_id))
        if self.open_by_workflow.get(info.workflow_id) == c.run_id:
            self.delete(self.open_by_workflow, info.workflow_id)

    def _set_search_attributes(self, c: SetSearchAttributes) -> None:
        info = self.runs[c.run_id]
        self.put(self.runs, c.run_id, attrs.evolve(
            info, search_attributes=merged(info.search_attributes, c.values)))

    def _need_workflow_task(self, c: NeedWorkflowTask) -> None:
        row = self.workflow_tasks.get(c.run_id)
        if row is None:
            self.put(self.workflow_tasks, c.run_id, WorkflowTaskRow(
                run_id=c.run_id, task_queue=c.task_queue, has_inputs=c.has_inputs))
        elif c.has_inputs and not row.has_inputs:
            self.put(self.workflow_tasks, c.run_id, attrs.evolve(row, has_inputs=True))

    def _finish_workflow_task(self, c: FinishWorkflowTask) -> None:
        row = self.workflow_tasks.get(c.run_id)
        if row is None:
            return
        if self.has_requested_updates(c.run_id):
            self.put(self.workflow_tasks, c.run_id, attrs.evolve(
                row, has_inputs=False, lease_owner=None, lease_expires_at=None))
        else:
            self.delete(self.workflow_tasks, c.run_id)

    def _set_task_failure(self, c: SetTaskFailure) -> None:
        info = self.runs[c.run_id]
        self.put(self.runs, c.run_id, attrs.evolve(
            info, task_attempt=c.attempt, task_retry_at=c.retry_at,
            task_failure=c.failure if c.failure is not None else info.task_failure))
        row = self.workflow_tasks.get(c.run_id)
        if row is not None and c.retry_at is not None:
            self.put(self.workflow_tasks, c.run_id, attrs.evolve(
                row, lease_expires_at=c.retry_at))

    def _clear_task_failure(self, c: ClearTaskFailure) -> None:
        info = self.runs[c.run_id]
        self.put(self.runs, c.run_id, attrs.evolve(
            info, task_attempt=0, task_retry_at=None, task_failure=None))

    def _drop_idle_workflow_task(self, c: DropIdleWorkflowTask) -> None:
        row = self.workflow_tasks.get(c.run_id)
        if row is not None and not row.has_inputs and not self.has_requested_updates(c.run_id):
            self.delete(self.workflow_tasks, c.run_id)

    def _remove_run_work(self, c: RemoveRunWork) -> None:
        self.delete(self.workflow_tasks, c.run_id)
        for key in [k for k in self.activity_tasks if k[0] == c.run_id]:
            self.delete(self.activity_tasks, key)
        for key in [k for k in self.timers if k[0] == c.run_id]:
            self.delete(self.timers, key)

    def _abort_updates(self, c: AbortUpdates) -> None:
        updates = self.updates.get(c.run_id, {})
        for uid, req in list(updates.items()):
            if req.status in ("requested", "accepted"):
                self.put(updates, uid, attrs.evolve(req, status="aborted", failure=c.failure))

    def _insert_activity_task(self, c: InsertActivityTask) -> None:
        self.put(self.activity_tasks, (c.row.run_id, c.row.scheduled_event_id), c.row)

    def _lease_activity_task(self, c: LeaseActivityTask) -> None:
        key = (c.run_id, c.scheduled_event_id)
        row = self.activity_tasks.get(key)
        if row is not None and row.lease_owner is None:
            self.put(self.activity_tasks, key, attrs.evolve(
                row, attempt=row.attempt + 1, lease_owner=c.owner,
                lease_expires_at=row.lease_until(c.now, c.default_lease)))

    def _request_activity_cancel(self, c: RequestActivityCancel) -> None:
        key = (c.run_id, c.scheduled_event_id)
        row = self.activity_tasks.get(key)
        if row is not None:
            self.put(self.activity_tasks, key, attrs.evolve(row, cancel_requested=True))

    def _delete_activity_task(self, c: DeleteActivityTask) -> None:
        key = (c.run_id, c.scheduled_event_id)
        if c.missing is not None and key not in self.activity_tasks:
            raise c.missing
        self.delete(self.activity_tasks, key)

    def _insert_timer(self, c: InsertTimer) -> None:
        self.put(self.timers, (c.timer.run_id, c.timer.started_event_id), c.timer)

    def _delete_timer(self, c: DeleteTimer) -> None:
        self.delete(self.timers, (c.run_id, c.started_event_id))

    def _updates_of(self, run_id: str) -> dict[str, UpdateRequest]:
        if run_id not in self.updates:
            self.put(self.updates, run_id, {})
        return self.updates[run_id]

    def _insert_update(self, c: InsertUpdate) -> None:
        self.put(self._updates_of(c.request.run_id), c.request.update_id, c.request)

    def _accept_update(self, c: AcceptUpdate) -> None:
        updates = self._updates_of(c.run_id)
        old = updates.get(c.update_id)
        new = (attrs.evolve(old, status="accepted") if old is not None else UpdateRequest(
            run_id=c.run_id, update_id=c.update_id, name=c.name, args=c.args,
            status="accepted", requested_at=c.time))
        self.put(updates, c.update_id, new)

    def _complete_update(self, c: CompleteUpdate) -> None:
        updates = self._updates_of(c.run_id)
        old = updates.get(c.update_id)
        if old is not None:
            self.put(updates, c.update_id, attrs.evolve(
                old, status="completed", result=c.result, failure=c.failure))

    def _reject_update(self, c: RejectUpdate) -> None:
        updates = self._updates_of(c.run_id)
        old = updates.get(c.update_id)
        if old is not None:
            self.put(updates, c.update_id, attrs.evolve(old, status="rejected",
                                                        failure=c.failure))

    # --- iteration helpers --------------------------------------------------------------------

    def all_updates(self) -> Iterator[UpdateRequest]:
        """Every update request, run by run."""
        for updates in self.updates.values():
            yield from updates.values()


def _restore(table: dict[Any, Any], key: Any, old: Any) -> None:
    if old is _MISSING:
        table.pop(key, None)
    else:
        table[key] = old


_APPLY: dict[type, Callable[[Tables, Any], None]] = {
    AddEvents: Tables._add_events,
    InsertRun: Tables._insert_run,
    AdvanceRun: Tables._advance_run,
    CloseRun: Tables._close_run,
    SetSearchAttributes: Tables._set_search_attributes,
    NeedWorkflowTask: Tables._need_workflow_task,
    FinishWorkflowTask: Tables._finish_workflow_task,
    SetTaskFailure: Tables._set_task_failure,
    ClearTaskFailure: Tables._clear_task_failure,
    DropIdleWorkflowTask: Tables._drop_idle_workflow_task,
    RemoveRunWork: Tables._remove_run_work,
    AbortUpdates: Tables._abort_updates,
    InsertActivityTask: Tables._insert_activity_task,
    LeaseActivityTask: Tables._lease_activity_task,
    RequestActivityCancel: Tables._request_activity_cancel,
    DeleteActivityTask: Tables._delete_activity_task,
    InsertTimer: Tables._insert_timer,
    DeleteTimer: Tables._delete_timer,
    InsertUpdate: Tables._insert_update,
    AcceptUpdate: Tables._accept_update,
    CompleteUpdate: Tables._complete_update,
    RejectUpdate: Tables._reject_update,
}


# --- rebuilding -------------------------------------------------------------------------------


#: Update statuses that events record (UpdateAccepted, UpdateCompleted).
_DERIVED_STATUSES = ("accepted", "completed")


def _as_requested(update: UpdateRequest) -> UpdateRequest:
    # Statuses the events decide are recomputed from them; 'requested' and 'rejected'
    # are not in any history, so they are kept as they are.
    if update.status in ("requested", "rejected"):
        return update
    return attrs.evolve(update, status="requested", result=None, failure=None)


def derive_tables(
    runs: Iterable[tuple[str, Sequence[Event]]],
    updates: Iterable[UpdateRequest],
    *,
    workflow_tasks: Mapping[str, WorkflowTaskRow] | None = None,
    activity_tasks: Mapping[tuple[str, int], ActivityRow] | None = None,
    runs_index: Mapping[str, RunInfo] | None = None,
) -> Tables:
    """Recompute every index from the runs' events (in the order given).

    ``updates`` are the current update requests (the only state that is not in
    the events); leases, attempts and heartbeats of tasks that still exist are
    carried over from ``workflow_tasks`` and ``activity_tasks``, and a failing
    workflow task's attempt count and retry time from ``runs_index`` while the
    failure it counts is still the last one recorded.
    """
    tables = Tables()
    # Updates the events accept are not seeded: their acceptance recreates them, so an
    # earlier WorkflowTaskCompleted does not see them as still waiting for a worker
    # (the live commit never did, whatever order an imported history has).
    # Their request-only fields (time, headers) are put back afterwards.
    accepted: dict[tuple[str, str], UpdateRequest] = {}
    for update in updates:
        if update.status in _DERIVED_STATUSES:
            accepted[(update.run_id, update.update_id)] = update
            continue
        tables.updates.setdefault(update.run_id, {})[update.update_id] = _as_requested(update)
    for run_id, events in runs:
        tables.apply_plan(plan_events(run_id, events, tables, expected_last_event_id=0,
                                      unique=False))
    for (run_id, update_id), original in accepted.items():
        derived = tables.updates.get(run_id, {}).get(update_id)
        tables.updates.setdefault(run_id, {})[update_id] = original if derived is None else \
            attrs.evolve(derived, requested_at=original.requested_at,
                         headers=dict(original.headers))
    for run_id, row in (workflow_tasks or {}).items():
        new = tables.workflow_tasks.get(run_id)
        if new is not None:
            tables.workflow_tasks[run_id] = attrs.evolve(
                new, lease_owner=row.lease_owner, lease_expires_at=row.lease_expires_at)
    for key, act in (activity_tasks or {}).items():
        fresh = tables.activity_tasks.get(key)
        if fresh is not None:
            tables.activity_tasks[key] = attrs.evolve(
                fresh, attempt=act.attempt, available_at=act.available_at,
                lease_owner=act.lease_owner, lease_expires_at=act.lease_expires_at,
                heartbeat_details=act.heartbeat_details, last_failure=act.last_failure,
                last_heartbeat_at=act.last_heartbeat_at)
    for run_id, old in (runs_index or {}).items():
        new_run = tables.runs.get(run_id)
        if (new_run is not None and new_run.task_failure is not None
                and old.task_failure is not None
                and old.task_failure.event_id == new_run.task_failure.event_id
                and old.task_attempt > new_run.task_attempt):
            tables.runs[run_id] = attrs.evolve(new_run, task_attempt=old.task_attempt,
                                               task_retry_at=old.task_retry_at)
    return tables
