"""MemoryStore: the Store protocol in plain Python dicts, for tests and time-skipping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs

from ._batch import RUNNING
from ._changes import Change
from ._commit_plan import CommitPlanner
from ._derive import plan_reject_update, plan_request_update
from ._errors import ReplayError, RunNotFoundError
from ._events import Event, Failure, JsonValue
from ._history import History
from ._notify import ChangeNotifier, ClosingNotifying, closed_scope
from ._query_channel import QueryRequest, expired, wall_now
from ._registry import (
    ACTIVITY,
    WORKFLOW,
    ActivityRegistration,
    HandlerSignature,
    RegistryTable,
    WorkflowRegistration,
    WorkflowSignature,
)
from ._search_bind import bind
from ._search_eval import known_types_of, matches
from ._search_index import rows_of
from ._sqlite_retention import RunNotPrunableError
from ._store import (
    ActivityTask,
    Append,
    DueTimer,
    Operation,
    PendingActivity,
    RunInfo,
    UpdateRequest,
    WorkflowTask,
)
from ._tables import Tables, derive_tables

T = TypeVar("T")


class MemoryStore(ClosingNotifying):
    """A :class:`~history.Store` that keeps everything in memory (lost on exit).

    Same rules and errors as :class:`~history.SqliteStore`; every method is
    thread-safe (one lock), and ``wait_changed`` wakes waiters on any event loop.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tables = Tables()
        self._notifier = ChangeNotifier()
        # queries routed to workers (QueryChannel): never history, never derived
        self._queries: dict[str, QueryRequest] = {}
        self._query_pollers: dict[str, tuple[str, float]] = {}  # worker -> (queue, when)
        self._registry = RegistryTable()  # what workers host: not history, never derived
        self.pruned_runs: list[tuple[RunInfo, int, str | None]] = []
        """The audit of :meth:`prune_run`: (run, event count, where it was exported)."""

    # --- writing ------------------------------------------------------------------------------

    def _write(self, fn: Callable[[Tables], T],
               runs: AbstractSet[str] | None = frozenset()) -> T:
        with self._lock:
            tables = self._tables
            tables.begin()
            try:
                result = fn(tables)
            except BaseException:
                tables.rollback()
                raise
            changed = tables.end()
        if changed:
            self._notifier.notify(runs)
        return result

    def commit(self, ops: Sequence[Operation]) -> list[Event]:
        """Apply all operations in one transaction, or none; returns the events written."""
        runs = {op.run_id for op in ops}

        def run(tables: Tables) -> list[Event]:
            # the same planner as SqliteStore's, so both refuse a bad batch alike
            planner = CommitPlanner(tables, tables.apply)
            written = planner.plan_batch(ops)
            runs.update(closed_scope(r) for r in planner.closed)
            return written
        return self._write(run, runs)

    def commit_each(self, batches: Sequence[Sequence[Operation]]
                    ) -> list[list[Event] | ReplayError]:
        """Apply each batch atomically on its own; a failed batch's error takes its place."""
        results: list[list[Event] | ReplayError] = []
        for ops in batches:
            try:
                results.append(self.commit(ops))
            except ReplayError as exc:
                results.append(exc)
        return results

    def append(self, run_id: str, events: Sequence[Event], expected_last_event_id: int) -> None:
        """Conditional append; AppendConflictError if the run is not at the expected id."""
        self.commit([Append(run_id, events, expected_last_event_id)])

    # --- reading events -----------------------------------------------------------------------

    def read(self, run_id: str, after_event_id: int = 0) -> list[Event]:
        """Events of the run with id > ``after_event_id``; RunNotFoundError if no such run."""
        with self._lock:
            events = self._tables.events.get(run_id)
            if events is None:
                raise RunNotFoundError(run_id)
            return events[max(after_event_id, 0):]

    def history(self, run_id: str) -> History:
        """The run's whole history."""
        return History(run_id, self.read(run_id))

    def last_event_id(self, run_id: str) -> int:
        """The id of the run's newest event; 0 if the run does not exist."""
        with self._lock:
            return len(self._tables.events.get(run_id, ()))

    def run_is_open(self, run_id: str) -> bool:
        """True while the run exists and has not ended."""
        info = self.get_run(run_id)
        return info is not None and info.status == RUNNING

    # --- runs index ---------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunInfo | None:
        """The runs-index row of a run, or None."""
        with self._lock:
            return self._tables.runs.get(run_id)

    def latest_run(self, workflow_id: str) -> RunInfo | None:
        """The most recently started run of a workflow id, or None."""
        return next(iter(self.list_runs(workflow_id=workflow_id, limit=1)), None)

    def list_runs(self, *, status: str | None = None, workflow_type: str | None = None,
                  workflow_id: str | None = None, limit: int | None = None,
                  task_failing: bool | None = None) -> list[RunInfo]:
        """Runs matching every given filter, most recently started first (``task_failing``:
        only runs whose workflow task is, or is not, failing)."""
        found: list[RunInfo] = []
        with self._lock:
            for info in reversed(self._tables.runs.values()):
                if limit is not None and len(found) >= limit:
                    break
                if ((status is None or info.status == status)
                        and (workflow_type is None or info.workflow_type == workflow_type)
                        and (workflow_id is None or info.workflow_id == workflow_id)
                        and (task_failing is None or info.task_failing == task_failing)):
                    found.append(info)
        return found

    def count_runs(self, *, status: str | None = None, workflow_type: str | None = None) -> int:
        """How many runs match the filters."""
        return len(self.list_runs(status=status, workflow_type=workflow_type))

    def search_attribute_types(self) -> dict[str, set[str]]:
        """Custom search attribute name -> the types runs of this store gave it."""
        with self._lock:
            return known_types_of(self._tables.runs.values())

    def query_runs(self, query: str, *, limit: int | None = None) -> list[RunInfo]:
        """Runs matching the list query ``query``, most recently started first
        (ListQueryError if it is malformed or names an unknown attribute)."""
        with self._lock:
            runs = list(self._tables.runs.values())
        bound = bind(query, known_types_of(runs))
        found: list[RunInfo] = []
        for info in reversed(runs):
            if limit is not None and len(found) >= limit:
                break
            if matches(bound, info):
                found.append(info)
        return found

    def count_query(self, query: str) -> int:
        """How many runs the list query ``query`` matches."""
        return len(self.query_runs(query))

    # --- workflow tasks -----------------------------------------------------------------------

    def lease_workflow_task(self, task_queue: str, owner: str, now: datetime,
                            lease_for: timedelta) -> WorkflowTask | None:
        """Lease the oldest free workflow task of the queue (free: unleased or expired)."""
        return next(iter(self.lease_workflow_tasks(task_queue, owner, now, lease_for, 1)), None)

    def lease_workflow_tasks(self, task_queue: str, owner: str, now: datetime,
                             lease_for: timedelta, limit: int) -> list[WorkflowTask]:
        """Lease up to ``limit`` free workflow tasks of the queue, oldest first, at once."""
        def run(tables: Tables) -> list[WorkflowTask]:
            leased: list[WorkflowTask] = []
            for row in list(tables.workflow_tasks.values()):
                if len(leased) >= limit:
                    break
                if row.task_queue == task_queue and (
                        row.lease_expires_at is None or row.lease_expires_at <= now):
                    tables.put(tables.workflow_tasks, row.run_id, attrs.evolve(
                        row, lease_owner=owner, lease_expires_at=now + lease_for))
                    updates = tables.updates.get(row.run_id, {}).values()
                    leased.append(WorkflowTask(
                        run_id=row.run_id, task_queue=row.task_queue, lease_owner=owner,
                        lease_expires_at=now + lease_for,
                        updates_pending=any(u.status == "requested" for u in updates)))
            return leased
        return self._write(run)

    def release_workflow_task(self, run_id: str, owner: str) -> None:
        """Give a leased workflow task back (if ``owner`` holds it); it stays pending."""
        def run(tables: Tables) -> None:
            row = tables.workflow_tasks.get(run_id)
            if row is not None and row.lease_owner == owner:
                tables.put(tables.workflow_tasks, run_id, attrs.evolve(
                    row, lease_owner=None, lease_expires_at=None))
        self._write(run)

    # --- activity tasks -----------------------------------------------------------------------

    def lease_activity_task(self, task_queue: str, owner: str, now: datetime,
                            lease_for: timedelta) -> ActivityTask | None:
        """Lease the activity task available longest; its attempt number goes up by one."""
        return next(iter(self.lease_activity_tasks(task_queue, owner, now, lease_for, 1)), None)

    def lease_activity_tasks(self, task_queue: str, owner: str, now: datetime,
                             lease_for: timedelta, limit: int) -> list[ActivityTask]:
        """Lease up to ``limit`` available activity tasks at once, longest-waiting first.

        Each lease lasts its activity's attempt timeout plus a second (``lease_for``
        when it has none).
        """
        def run(tables: Tables) -> list[ActivityTask]:
            free = [r for r in tables.activity_tasks.values()
                    if r.task_queue == task_queue and r.available_at <= now
                    and (r.lease_expires_at is None or r.lease_expires_at <= now)]
            free.sort(key=lambda r: (r.available_at, r.run_id, r.scheduled_event_id))
            leased: list[ActivityTask] = []
            for row in free[:limit]:
                row = attrs.evolve(row, attempt=row.attempt + 1, lease_owner=owner,
                                   lease_expires_at=row.lease_until(now, lease_for))
                tables.put(tables.activity_tasks, (row.run_id, row.scheduled_event_id), row)
                leased.append(row.to_task())
            return leased
        return self._write(run)

    def _update_activity(self, run_id: str, scheduled_event_id: int, owner: str,
                         **changes: Any) -> bool:
        def run(tables: Tables) -> bool:
            key = (run_id, scheduled_event_id)
            row = tables.activity_tasks.get(key)
            if row is None or row.lease_owner != owner:
                return False
            if "attempt" in changes:
                changes["attempt"] = max(row.attempt + changes["attempt"], 0)
            tables.put(tables.activity_tasks, key, attrs.evolve(row, **changes))
            return True
        return self._write(run)

    def heartbeat_activity(self, run_id: str, scheduled_event_id: int, owner: str,
                           details: list[JsonValue], now: datetime, lease_for: timedelta) -> bool:
        """Record progress and extend the lease; False if ``owner`` no longer holds the task."""
        return self._update_activity(run_id, scheduled_event_id, owner,
                                     heartbeat_details=details, last_heartbeat_at=now,
                                     lease_expires_at=now + lease_for)

    def hand_over_activity(self, run_id: str, scheduled_event_id: int, owner: str,
                           new_owner: str, lease_until: datetime) -> bool:
        """Move ``owner``'s lease of the task to ``new_owner`` until ``lease_until``."""
        return self._update_activity(run_id, scheduled_event_id, owner, lease_owner=new_owner,
                                     lease_expires_at=lease_until)

    def retry_activity(self, run_id: str, scheduled_event_id: int, owner: str,
                       available_at: datetime, failure: Failure | None = None) -> None:
        """An attempt failed (``failure``): unlease it until ``available_at``."""
        self._update_activity(run_id, scheduled_event_id, owner, lease_owner=None,
                              lease_expires_at=None, available_at=available_at,
                              last_failure=failure)

    def pending_activities(self, run_id: str) -> list[PendingActivity]:
        """The run's open activities, in the order they were scheduled."""
        with self._lock:
            found = [row for key, row in self._tables.activity_tasks.items()
                     if key[0] == run_id]
        return [row.to_pending() for row in sorted(found, key=lambda r: r.scheduled_event_id)]

    def release_activity_task(self, run_id: str, scheduled_event_id: int, owner: str) -> None:
        """Give a leased activity task back unrun (its attempt is not counted)."""
        self._update_activity(run_id, scheduled_event_id, owner, lease_owner=None,
                              lease_expires_at=None, attempt=-1)

    def get_activity_task(self, run_id: str, scheduled_event_id: int) -> ActivityTask | None:
        """The activity task if it is open and leased (to see ``cancel_requested``)."""
        with self._lock:
            row = self._tables.activity_tasks.get((run_id, scheduled_event_id))
        return row.to_task() if row is not None and row.lease_owner is not None else None

    def cancel_requested_activities(self, owner: str) -> list[tuple[str, int]]:
        """(run id, scheduled event id) of activities leased by ``owner`` asked to cancel."""
        with self._lock:
            return [key for key, row in self._tables.activity_tasks.items()
                    if row.lease_owner == owner and row.cancel_requested]

    # --- timers -------------------------------------------------------------------------------

    def due_timers(self, now: datetime, limit: int = 100) -> list[DueTimer]:
        """Open timers with ``fire_at <= now``, soonest first."""
        with self._lock:
            due = [t for t in self._tables.timers.values() if t.fire_at <= now]
        due.sort(key=lambda t: (t.fire_at, t.run_id, t.started_event_id))
        return due[:limit]

    def next_timer_at(self) -> datetime | None:
        """When the soonest open timer, open run's deadline or failing workflow task's
        retry falls due, or None."""
        with self._lock:
            times = [t.fire_at for t in self._tables.timers.values()]
            times += [r.deadline for r in self._tables.runs.values()
                      if r.status == RUNNING and r.deadline is not None]
            times += [r.task_retry_at for r in self._tables.runs.values()
                      if r.task_attempt > 0 and r.task_retry_at is not None]
            return min(times, default=None)

    def expired_runs(self, now: datetime, limit: int = 100) -> list[RunInfo]:
        """Open runs whose execution or run timeout has passed, earliest first."""
        with self._lock:
            due = [r for r in self._tables.runs.values() if r.status == RUNNING
                   and r.deadline is not None and r.deadline <= now]
        return sorted(due, key=lambda r: (r.deadline or now, r.run_id))[:limit]

    # --- leases of dead workers ---------------------------------------------------------------

    def lease_owners(self) -> set[str]:
        """Every owner holding a workflow or activity task lease now."""
        with self._lock:
            owners = {r.lease_owner for r in self._tables.workflow_tasks.values()}
            owners |= {r.lease_owner for r in self._tables.activity_tasks.values()}
            return {o for o in owners if o is not None}

    def release_leases(self, owner: str) -> int:
        """Free every lease ``owner`` holds (a worker known to be dead); returns how many."""
        def run(tables: Tables) -> int:
            count = 0
            for run_id, wrow in list(tables.workflow_tasks.items()):
                if wrow.lease_owner == owner:
                    tables.put(tables.workflow_tasks, run_id, attrs.evolve(
                        wrow, lease_owner=None, lease_expires_at=None))
                    count += 1
            for key, arow in list(tables.activity_tasks.items()):
                if arow.lease_owner == owner:
                    tables.put(tables.activity_tasks, key, attrs.evolve(
                        arow, lease_owner=None, lease_expires_at=None))
                    count += 1
            return count
        return self._write(run)

    # --- update requests ----------------------------------------------------------------------

    def request_update(self, run_id: str, update_id: str, name: str, args: list[JsonValue],
                       now: datetime, headers: Mapping[str, JsonValue] | None = None
                       ) -> UpdateRequest:
        """Record a client's update; returns the existing request if ``update_id`` is known."""
        def run(tables: Tables) -> UpdateRequest:
            request, changes = plan_request_update(tables, run_id, update_id, name, args, now,
                                                   headers)
            tables.apply(changes)
            return request
        return self._write(run, {run_id})

    def pending_updates(self, run_id: str) -> list[UpdateRequest]:
        """The run's updates waiting for a worker, oldest first."""
        with self._lock:
            updates = list(self._tables.updates.get(run_id, {}).values())
        return sorted((u for u in updates if u.status == "requested"),
                      key=lambda u: u.requested_at)

    def get_update(self, run_id: str, update_id: str) -> UpdateRequest | None:
        """One update request in whatever status it reached, or None."""
        with self._lock:
            return self._tables.get_update(run_id, update_id)

    def reject_update(self, run_id: str, update_id: str, failure: Failure) -> None:
        """Mark a requested update rejected by its validator (nothing enters the history)."""
        def run(tables: Tables) -> None:
            changes: tuple[Change, ...] = plan_reject_update(tables, run_id, update_id, failure)
            tables.apply(changes)
        self._write(run, {run_id})

    # --- query requests (QueryChannel) ---------------------------------------------------------

    def request_query(self, request: QueryRequest) -> None:
        """Post a query for the workers of its task queue (see :class:`QueryChannel`)."""
        now = wall_now()
        with self._lock:
            for gone in [q.query_id for q in self._queries.values() if expired(q, now)]:
                del self._queries[gone]
            self._queries[request.query_id] = request
        self._notifier.notify({request.run_id})

    def pending_queries(self, task_queue: str, worker: str) -> list[QueryRequest]:
        """Unanswered queries of ``task_queue``, oldest first; ``worker`` polls it now."""
        with self._lock:
            self._query_pollers[worker] = (task_queue, time.monotonic())
            now = wall_now()
            found = [q for q in self._queries.values() if q.task_queue == task_queue
                     and q.status == "requested" and not expired(q, now)]
        return sorted(found, key=lambda q: q.requested_at)

    def answer_query(self, answer: QueryRequest) -> None:
        """Record a worker's answer (the first one counts)."""
        with self._lock:
            known = self._queries.get(answer.query_id)
            if known is None or known.status != "requested":
                return
            self._queries[answer.query_id] = answer
        self._notifier.notify({answer.run_id})

    def get_query(self, query_id: str) -> QueryRequest | None:
        """A query request as far as it got."""
        with self._lock:
            return self._queries.get(query_id)

    def forget_query(self, query_id: str) -> None:
        """Drop a query request."""
        with self._lock:
            self._queries.pop(query_id, None)

    def query_pollers(self, task_queue: str, within: float) -> list[str]:
        """Workers that polled ``task_queue`` for queries in the last ``within`` seconds."""
        since = time.monotonic() - within
        with self._lock:
            return sorted(w for w, (queue, at) in self._query_pollers.items()
                          if queue == task_queue and at >= since)

    def retire_query_poller(self, worker: str) -> None:
        """Forget a worker that shut down."""
        with self._lock:
            self._query_pollers.pop(worker, None)

    # --- the registry of what workers host ------------------------------------------------------

    def register_worker(self, task_queue: str, worker: str, registered_at: datetime,
                        workflows: Sequence[WorkflowSignature],
                        activities: Sequence[HandlerSignature]) -> None:
        """Record what ``worker`` hosts on ``task_queue`` (newest registration wins)."""
        with self._lock:
            self._registry.register(task_queue, worker, registered_at, workflows, activities)

    def registered_workflows(self, task_queue: str | None = None
                             ) -> list[WorkflowRegistration]:
        """The workflow types registered on ``task_queue`` (every queue if None)."""
        with self._lock:
            found = self._registry.read(WORKFLOW, task_queue)
        return [r for r in found if isinstance(r, WorkflowRegistration)]

    def registered_activities(self, task_queue: str | None = None
                              ) -> list[ActivityRegistration]:
        """The activities registered on ``task_queue`` (every queue if None)."""
        with self._lock:
            found = self._registry.read(ACTIVITY, task_queue)
        return [r for r in found if isinstance(r, ActivityRegistration)]

    # --- maintenance --------------------------------------------------------------------------

    def rebuild_indexes(self) -> None:
        """Recompute every index from the events (update requests and leases are kept)."""
        with self._lock:
            old = self._tables
            new = derive_tables(old.events.items(), list(old.all_updates()),
                                workflow_tasks=old.workflow_tasks,
                                activity_tasks=old.activity_tasks, runs_index=old.runs)
            self._tables = new
        self._notifier.notify()

    def prune_run(self, run_id: str, exported_to: str | None = None) -> int:
        """Remove a closed run's events and index rows (retention), noting it in
        ``pruned_runs``; returns how many events it had (0: no such run).
        RunNotPrunableError for a running run (nothing is removed)."""
        def run(t: Tables) -> int:
            info = t.runs.get(run_id)
            if info is None:
                return 0
            if info.status == RUNNING:
                raise RunNotPrunableError(run_id)
            count = len(t.events.get(run_id, []))
            for table in (t.events, t.runs, t.workflow_tasks, t.updates):
                t.delete(table, run_id)
            for keyed in (t.activity_tasks, t.timers):
                for key in [k for k in keyed if k[0] == run_id]:
                    t.delete(keyed, key)
            self.pruned_runs.append((info, count, exported_to))
            return count
        return self._write(run, {run_id})

    def dump_indexes(self) -> dict[str, list[Any]]:
        """Every derived row, in key order: a diagnostic to compare stores and rebuilds."""
        with self._lock:
            t = self._tables
            return {
                "runs": sorted(t.runs.values(), key=lambda r: r.run_id),
                "workflow_tasks": sorted(t.workflow_tasks.values(), key=lambda r: r.run_id),
                "activity_tasks": [t.activity_tasks[k] for k in sorted(t.activity_tasks)],
                "timers": [t.timers[k] for k in sorted(t.timers)],
                "update_requests": sorted(t.all_updates(),
                                          key=lambda u: (u.run_id, u.update_id)),
                "search_attributes": sorted(
                    (row for r in t.runs.values() for row in rows_of(r.run_id,
                                                                     r.search_attributes)),
                    key=lambda row: (row[0], row[1], row[3])),
            }

    def close(self) -> None:
        """Nothing to release; kept for the Store protocol."""
