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
import functools
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from history import (
    INPUT_KINDS,
    ActivityScheduled,
    Append,
    AppendConflictError,
    Deliver,
    Event,
    ReplayError,
    Store,
    TimerFired,
    WorkflowStarted,
    WorkflowTask,
)

from ._activity_defn import ActivityDefinition
from ._activity_runner import _INITIAL_LEASE, ActivityRunner
from ._effects import effects_of, fallback_for
from ._instance import UpdateDelivery, WorkflowInstance
from ._replayer import WorkflowRegistry, new_instance, replay_events
from ._sandbox_hooks import guard_for

if TYPE_CHECKING:
    from ._client import Client

log = logging.getLogger("replay.worker")
_INPUTS = frozenset(INPUT_KINDS)


class Worker:
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
            d = ActivityDefinition.of(fn)
            self.activities[d.name] = d
        self.max_concurrent_activities = max_concurrent_activities
        self.max_cached_workflows = max_cached_workflows
        self.identity = identity or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
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
        self._runner = ActivityRunner(
            store=self.store, converter=client.converter, clock=client.clock,
            owner=self.identity, activities=self.activities, executor=self._executor,
            on_retry_scheduled=self._note_retry)

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
        candidates = [1.0]
        next_timer = self.store.next_timer_at()
        if next_timer is not None:
            candidates.append((next_timer - now).total_seconds())
        if self._next_retry is not None:
            candidates.append((self._next_retry - now).total_seconds())
        return max(0.0, min(candidates))

    def _note_retry(self, when: datetime) -> None:
        if self._next_retry is None or when < self._next_retry:
            self._next_retry = when
        if self._waiter is not None:
            self._waiter.cancel()

    def _step(self) -> bool:
        progressed = False
        for _ in range(64):
            task = self.store.lease_workflow_task(self.task_queue, self.identity,
                                                  self.client.clock.now(),
                                                  self.workflow_task_lease)
            if task is None:
                break
            self._process(task)
            progressed = True
        progressed |= self._fire_timers()
        progressed |= self._start_activities()
        self._check_cancellations()
        return progressed

    # --- workflow tasks ------------------------------------------------------------------

    def _process(self, task: WorkflowTask) -> None:
        run_id = task.run_id
        inst = self._cache.pop(run_id, None)
        try:
            inst, pending, ended = self._catch_up(run_id, inst)
            if ended or inst.closed:
                self.store.release_workflow_task(run_id, self.identity)
                return
            requests = self.store.pending_updates(run_id)
            updates = [UpdateDelivery(u.update_id, u.name, list(u.args)) for u in requests]
            if not pending and not updates:
                self.store.release_workflow_task(run_id, self.identity)
                self._remember(inst)
                return
            expected = pending[-1].event_id if pending else inst.last_event_id
            now = max(self.client.clock.now(), inst.now)
            result = inst.activate(pending, updates, now)
            if pending or result.commands:
                events = inst.commit_live(result, now, self.identity)
                self._commit(run_id, inst.started, events, expected, now)
            for update_id, failure in result.rejected_updates:
                self.store.reject_update(run_id, update_id, failure)
            if not pending and not result.commands:
                self.store.release_workflow_task(run_id, self.identity)
            self.task_failures.pop(run_id, None)
            if not inst.closed:
                self._remember(inst)
        except AppendConflictError:
            # Another writer got there first (a new input, or a zombie worker): rebuild
            # from the history next time; the task stays ready.
            self.store.release_workflow_task(run_id, self.identity)
        except ReplayError as exc:
            # A bug in workflow code (or a divergence): nothing was recorded. Keep the
            # lease so the task is retried when it expires (backoff), with fixed code.
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
        pending = [e for e in new if type(e) in _INPUTS]
        ended = next((e for e in new if type(e) not in _INPUTS), None)
        return inst, pending, ended

    def _commit(self, run_id: str, started: WorkflowStarted, events: list[Event],
                expected: int, now: datetime) -> None:
        ops = [Append(run_id, events, expected), *effects_of(self.store, run_id, started,
                                                            events)]
        for _ in range(5):
            try:
                self.store.commit(ops)
                return
            except AppendConflictError:
                raise
            except ReplayError as exc:
                fixed = fallback_for(exc, ops, run_id, now)
                if fixed is None:
                    raise
                ops = fixed
        self.store.commit(ops)

    def _remember(self, inst: WorkflowInstance) -> None:
        self._cache[inst.run_id] = inst
        while len(self._cache) > self.max_cached_workflows:
            self._cache.popitem(last=False)

    # --- timers ---------------------------------------------------------------------------

    def _fire_timers(self) -> bool:
        now = self.client.clock.now()
        due = self.store.due_timers(now, limit=256)
        for timer in due:
            self.store.commit([Deliver(timer.run_id, TimerFired(
                event_id=0, time=max(now, timer.fire_at),
                started_event_id=timer.started_event_id), missing_ok=True)])
        return bool(due)

    # --- activities --------------------------------------------------------------------------

    def _start_activities(self) -> bool:
        started = False
        now = self.client.clock.now()
        if self._next_retry is not None and self._next_retry <= now:
            self._next_retry = None
        while len(self._running) < self.max_concurrent_activities and not self._stop.is_set():
            task = self.store.lease_activity_task(self.task_queue, self.identity, now,
                                                  _INITIAL_LEASE)
            if task is None:
                break
            scheduled = self._scheduled_event(task.run_id, task.scheduled_event_id)
            # The lease lasts as long as one attempt may: a dead worker's activity is
            # retried by another once start_to_close_timeout (+1 s) has passed.
            limit = scheduled.start_to_close_timeout or scheduled.schedule_to_close_timeout
            self.store.heartbeat_activity(task.run_id, task.scheduled_event_id, self.identity,
                                          list(task.heartbeat_details), now,
                                          (limit or timedelta(minutes=5)) + timedelta(seconds=1))
            run = self.store.get_run(task.run_id)
            holder: dict[str, Any] = {}
            job = asyncio.create_task(self._runner.run(task, scheduled,
                                                       run.workflow_type if run else "",
                                                       holder),
                                      name=f"activity:{task.activity_type}")
            key = (task.run_id, task.scheduled_event_id)
            self._running[key] = (job, holder)
            job.add_done_callback(functools.partial(self._activity_done, key))
            started = True
        return started

    def _activity_done(self, key: tuple[str, int], _job: object = None) -> None:
        self._running.pop(key, None)
        if self._waiter is not None:
            self._waiter.cancel()

    def _scheduled_event(self, run_id: str, event_id: int) -> ActivityScheduled:
        getter = getattr(self.store, "get_event", None)
        event = getter(run_id, event_id) if getter else \
            self.store.read(run_id, after_event_id=event_id - 1)[0]
        assert isinstance(event, ActivityScheduled)
        return event

    def _check_cancellations(self) -> None:
        getter = getattr(self.store, "get_activity_task", None)
        if getter is None:
            return
        for (run_id, sid), (job, holder) in list(self._running.items()):
            row = getter(run_id, sid)
            if row is not None and row.cancel_requested and not job.done():
                ctx = holder.get("ctx")
                if ctx is not None:
                    ctx.cancelled.set()
                    job.cancel()

    async def _finish_activities(self) -> None:
        jobs = [job for job, _ in self._running.values()]
        if not jobs:
            return
        timeout = self.graceful_shutdown_timeout.total_seconds()
        if timeout > 0:
            await asyncio.wait(jobs, timeout=timeout)
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
