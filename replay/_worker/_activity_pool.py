"""The worker's activity side: eager dispatch, outcomes with their activations, polling.

A mixin of :class:`replay._worker.Worker`, kept apart so each file holds one
concern. Outcomes of activities are queued and recorded in the worker's next
group commit; when the worker holds the run, the outcome and the activation
it causes commit together, and the activities that activation schedules are
leased to this worker in the same commit.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from replay.history import (
    ActivityScheduled,
    ActivityTask,
    Append,
    Deliver,
    Event,
    LeaseActivity,
    Operation,
    ReplayError,
    StaleResultError,
    Store,
)

from .._core._activity_defn import ActivityDefinition
from .._core._effects import effects_of
from .._core._instance import WorkflowInstance
from ._activity_runner import _INITIAL_LEASE, ActivityRunner
from ._group_commit import Pending, ignore

if TYPE_CHECKING:
    from .._client._client import Client

log = logging.getLogger("replay.worker")
_SECOND = timedelta(seconds=1)


class ActivitySlots:
    """Runs this worker's activities; needs the attributes the Worker sets up."""

    store: Store
    client: Client
    identity: str
    task_queue: str
    activities: dict[str | None, ActivityDefinition]
    max_concurrent_activities: int
    graceful_shutdown_timeout: timedelta
    task_failures: dict[str, ReplayError]
    _cache: collections.OrderedDict[str, WorkflowInstance]
    _running: dict[tuple[str, int], tuple[asyncio.Task[None], dict[str, Any]]]
    _reserved: int
    _outbox: list[tuple[ActivityTask, Event]]
    _stop: asyncio.Event
    _next_retry: datetime | None
    _runner: ActivityRunner
    _cancel_token: int | None

    def wake(self) -> None:
        raise NotImplementedError

    def _flush(self, pending: list[Pending]) -> None:
        raise NotImplementedError

    def _remember(self, inst: WorkflowInstance) -> None:
        raise NotImplementedError

    def _eager_leases(self, run_id: str, events: Sequence[Event], now: datetime
                      ) -> tuple[list[Operation], list[ActivityScheduled]]:
        """Lease activities this worker can run right in the commit that schedules them."""
        ops: list[Operation] = []
        mine: list[ActivityScheduled] = []
        room = self.max_concurrent_activities - len(self._running) - self._reserved
        for e in events:
            if (len(mine) < room and isinstance(e, ActivityScheduled)
                    and e.task_queue == self.task_queue and not self._stop.is_set()
                    and (e.activity_type in self.activities or None in self.activities)):
                ops.append(LeaseActivity(run_id, e.event_id, self.identity, now,
                                         _INITIAL_LEASE))
                mine.append(e)
        self._reserved += len(mine)
        return ops, mine

    def _dispatched(self, run_id: str, workflow_id: str, workflow_type: str,
                    scheduled: list[ActivityScheduled], now: datetime) -> None:
        for e in scheduled:
            timeout = e.start_to_close_timeout or e.schedule_to_close_timeout
            task = ActivityTask(
                run_id=run_id, workflow_id=workflow_id, scheduled_event_id=e.event_id,
                task_queue=e.task_queue, activity_type=e.activity_type,
                activity_id=e.activity_id, args=list(e.args), attempt=1,
                scheduled_time=e.time, lease_owner=self.identity,
                lease_expires_at=now + (timeout + _SECOND if timeout else _INITIAL_LEASE))
            self._launch(task, e, workflow_type)

    # --- activity outcomes, with the activation they cause ----------------------------------

    def _outcome(self, task: ActivityTask, event: Event) -> None:
        """ActivityRunner's sink: queue an outcome for the next group commit."""
        self._outbox.append((task, event))
        self.wake()

    def _flush_outcomes(self) -> bool:
        if not self._outbox:
            return False
        outbox, self._outbox = self._outbox, []
        now = self.client.clock.now()
        pending = [self._outcome_batch(task, event, now) for task, event in outbox]
        self._flush(pending)
        self._reserved = 0
        return True

    def _outcome_batch(self, task: ActivityTask, event: Event, now: datetime) -> Pending:
        """Deliver an outcome; if this worker holds the run, activate it in the same commit.

        The activation's append expects the outcome's own event id, so if anyone
        else wrote to the run in between, the whole batch fails and the outcome is
        delivered alone (the run is then rebuilt from its history).
        """
        run_id = task.run_id
        plain = Pending(run_id, [Deliver(run_id, event)], ignore,
                         functools.partial(self._stale, task))
        inst = self._cache.get(run_id)
        if inst is None or inst.closed or run_id in self.task_failures:
            return plain
        recorded = attrs.evolve(event, event_id=inst.last_event_id + 1, time=now)
        at = max(now, inst.now)
        try:
            result = inst.activate([recorded], [], at)
        except ReplayError as exc:
            self._cache.pop(run_id, None)
            log.info("run %s: activation on an activity outcome failed (%s); the workflow "
                     "task will retry it", run_id, exc)
            return plain
        events = inst.commit_live(result, at, self.identity)
        leases, dispatch = self._eager_leases(run_id, events, at)
        ops = [Deliver(run_id, recorded), Append(run_id, events, recorded.event_id),
               *effects_of(self.store, run_id, inst.started, events), *leases]

        def succeeded(_: list[Event]) -> None:
            if not inst.closed:
                self._remember(inst)
            else:
                self._cache.pop(run_id, None)
            self._dispatched(run_id, inst.info.workflow_id, inst.info.workflow_type,
                             dispatch, at)

        def failed(exc: ReplayError) -> None:
            self._cache.pop(run_id, None)
            if isinstance(exc, StaleResultError):
                self._stale(task, exc)
            else:
                self._outbox.append((task, event))  # deliver it alone next time

        return Pending(run_id, ops, succeeded, failed)

    def _stale(self, task: ActivityTask, exc: ReplayError) -> None:
        log.info("outcome of activity %s (run %s, event %d) not recorded: %s",
                 task.activity_type, task.run_id, task.scheduled_event_id, exc)

    # --- activities --------------------------------------------------------------------------

    def _start_activities(self) -> bool:
        now = self.client.clock.now()
        if self._next_retry is not None and self._next_retry <= now:
            self._next_retry = None
        room = self.max_concurrent_activities - len(self._running)
        if room <= 0 or self._stop.is_set():
            return False
        tasks = self.store.lease_activity_tasks(self.task_queue, self.identity, now,
                                                _INITIAL_LEASE, room)
        types: dict[str, str] = {}
        for task in tasks:
            scheduled = self._scheduled_event(task.run_id, task.scheduled_event_id)
            if task.run_id not in types:
                run = self.store.get_run(task.run_id)
                types[task.run_id] = run.workflow_type if run else ""
            self._launch(task, scheduled, types[task.run_id])
        return bool(tasks)

    def _launch(self, task: ActivityTask, scheduled: ActivityScheduled,
                workflow_type: str) -> None:
        holder: dict[str, Any] = {}
        job = asyncio.create_task(self._runner.run(task, scheduled, workflow_type, holder),
                                  name=f"activity:{task.activity_type}")
        key = (task.run_id, task.scheduled_event_id)
        self._running[key] = (job, holder)
        job.add_done_callback(functools.partial(self._activity_done, key))

    def _activity_done(self, key: tuple[str, int], _job: object = None) -> None:
        self._running.pop(key, None)
        self.wake()

    def _scheduled_event(self, run_id: str, event_id: int) -> ActivityScheduled:
        event = self.store.read(run_id, after_event_id=event_id - 1)[0]
        assert isinstance(event, ActivityScheduled)
        return event

    def _check_cancellations(self) -> None:
        token = self.store.change_token()
        if not self._running or token == self._cancel_token:
            return
        self._cancel_token = token
        for key in self.store.cancel_requested_activities(self.identity):
            job, holder = self._running.get(key, (None, {}))
            ctx = holder.get("ctx")
            if job is not None and not job.done() and ctx is not None:
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
