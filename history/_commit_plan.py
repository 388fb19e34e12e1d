"""Planning one commit's batches with few statements: cached heads, coalesced changes.

A :class:`CommitPlanner` sits between the derivation and a store's applier for
the length of one write transaction. It answers the derivation's
:class:`~history._batch.Lookup` with each run's head read once and then kept
up to date from the plans (the head of a run only changes through this
transaction while it holds the write lock), and it holds a batch's changes
back until the batch is planned, so that :func:`coalesce` can write them with
fewer statements: one insert of all the batch's events per run, no workflow
task row that is created and finished in the same batch, an activity task
inserted already leased when the batch leases it. Any lookup that reads rows
the held-back changes touch writes them first, so the derivation always sees
the state it would have seen without the hold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from typing import cast

from ._batch import RUNNING, Lookup, Plan, RunHead
from ._changes import (
    AcceptUpdate,
    AddEvents,
    AdvanceRun,
    Change,
    ClearTaskFailure,
    CompleteUpdate,
    DeleteActivityTask,
    DeleteTimer,
    FinishWorkflowTask,
    InsertActivityTask,
    InsertTimer,
    LeaseActivityTask,
    NeedWorkflowTask,
    RemoveRunWork,
    RequestActivityCancel,
)
from ._derive import plan_operation
from ._events import Event, WorkflowTaskFailed
from ._store import Operation, UpdateRequest

HEADS_KEPT = 4096
"""How many run heads a :class:`HeadCache` holds before it starts again empty."""


class HeadCache(dict[str, RunHead | None]):
    """Run heads (None: no such run) that outlive one transaction.

    A store may hand the same cache to the planner of each of its transactions,
    but only while nothing but those planners wrote to the runs since: it must
    clear the cache when another connection committed (SQLite's
    ``data_version``), when a transaction fails, and after any other write that
    changes what a head shows.
    """


Applier = Callable[[Sequence[Change]], AbstractSet[str] | None]
"""Writes changes in order; may return the runs whose workflow task row they deleted
(and did not create again), so the planner's heads can say it is not there."""


class CommitPlanner:
    """A :class:`Lookup` for one transaction that plans batches and hands their changes,
    coalesced, to ``apply`` (an :data:`Applier`).

    ``heads``, if given, are run heads known to be current (see :class:`HeadCache`);
    the planner keeps them current with what it plans, and empties them if a batch
    fails.
    """

    def __init__(self, lookup: Lookup, apply: Applier, *,
                 heads: HeadCache | None = None) -> None:
        self._inner = lookup
        self._apply = apply
        if heads is None:
            heads = HeadCache()
        elif len(heads) > HEADS_KEPT:
            heads.clear()
        self._heads = heads
        self._kinds: dict[tuple[str, int], type[Event]] = {}
        self._held: list[Change] = []
        self.closed: set[str] = set()
        """The runs this transaction's planned batches ended (for wake-ups)."""

    def plan_batch(self, ops: Sequence[Operation]) -> list[Event]:
        """Plan ``ops`` and apply their changes; the events written.

        Raises what the derivation raises; the caller then rolls back what this
        batch applied, and the planner forgets what it had cached.
        """
        written: list[Event] = []
        closed: set[str] = set()
        try:
            for op in ops:
                plan = plan_operation(op, self)
                self._settle(op.run_id, plan)
                written.extend(plan.events)
                if plan.head is not None and plan.head.status != RUNNING and plan.events:
                    closed.add(plan.head.run_id)
            self._write_held()
        except BaseException:
            self._held.clear()
            self._heads.clear()
            self._kinds.clear()
            raise
        self.closed |= closed
        return written

    def _settle(self, run_id: str, plan: Plan) -> None:
        if not plan.changes:
            return
        self._held.extend(plan.changes)
        for e in plan.events:
            self._kinds[run_id, e.event_id] = type(e)
        if plan.head is not None:
            self._heads[plan.head.run_id] = plan.head

    def _write_held(self) -> None:
        if self._held:
            held, self._held = self._held, []
            gone: set[str] = set()
            removed = self._apply(coalesce(held, gone))
            if removed:
                gone |= removed
            for run_id in gone:  # the task row a batch created and finished is not there
                h = self._heads.get(run_id)
                if h is not None and h.task_has_inputs is False:
                    self._heads[run_id] = RunHead(run_id, h.workflow_id, h.task_queue, h.status,
                                                  h.last_event_id, None, h.task_attempt,
                                                  h.no_timers, h.no_open_updates)

    # --- Lookup -------------------------------------------------------------------------------

    def run_head(self, run_id: str) -> RunHead | None:
        if run_id not in self._heads:
            self._write_held()
            self._heads[run_id] = self._inner.run_head(run_id)
        return self._heads[run_id]

    def event_kind(self, run_id: str, event_id: int) -> type[Event] | None:
        kind = self._kinds.get((run_id, event_id))
        return kind if kind is not None else self._inner.event_kind(run_id, event_id)

    def open_run_id(self, workflow_id: str) -> str | None:
        self._write_held()
        return self._inner.open_run_id(workflow_id)

    def has_activity_task(self, run_id: str, scheduled_event_id: int) -> bool:
        self._write_held()
        return self._inner.has_activity_task(run_id, scheduled_event_id)

    def has_timer(self, run_id: str, started_event_id: int) -> bool:
        self._write_held()
        return self._inner.has_timer(run_id, started_event_id)

    def get_update(self, run_id: str, update_id: str) -> UpdateRequest | None:
        self._write_held()
        return self._inner.get_update(run_id, update_id)

    def task_failure(self, run_id: str) -> WorkflowTaskFailed | None:
        self._write_held()
        return self._inner.task_failure(run_id)


