"""The worker's activity side: slots, eager dispatch, polling, cancellation, shutdown.

An :class:`ActivityPool` owns everything about running activities: the
attempts in flight, the slots promised to commits not yet written, the
outcomes waiting to be recorded and the earliest retry. It never writes an
outcome itself: the worker takes them (``take_outcomes``) and records each in
its next group commit, together with the activation it causes when the worker
holds the run; the activities that activation schedules are leased in the
same commit (``reserve``) and started once it is written (``dispatch``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from replay.history import (
    ActivityScheduled,
    ActivityTask,
    Event,
    LeaseActivity,
    Operation,
    PayloadConverter,
    Store,
    StoreError,
)

from .._core._activity_defn import ActivityDefinition
from .._core._clock import Clock
from ._activity_runner import INITIAL_LEASE, ActivityOutcome, ActivityRunner
from ._interceptors import Interceptor
from ._metrics import WorkerMetrics
from ._process_pool import ProcessBridge
from ._store_io import StoreIO

log = logging.getLogger("replay.worker")
_SECOND = timedelta(seconds=1)

Outcome = ActivityOutcome
"""An activity task and how its attempt ended (the event that records it, when built)."""


class ActivityPool:
    """Runs one worker's activities, up to ``max_concurrent`` at a time.

    The worker hands in what the pool may not own: its store, clock and
    identity, the ``stopping`` event it sets on shutdown (no new lease is
    taken once it is set) and ``wake``, called when the worker has something
    new to do (an outcome to record, a slot freed, a retry scheduled).
    """

    def __init__(self, *, store: Store, converter: PayloadConverter, clock: Clock,
                 task_queue: str, identity: str,
                 activities: dict[str | None, ActivityDefinition], max_concurrent: int,
                 executor: concurrent.futures.Executor | None,
                 graceful_shutdown_timeout: timedelta, stopping: asyncio.Event,
                 wake: Callable[[], None], interceptors: Sequence[Interceptor] = (),
                 metrics: WorkerMetrics | None = None,
                 processes: ProcessBridge | None = None) -> None:
        self.store = store
        self.task_queue = task_queue
        self.identity = identity
        self.activities = activities
        self.max_concurrent = max_concurrent
        self.graceful_shutdown_timeout = graceful_shutdown_timeout
        self.next_retry: datetime | None = None
        """When the earliest retry this pool scheduled becomes due, if any."""
        self._stopping = stopping
        self._wake = wake
        self._own_executor = executor is None and any(
            not d.is_async for d in activities.values())
        self._executor = executor or concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, max_concurrent), thread_name_prefix="replay-activity")
        self._running: dict[tuple[str, int], tuple[asyncio.Task[None], dict[str, Any]]] = {}
        self._reserved = 0
        self._outbox: list[Outcome] = []
        # leased by a commit and to be started once it is settled
        self._dispatched: list[tuple[ActivityTask, ActivityScheduled, str]] = []
        self._cancel_token: int | None = None
        self._runner = ActivityRunner(
            store=store, converter=converter, clock=clock, owner=identity,
            activities=activities, executor=self._executor,
            on_retry_scheduled=self._note_retry, deliver=self._outcome,
            interceptors=interceptors, metrics=metrics, processes=processes)
        self._processes = processes

    @property
    def active(self) -> int:
        """How many attempts are running now."""
        return len(self._running)

    # --- eager dispatch: leased in the commit that schedules them ---------------------------

    def reserve(self, run_id: str, events: Sequence[Event], now: datetime
                ) -> tuple[list[Operation], list[ActivityScheduled]]:
        """Leases for the activities in ``events`` this pool can run, to commit with them.

        Each one takes a slot until :meth:`release_reservations`; pass the
        scheduled events to :meth:`dispatch` once the commit is written.
        """
        ops: list[Operation] = []
        mine: list[ActivityScheduled] = []
        room = self.max_concurrent - len(self._running) - self._reserved
        for e in events:
            if (len(mine) < room and isinstance(e, ActivityScheduled)
                    and e.task_queue == self.task_queue and not self._stopping.is_set()
                    and (e.activity_type in self.activities or None in self.activities)):
                ops.append(LeaseActivity(run_id, e.event_id, self.identity, now,
                                         INITIAL_LEASE))
                mine.append(e)
        self._reserved += len(mine)
        return ops, mine

    def release_reservations(self) -> None:
        """A group commit was settled: its dispatched activities now hold real slots, and
        start (a plain async one that does not wait runs to its outcome right here)."""
        self._reserved = 0
        dispatched = self._dispatched
        if dispatched:
            self._dispatched = []
            for task, scheduled, workflow_type in dispatched:
                self._launch(task, scheduled, workflow_type)

    def dispatch(self, run_id: str, workflow_id: str, workflow_type: str,
                 scheduled: list[ActivityScheduled], now: datetime) -> None:
        """Start the activities :meth:`reserve` leased, now that their commit is written
        (they start when :meth:`release_reservations` settles the commit)."""
        for e in scheduled:
            timeout = e.start_to_close_timeout or e.schedule_to_close_timeout
            task = ActivityTask(
                run_id=run_id, workflow_id=workflow_id, scheduled_event_id=e.event_id,
                task_queue=e.task_queue, activity_type=e.activity_type,
                activity_id=e.activity_id, args=list(e.args), attempt=1,
                scheduled_time=e.time, lease_owner=self.identity,
                lease_expires_at=now + (timeout + _SECOND if timeout else INITIAL_LEASE))
            self._dispatched.append((task, e, workflow_type))

    # --- outcomes, recorded by the worker --------------------------------------------------

    def _outcome(self, outcome: Outcome) -> None:
        """ActivityRunner's sink: queue an outcome for the worker's next group commit."""
        self._outbox.append(outcome)
        self._wake()

    @property
    def outcomes(self) -> int:
        """How many outcomes wait to be recorded."""
        return len(self._outbox)

    def take_outcomes(self) -> list[Outcome]:
        """The outcomes waiting to be recorded, oldest first; the queue is left empty.

        Returns an empty list when there are none (cheap: called on every pass).
        """
        outbox = self._outbox
        if outbox:
            self._outbox = []
        return outbox

    def requeue(self, outcome: Outcome) -> None:
        """Record this outcome on the next pass (its commit failed for a reason of the run)."""
        self._outbox.append(outcome)

    # --- polling ----------------------------------------------------------------------------

    async def poll(self, now: datetime, call: StoreIO) -> bool:
        """Lease and start activity tasks of the queue, as many as there are free slots.

        The store calls (the lease, the reads of what each task runs) go through
        ``call``, off the event loop; the attempts start on it.
        """
        if self.next_retry is not None and self.next_retry <= now:
            self.next_retry = None
        # the slots promised to a commit in flight are taken too
        room = self.max_concurrent - len(self._running) - self._reserved
        if room <= 0 or self._stopping.is_set():
            return False
        leased = await call(self._lease, now, room)
        for task, scheduled, workflow_type in leased:
            self._launch(task, scheduled, workflow_type)
        return bool(leased)

    def _lease(self, now: datetime, room: int
               ) -> list[tuple[ActivityTask, ActivityScheduled, str]]:
        """Lease up to ``room`` tasks, each with its scheduling event and workflow type
        (store calls only: safe in any thread)."""
        tasks = self.store.lease_activity_tasks(self.task_queue, self.identity, now,
                                                INITIAL_LEASE, room)
        types: dict[str, str] = {}
        leased = []
        for task in tasks:
            scheduled = self._scheduled_event(task.run_id, task.scheduled_event_id)
            if task.run_id not in types:
                run = self.store.get_run(task.run_id)
                types[task.run_id] = run.workflow_type if run else ""
            leased.append((task, scheduled, types[task.run_id]))
        return leased

    def _note_retry(self, when: datetime) -> None:
        if self.next_retry is None or when < self.next_retry:
            self.next_retry = when
        self._wake()

    def _launch(self, task: ActivityTask, scheduled: ActivityScheduled,
                workflow_type: str) -> None:
        holder: dict[str, Any] = {}
        key = (task.run_id, task.scheduled_event_id)
        try:
            rest = self._runner.start(task, scheduled, workflow_type, holder)
        except Exception as exc:  # as for an attempt in a task: see _activity_done
            self._unsettled(key, exc)
            return
        if rest is None:  # it ran to its outcome already
            return
        coro, context = rest
        job = asyncio.get_running_loop().create_task(
            coro, name=f"activity:{task.activity_type}", context=context)
        self._running[key] = (job, holder)
        job.add_done_callback(functools.partial(self._activity_done, key))

    def _activity_done(self, key: tuple[str, int], job: asyncio.Task[None] | None = None
                       ) -> None:
        self._running.pop(key, None)
        if job is not None and not job.cancelled():
            exc = job.exception()
            if exc is not None:
                self._unsettled(key, exc)
        self._wake()

    def _unsettled(self, key: tuple[str, int], exc: BaseException) -> None:
        # The store failed while the attempt was being handed back or retried: the
        # lease is left to expire, and the attempt runs again then.
        log.warning("activity task (run %s, event %d) could not be settled; it runs again "
                    "when its lease expires: %s", key[0], key[1], exc,
                    exc_info=None if isinstance(exc, StoreError) else exc)

    def _scheduled_event(self, run_id: str, event_id: int) -> ActivityScheduled:
        event = self.store.read(run_id, after_event_id=event_id - 1)[0]
        assert isinstance(event, ActivityScheduled)
        return event

    # --- cancellation and shutdown ------------------------------------------------------------

    def seen_own_commit(self, before: int, after: int) -> None:
        """The worker's own commit moved the store's token from ``before`` to ``after``
        and requested no cancellation: no need to look for cancellations again."""
        if self._cancel_token == before:
            self._cancel_token = after

    async def check_cancellations(self, call: StoreIO) -> None:
        """Cancel the running attempts whose cancellation was requested since the last look
        (the look goes through ``call``, off the event loop)."""
        token = self.store.change_token()
        if not self._running or token == self._cancel_token:
            return
        self._cancel_token = token
        for key in await call(self.store.cancel_requested_activities, self.identity):
            job, holder = self._running.get(key, (None, {}))
            ctx = holder.get("ctx")
            # once: an activity that caught the cancellation goes on undisturbed
            if (job is not None and not job.done() and ctx is not None
                    and not ctx.cancelled.is_set()):
                ctx.cancelled.set()
                job.cancel()

    async def finish(self) -> None:
        """Let running attempts finish for the graceful timeout, cancel the rest, and
        shut down the thread pool if the pool made it."""
        await self._finish_running()
        if self._processes is not None:
            self._processes.close()
        if self._own_executor:
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def _finish_running(self) -> None:
        jobs = [job for job, _ in self._running.values()]
        if not jobs:
            return
        timeout = self.graceful_shutdown_timeout.total_seconds()
        if timeout > 0:
            await asyncio.wait(jobs, timeout=timeout)
        for job, holder in self._running.values():
            ctx = holder.get("ctx")
            if ctx is not None and not job.done():
                # a sync attempt cannot be interrupted: its next heartbeat raises
                ctx.stop_for_shutdown()
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
