"""Worker: polls a store for workflow and activity tasks of one task queue and runs them.

Workflow tasks run inline on the worker's event loop (an activation is pure
computation); activities run as asyncio tasks (async) or in a thread pool
(sync). Live instances stay in an LRU cache so a new input costs one
activation; an evicted or unknown run is rebuilt by replaying its history.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from replay.history import (
    INPUT_KINDS,
    ActivityTask,
    Append,
    AppendConflictError,
    Deliver,
    Event,
    Failure,
    ReplayError,
    Store,
    TimerFired,
    WorkflowStarted,
    WorkflowTimedOut,
)

from .._core._activity_defn import ActivityDefinition
from .._core._effects import close_effects, effects_of
from .._core._instance import UpdateDelivery, WorkflowInstance
from .._replay._replayer import WorkflowRegistry, new_instance, replay_events
from .._replay._sandbox_hooks import guard_for
from ._activity_pool import ActivitySlots
from ._activity_runner import ActivityRunner
from ._group_commit import Pending, flush
from ._owners import is_dead_local, local_identity

if TYPE_CHECKING:
    from .._client._client import Client

log = logging.getLogger("replay.worker")
_INPUTS = frozenset(INPUT_KINDS)


class Worker(ActivitySlots):
    """Runs workflows and activities of one task queue against the client's store.

    Use as ``async with Worker(client, task_queue=..., workflows=[...],
    activities=[...]):`` or ``await worker.run()``; ``shutdown()`` stops
    leasing, lets running activities finish for ``graceful_shutdown_timeout``
    and hands back what is left.
    """

    def __init__(
        self,
        client: Client,
        *,
        task_queue: str,
        workflows: Sequence[type] = (),
        activities: Sequence[Any] = (),
        max_concurrent_activities: int = 100,
        max_cached_workflows: int = 1000,
        activity_executor: concurrent.futures.Executor | None = None,
        identity: str | None = None,
        graceful_shutdown_timeout: timedelta = timedelta(0),
        workflow_task_lease: timedelta = timedelta(seconds=10),
        sandbox: str = "strict",
        sandbox_passthrough_modules: Sequence[str] = (),
    ) -> None:
        self.client = client
        self.store: Store = client.store
        self.task_queue = task_queue
        self.registry = WorkflowRegistry(workflows)
        self.activities: dict[str | None, ActivityDefinition] = {}
        for fn in activities:
            d = ActivityDefinition.bound(fn)
            self.activities[d.name] = d
        self.max_concurrent_activities = max_concurrent_activities
        self.max_cached_workflows = max_cached_workflows
        self.identity = identity or local_identity()
        self.graceful_shutdown_timeout = graceful_shutdown_timeout
        self.workflow_task_lease = workflow_task_lease
        self._guard = guard_for(sandbox, sandbox_passthrough_modules)
        self._guard.prepare(workflows)
        self._own_executor = activity_executor is None and any(
            not d.is_async for d in self.activities.values())
        self._executor = activity_executor or concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, max_concurrent_activities), thread_name_prefix="replay-activity")
        self._cache: collections.OrderedDict[str, WorkflowInstance] = collections.OrderedDict()
        self._running: dict[tuple[str, int], tuple[asyncio.Task[None], dict[str, Any]]] = {}
        self._stop = asyncio.Event()
        self._waiter: asyncio.Future[bool] | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._next_retry: datetime | None = None
        self._quiet_passes = 0
        self.task_failures: dict[str, ReplayError] = {}
        self._outbox: list[tuple[ActivityTask, Event]] = []
        self._idle_token: int | None = None
        self._polled_at = 0.0
        self._cancel_token: int | None = None
        self._reserved = 0
        self._runner = ActivityRunner(
            store=self.store, converter=client.converter, clock=client.clock,
            owner=self.identity, activities=self.activities, executor=self._executor,
            on_retry_scheduled=self._note_retry, deliver=self._outcome)

    # --- lifecycle ----------------------------------------------------------------------

    async def __aenter__(self) -> Worker:
        self._run_task = asyncio.create_task(self.run(), name=f"worker:{self.task_queue}")
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    async def run(self) -> None:
        """Process tasks until ``shutdown()``; recovers runs left by dead workers first."""
        self.client._workers.add(self)
        self.recover_dead_workers()
        try:
            while not self._stop.is_set():
                # Taken before looking, so a commit landing between the look and the
                # wait below wakes the wait at once instead of being missed.
                token = self.store.change_token()
                if self._step():
                    self._quiet_passes = 0
                    await asyncio.sleep(0)
                    continue
                self._quiet_passes = 0 if self._running else self._quiet_passes + 1
                self._waiter = asyncio.ensure_future(
                    self.store.wait_changed(self._idle_timeout(), since=token))
                with contextlib.suppress(asyncio.CancelledError):
                    await self._waiter
                self._waiter = None
        finally:
            self.client._workers.discard(self)
            await self._finish_activities()
            if self._own_executor:
                self._executor.shutdown(wait=False, cancel_futures=True)

    async def shutdown(self) -> None:
        """Stop leasing new tasks and wait for ``run()`` to return."""
        self._stop.set()
        if self._waiter is not None:
            self._waiter.cancel()
        if self._run_task is not None:
            await self._run_task

    @property
    def quiet_passes(self) -> int:
        """Polling passes in a row that found no work while no activity was running.

        Time skipping (``replay.testing``) reads it to tell that the worker is
        waiting only on the clock.
        """
        return self._quiet_passes

    @property
    def next_retry_at(self) -> datetime | None:
        """When the earliest activity retry this worker scheduled becomes due, if any."""
        return self._next_retry

    def wake(self) -> None:
        """Cut the idle wait short so the worker looks for work now (e.g. the clock jumped)."""
        if self._waiter is not None:
            self._waiter.cancel()

    def _idle_timeout(self) -> float:
        now = self.client.clock.now()
        candidates = [0.5]
        next_timer = self.store.next_timer_at()
        if next_timer is not None:
            candidates.append((next_timer - now).total_seconds())
        if self._next_retry is not None:
            candidates.append((self._next_retry - now).total_seconds())
        return max(0.0, min(candidates))

    def _note_retry(self, when: datetime) -> None:
        if self._next_retry is None or when < self._next_retry:
            self._next_retry = when
        self.wake()

    def _step(self) -> bool:
        progressed = self._flush_outcomes()
        # Polling for tasks costs queries; skip it while nothing was committed (by
        # anyone) since the last poll found nothing, unless an activity retry is due.
        # Leases that expire (a dead worker's) commit nothing, so poll at least twice
        # a second regardless.
        token = self.store.change_token()
        clock = asyncio.get_running_loop().time()
        retry_due = self._next_retry is not None and \
            self._next_retry <= self.client.clock.now()
        if token != self._idle_token or retry_due or clock - self._polled_at > 0.5:
            if clock - self._polled_at > 0.5:
                self.recover_dead_workers()
                self._time_out_runs()
            self._polled_at = clock
            found = self._run_workflow_tasks()
            found |= self._start_activities()
            self._idle_token = None if found else token
            progressed |= found
        progressed |= self._fire_timers()
        self._check_cancellations()
        return progressed

    def recover_dead_workers(self) -> int:
        """Free the leases of workers on this machine whose process has exited.

        Their runs and activities are picked up now instead of when the leases
        expire. Returns how many leases were freed.
        """
        freed = 0
        for owner in self.store.lease_owners():
            if owner != self.identity and is_dead_local(owner):
                count = self.store.release_leases(owner)
                freed += count
                log.info("freed %d leases of dead worker %s", count, owner)
        return freed

    def _time_out_runs(self) -> None:
        now = self.client.clock.now()
        for run in self.store.expired_runs(now):
            started = self.store.read(run.run_id)[0]
            assert isinstance(started, WorkflowStarted)
            ended = WorkflowTimedOut(event_id=0, time=now, timeout_type="execution")
            self.store.commit_each([[Deliver(run.run_id, ended, missing_ok=True),
                                     *close_effects(started, ended)]])

    def _flush(self, pending: list[Pending]) -> None:
        flush(self.store, pending, self.client.clock.now())

    # --- workflow tasks ------------------------------------------------------------------

    def _run_workflow_tasks(self) -> bool:
        now = self.client.clock.now()
        tasks = self.store.lease_workflow_tasks(self.task_queue, self.identity, now,
                                                self.workflow_task_lease, 64)
        pending = [p for p in (self._activate(t.run_id, now) for t in tasks) if p is not None]
        self._flush(pending)
        self._reserved = 0
        return bool(tasks)

    def _activate(self, run_id: str, now: datetime) -> Pending | None:
        """Run one workflow task; the batch to commit, or None if nothing is to be written."""
        inst = self._cache.pop(run_id, None)
        try:
            inst, inputs, ended = self._catch_up(run_id, inst)
            if ended or inst.closed:
                self.store.release_workflow_task(run_id, self.identity)
                return None
            requests = self.store.pending_updates(run_id)
            updates = [UpdateDelivery(u.update_id, u.name, list(u.args)) for u in requests]
            if not inputs and not updates:
                self.store.release_workflow_task(run_id, self.identity)
                self._remember(inst)
                return None
            expected = inputs[-1].event_id if inputs else inst.last_event_id
            at = max(now, inst.now)
            result = inst.activate(inputs, updates, at)
        except ReplayError as exc:
            self._task_failed(run_id, exc)
            return None
        if not inputs and not result.commands:  # only rejected updates: nothing to record
            self._rejections(run_id, result.rejected_updates)
            self.store.release_workflow_task(run_id, self.identity)
            self._remember(inst)
            return None
        events = inst.commit_live(result, at, self.identity)
        leases, dispatch = self._eager_leases(run_id, events, at)
        ops = [Append(run_id, events, expected),
               *effects_of(self.store, run_id, inst.started, events), *leases]
        live = inst

        def succeeded(_: list[Event]) -> None:
            self._rejections(run_id, result.rejected_updates)
            self.task_failures.pop(run_id, None)
            if not live.closed:
                self._remember(live)
            self._dispatched(run_id, live.info.workflow_id, live.info.workflow_type,
                             dispatch, at)

        def failed(exc: ReplayError) -> None:
            # A conflict: another writer got there first (a new input, or a zombie
            # worker). The instance saw what was not recorded, so it is dropped and
            # the run is rebuilt from its history; the task stays ready.
            if not isinstance(exc, AppendConflictError):
                self._task_failed(run_id, exc)
                return
            self.store.release_workflow_task(run_id, self.identity)

        return Pending(run_id, ops, succeeded, failed)

    def _rejections(self, run_id: str, rejected: list[tuple[str, Failure]]) -> None:
        for update_id, failure in rejected:
            self.store.reject_update(run_id, update_id, failure)

    def _task_failed(self, run_id: str, exc: ReplayError) -> None:
        # A bug in workflow code (or a divergence): nothing was recorded. The lease is
        # kept, so the task is retried when it expires (backoff), with fixed code.
        self._cache.pop(run_id, None)
        self.task_failures[run_id] = exc
        log.error("workflow task for run %s failed; it will be retried: %s", run_id, exc)

    def _catch_up(self, run_id: str, inst: WorkflowInstance | None
                  ) -> tuple[WorkflowInstance, list[Event], Event | None]:
        if inst is None:
            events = self.store.read(run_id)
            started = events[0]
            assert isinstance(started, WorkflowStarted)
            inst = new_instance(self.registry, run_id, started, self.client.converter,
                                self._guard)
            tail = replay_events(inst, events)
            return inst, tail.pending, tail.ended_by
        new = self.store.read(run_id, after_event_id=inst.last_event_id)
        inputs = [e for e in new if type(e) in _INPUTS]
        ended = next((e for e in new if type(e) not in _INPUTS), None)
        return inst, inputs, ended

    def _remember(self, inst: WorkflowInstance) -> None:
        self._cache[inst.run_id] = inst
        self._cache.move_to_end(inst.run_id)
        while len(self._cache) > self.max_cached_workflows:
            self._cache.popitem(last=False)

    # --- timers ---------------------------------------------------------------------------

    def _fire_timers(self) -> bool:
        now = self.client.clock.now()
        due = self.store.due_timers(now, limit=256)
        if due:
            self.store.commit_each([[Deliver(t.run_id, TimerFired(
                event_id=0, time=max(now, t.fire_at), started_event_id=t.started_event_id),
                missing_ok=True)] for t in due])
        return bool(due)