def coalesce(changes: Sequence[Change], gone: set[str] | None = None) -> list[Change]:
    """The same effect on the indexes with fewer changes (each one a statement or more).

    ``gone``, if given, receives the runs whose workflow task row these changes leave
    absent because a need that created it and a finish cancelled out (a head that
    says "the row may be there" can then say "it is not").

    * a run's events of the batch go in one :class:`AddEvents`, at the first one's place
      (nothing else reads the events table);
    * a :class:`NeedWorkflowTask` followed by the run's :class:`FinishWorkflowTask` is
      dropped (the finish decides the row), and so is the finish too when the need was
      to create the row (no row before, none after: a requested update always has one);
    * an :class:`InsertActivityTask` followed by the lease of the same task becomes
      one insert of the leased row;
    * a :class:`NeedWorkflowTask` that creates the row is dropped when the run's
      :class:`RemoveRunWork` (it ended) follows: no row before, none after; and that
      removal, like one that follows a need and a finish that cancelled out, is told
      that the run has no workflow task row to delete.
    """
    if gone is None:
        gone = set()
    out: list[Change | None] = []
    events_at: dict[str, int] = {}
    need_at: dict[str, int] = {}
    insert_at: dict[tuple[str, int], int] = {}
    for change in changes:
        kind = type(change)
        if kind is AddEvents:
            change = cast(AddEvents, change)
            at = events_at.get(change.run_id)
            if at is not None:
                first = cast(AddEvents, out[at])
                out[at] = AddEvents(change.run_id, first.events + change.events)
                continue
            events_at[change.run_id] = len(out)
        elif kind is NeedWorkflowTask:
            change = cast(NeedWorkflowTask, change)
            gone.discard(change.run_id)
            if change.has_inputs:
                if change.run_id in need_at:
                    continue  # the row is already needed: a second need changes nothing
                need_at[change.run_id] = len(out)
        elif kind is FinishWorkflowTask:
            change = cast(FinishWorkflowTask, change)
            at = need_at.pop(change.run_id, -1)
            gone.discard(change.run_id)
            if at >= 0:
                need = cast(NeedWorkflowTask, out[at])
                out[at] = None
                if need.new_row:
                    gone.add(change.run_id)
                    continue
        elif kind is LeaseActivityTask:
            change = cast(LeaseActivityTask, change)
            at = insert_at.pop((change.run_id, change.scheduled_event_id), -1)
            if at >= 0:
                row = cast(InsertActivityTask, out[at]).row
                out[at] = InsertActivityTask(row.leased(change.owner, change.now,
                                                        change.default_lease))
                continue
        elif kind is InsertActivityTask:
            change = cast(InsertActivityTask, change)
            insert_at[change.row.run_id, change.row.scheduled_event_id] = len(out)
        elif kind not in _LEAVE_TASK_ROW:
            run_id = getattr(change, "run_id", "")
            at = need_at.pop(run_id, -1)
            if kind is RemoveRunWork:
                change = cast(RemoveRunWork, change)
                if at >= 0 and cast(NeedWorkflowTask, out[at]).new_row:
                    out[at] = None  # the row the need would create is removed with the work
                    change = RemoveRunWork(run_id, task_row=False, timers=change.timers)
                elif at < 0 and run_id in gone:  # a need and a finish left no row
                    change = RemoveRunWork(run_id, task_row=False, timers=change.timers)
            gone.discard(run_id)
        out.append(change)
    return [c for c in out if c is not None]


_LEAVE_TASK_ROW: frozenset[type] = frozenset({
    AddEvents, NeedWorkflowTask, AdvanceRun, DeleteActivityTask, InsertActivityTask,
    LeaseActivityTask, RequestActivityCancel, InsertTimer, DeleteTimer, AcceptUpdate,
    CompleteUpdate, ClearTaskFailure})
"""Changes that leave a run's workflow task row as it is: they do not end the window in
which a need and a finish cancel out (every other change, or one of an unknown kind, does)."""
