"""Worker: polls a store for workflow and activity tasks of one task queue and runs them.

Workflow tasks run inline on the worker's event loop (an activation is pure
computation); activities run in the worker's :class:`ActivityPool`, as asyncio
tasks (async) or in a thread pool (sync). Live instances stay in a
:class:`StickyCache` so a new input costs one activation; an evicted or unknown
run is rebuilt by replaying its history. An activity's outcome is recorded in
the worker's next group commit, with the activation it causes when the worker
holds the run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import math
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from replay.history import (
    INPUT_KINDS,
    SKIPPED_KINDS,
    TERMINAL_STATUS,
    ActivityTask,
    Append,
    AppendConflictError,
    Deliver,
    Event,
    Failure,
    QueryRequest,
    RecordTaskFailure,
    ReplayError,
    StaleResultError,
    Store,
    StoreError,
    StoreUnavailableError,
    TimerFired,
    WorkerHeartbeats,
    WorkflowFailed,
    WorkflowStarted,
    WorkflowTask,
    WorkflowTimedOut,
)

from .._client._client import Client
from .._core._activity_defn import ActivityDefinition
from .._core._common import backoff_delay
from .._core._definition import WorkflowDefinition
from .._core._effects import effects_of, run_close_effects
from .._core._exceptions import WorkflowTaskError
from .._core._failure import task_failed_event, to_failure
from .._core._instance import UpdateDelivery, WorkflowInstance
from .._core._interceptor_roots import workflow_interceptors
from .._core._signatures import activity_signature, workflow_signature
from .._replay._replayer import WorkflowRegistry, new_instance, replay_events
from .._replay._sandbox_hooks import guard_for
from ._activity_pool import ActivityPool, Outcome
from ._activity_runner import ActivityOutcome
from ._cache import StickyCache
from ._commit_pipeline import CommitPipeline
from ._group_commit import Pending, Written, flush, ignore, leaves_no_work
from ._interceptors import Interceptor, workflow_classes
from ._metrics import WorkerMetrics
from ._owners import is_dead_local, local_identity
from ._process_pool import SharedStateManager, check_process_pool
from ._query_answerer import QueryAnswerer
from ._schedule_activities import ScheduleActivities
from ._schedule_workflow import ScheduleWorkflow
from ._store_faults import FaultBackoff
from ._store_io import DEFAULT_THREADS as DEFAULT_STORE_THREADS
from ._store_io import StoreIO

log = logging.getLogger("replay.worker")
_INPUTS = frozenset(INPUT_KINDS)
_SKIPPED = frozenset(SKIPPED_KINDS)

LEASE_BATCH = 64
"""How many workflow tasks one poll leases at most."""
POLL_EVERY = 0.5
"""Seconds: a worker polls, looks for queries and for dead workers at least this often,
even when no commit told it to (an expired lease commits nothing)."""
TASK_RETRY_INITIAL = timedelta(seconds=1)
"""The wait before a failed workflow task's second attempt; it doubles per attempt..."""
TASK_RETRY_MAXIMUM = timedelta(seconds=60)
"""...up to this."""


class Worker:
    """Runs workflows and activities of one task queue against the client's store.

    Use as ``async with Worker(client, task_queue=..., workflows=[...],
    activities=[...]):`` or ``await worker.run()``; ``shutdown()`` stops
    leasing, lets running activities finish for ``graceful_shutdown_timeout``
    and hands back what is left.

    Its store calls never block the event loop it runs on: each pass's group
    commit is written in a thread of its own while activities, client calls and
    polls go on (one commit in flight; the next one carries everything that
    finished meanwhile, and nothing acts on a batch before it is durable), and
    leases, polls and heartbeats run in up to ``max_concurrent_store_calls``
    threads (default 4; on an in-memory store everything runs inline).

    Nothing one run does stops the worker: an exception while activating,
    replaying, encoding or decoding a run (a bug in workflow code, a
    nondeterminism error, arguments that do not fit, an unknown workflow type)
    fails that run's workflow task. The failure is recorded in the run's history
    (``WorkflowTaskFailed``) and the task is retried with backoff (1 s doubling
    to 60 s), so deploying fixed code resumes the run. Exceptions of the types in
    ``workflow_failure_exception_types`` (``NondeterminismError`` included) fail
    the run instead, as a workflow's own ``failure_exception_types`` do.
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
        heartbeat_grace: timedelta = timedelta(seconds=10),
        workflow_task_lease: timedelta = timedelta(seconds=10),
        sandbox: str = "strict",
        sandbox_passthrough_modules: Sequence[str] = (),
        workflow_failure_exception_types: Sequence[type[BaseException]] = (),
        interceptors: Sequence[Interceptor] = (),
        metrics: WorkerMetrics | None = None,
        shared_state_manager: SharedStateManager | None = None,
        max_concurrent_store_calls: int = DEFAULT_STORE_THREADS,
    ) -> None:
        self.client = client
        # Store calls that would block the event loop run in threads (see _store_io), and
        # group commits in one more, one at a time (see _commit_pipeline).
        self._io = StoreIO(client.store, max_concurrent_store_calls, "replay-worker-store")
        self._pipeline = CommitPipeline(client.store, inline=self._io.inline)
        self._written_here: Written | None = None  # this pass's commit, written on the loop
        self.metrics = metrics or WorkerMetrics()
        """Where this worker reports what it does (see :class:`WorkerMetrics`)."""
        # without a metrics sink, nothing is timed
        self._measuring = type(self.metrics) is not WorkerMetrics
        # the client's interceptors that are worker interceptors too come first
        self.interceptors = [*(i for i in client.interceptors if isinstance(i, Interceptor)),
                             *interceptors]
        self._workflow_interceptors = workflow_interceptors(
            workflow_classes(self.interceptors))
        self.store: Store = client.store
        self.task_queue = task_queue
        # every worker hosts schedules (an engine-owned workflow type and its activities)
        hosted = [*workflows, *([] if ScheduleWorkflow in workflows else [ScheduleWorkflow])]
        self.registry = WorkflowRegistry(hosted)
        self.activities: dict[str | None, ActivityDefinition] = {}
        for fn in [*ScheduleActivities(client).all(), *activities]:
            d = ActivityDefinition.bound(fn)
            self.activities[d.name] = d
        self.identity = identity or local_identity()
        # what the registry records: the application's own types (not the engine's
        # schedule workflow and activities, which every worker hosts)
        self._hosted = ([workflow_signature(WorkflowDefinition.of(w)) for w in workflows],
                        [activity_signature(ActivityDefinition.bound(fn)) for fn in activities])
        self.workflow_task_lease = workflow_task_lease
        self.heartbeat_grace = heartbeat_grace
        """On a store with worker heartbeats (PostgresStore): a worker silent for this
        long is dead, and any live worker frees its leases."""
        self._beat_at: float | None = None
        self.workflow_failure_exception_types = tuple(workflow_failure_exception_types)
        self._guard = guard_for(sandbox, sandbox_passthrough_modules)
        self._guard.prepare(hosted)
        self.cache = StickyCache(max_cached_workflows, self.metrics.sticky_cache_evicted)
        """The live instances of the runs this worker holds (see :class:`StickyCache`)."""
        self._queries = QueryAnswerer(self.store, task_queue, self.identity, self.registry,
                                      self.cache, client.converter,
                                      self._workflow_interceptors)
        self._stop = asyncio.Event()
        self._waiter: asyncio.Future[bool] | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._running: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._quiet_passes = 0
        self.task_failures: dict[str, Exception] = {}
        self._idle_token: int | None = None
        self._timer_token: int | None = None
        self._query_token: int | None = None
        self._queries_at = 0.0
        self._next_timer: datetime | None = None
        # the first pass looks for dead workers' leases, times out runs and polls
        self._polled_at = -math.inf
        self._announced = False
        self._starting_passes = 0
        self._faults = FaultBackoff(log, f"worker {self.identity}")
        self._unsettled: set[str] = set()
        self._leasing: concurrent.futures.Future[list[WorkflowTask]] | None = None
        self._pool = ActivityPool(
            store=self.store, converter=client.converter, clock=client.clock,
            task_queue=task_queue, identity=self.identity, activities=self.activities,
            max_concurrent=max_concurrent_activities, executor=activity_executor,
            graceful_shutdown_timeout=graceful_shutdown_timeout, stopping=self._stop,
            wake=self.wake, interceptors=self.interceptors, metrics=self.metrics,
            processes=check_process_pool(activity_executor, shared_state_manager,
                                         self.activities.values(), self.interceptors))

    # --- lifecycle ----------------------------------------------------------------------

    async def __aenter__(self) -> Worker:
        self._run_task = asyncio.create_task(self.run(), name=f"worker:{self.task_queue}")
        self._run_task.add_done_callback(self._report_stop)
        await asyncio.sleep(0)
        return self

    def _report_stop(self, task: asyncio.Task[None]) -> None:
        # A worker running in the background (async with) that stops on its own must
        # say so at once, not only when the block exits.
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        log.error("worker %s for task queue %r stopped: %s", self.identity, self.task_queue,
                  exc, exc_info=None if isinstance(exc, ReplayError) else exc)

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    async def run(self) -> None:
        """Process tasks until ``shutdown()``; recovers runs left by dead workers first.

        A passing store fault (StoreUnavailableError: the write lock held elsewhere
        past the busy timeout, a full disk, an I/O error) is logged at WARNING and
        the pass is retried with capped backoff, so work resumes by itself once the
        fault clears. Any other StoreError (a corrupt or read-only file, a closed
        store) cannot clear by waiting: ``run()`` raises it.
        """
        self._loop = asyncio.get_running_loop()
        self._running = asyncio.current_task()
        self.client.local_workers.register(self)
        try:
            while not self._stop.is_set():
                try:
                    await self._pass()
                except StoreUnavailableError as exc:
                    await self._wait_out(exc)
                else:
                    self._faults.succeeded()
        finally:
            await self._stop_running()

    async def _stop_running(self) -> None:
        """Settle the commit in flight, let the activities finish (for the graceful
        timeout), record what they ended with, and hand back what is left."""
        await self._settle_quietly()
        if not self._announced:  # stopped within its first passes: it ran all the same
            with contextlib.suppress(ReplayError):
                await self._announce()
        self.client.local_workers.unregister(self)
        # A store fault while stopping must not turn a clean stop into an error: a
        # poller not retired stops counting once it has been silent long enough.
        with contextlib.suppress(StoreUnavailableError):
            await self._io(self._queries.retire)
        await self._pool.finish()
        with contextlib.suppress(ReplayError):  # else they run again when their leases end
            await self._record_last_outcomes()
        if self._unsettled:
            with contextlib.suppress(ReplayError):
                await self._io(self._release_unsettled)
        self.cache.clear()
        if isinstance(self.store, WorkerHeartbeats) and self._beat_at is not None:
            with contextlib.suppress(ReplayError):  # its leases then end by expiry
                await self._io(self.store.retire_worker, self.identity)
        self._pipeline.close()
        self._io.close()

    async def _record_last_outcomes(self) -> None:
        """Record the outcomes of the activities that ended while the worker stopped."""
        if self._build([]):
            await self._settle()

    async def _announce(self) -> None:
        """Record in the store what this worker hosts and start answering routed queries
        (which marks it as a query poller of its task queue).

        A starting worker does this after its first pass if that pass found nothing to
        do, else after its second: the first pass frees the leases of dead workers and
        leases what they left, the second records the outcomes of the activities the
        first one started, so a worker that restarts after a crash resumes the runs it
        finds before it spends commits on announcing itself (the registry is advisory,
        and the dead worker's registration is normally still there).
        """
        await self._io(self._register)
        self._announced = True  # the next pass answers queries (where instances are durable)

    def _register(self) -> None:
        """Record in the store what this worker hosts, so that clients without the code
        can check messages (see history._registry)."""
        workflows, activities = self._hosted
        self.store.register_worker(self.task_queue, self.identity, self.client.clock.now(),
                                   workflows, activities)
        log.debug("worker %s registered %d workflow type(s) and %d activity(ies) on task "
                 "queue %r", self.identity, len(workflows), len(activities), self.task_queue)

    async def _pass(self) -> None:
        # Taken before looking, so a commit landing between the look and the wait
        # below wakes the wait at once instead of being missed.
        token = self.store.change_token()
        if self._unsettled:
            await self._io(self._release_unsettled)
        try:
            stepped = await self._step()
        finally:  # what left the sticky cache and stayed out is done with (unless a
            # commit in flight still holds it: the next pass settles it first)
            if not self._pipeline.busy:
                self.cache.discard_departed()
        if not self._announced:
            self._starting_passes += 1
            if not stepped or self._starting_passes >= 2:
                await self._announce()
        if stepped:
            self._quiet_passes = 0
            if not self._pipeline.busy:  # else the next pass's wait for the commit yields
                await asyncio.sleep(0)
            return
        self._quiet_passes = 0 if self._pool.active else self._quiet_passes + 1
        timeout = self._idle_timeout(await self._io(self.store.next_timer_at))
        self._waiter = asyncio.ensure_future(self.store.wait_changed(timeout, since=token))
        with contextlib.suppress(asyncio.CancelledError):
            await self._waiter
        self._waiter = None

    async def _settle_quietly(self) -> None:
        """Settle the commit in flight, if any; a store fault it met has already given its
        work back (its ``on_fault``) and is left for the caller's next pass to meet."""
        with contextlib.suppress(StoreError):
            await self._settle()

    async def _wait_out(self, exc: StoreUnavailableError) -> None:
        """A pass hit a passing store fault: nothing of it was written. Forget what it
        left in memory and wait (backing off) before the next pass."""
        await self._settle_quietly()  # a commit in flight may still hold instances
        self._waiter = None
        self.cache.clear()  # instances may have seen what was not recorded
        self._pool.release_reservations()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), self._faults.failed(exc))

    def _release_unsettled(self) -> None:
        """Give back the workflow tasks leased by a pass that a store fault cut short, so
        they run now rather than when their leases expire."""
        for run_id in sorted(self._unsettled):
            self.store.release_workflow_task(run_id, self.identity)
            self._unsettled.discard(run_id)

    async def shutdown(self) -> None:
        """Stop leasing new tasks and wait for ``run()`` to return."""
        self._stop.set()
        if self._waiter is not None:
            self._waiter.cancel()
        if self._run_task is not None:
            await self._run_task

    async def wait_stopped(self) -> None:
        """Wait until ``run()`` has returned, however it was started (``shutdown()``
        waits only for the ``run()`` that ``async with`` started). Its outcome stays
        with the task that awaits it; nothing is raised here."""
        task = self._running
        if task is None or task is asyncio.current_task() or task.done():
            return
        if task.get_loop() is not asyncio.get_running_loop():
            return
        await asyncio.wait([task])

    @property
    def quiet_passes(self) -> int:
        """Polling passes in a row that found no work while no activity was running.

        Time skipping (``replay.testing``) reads it to tell that the worker is
        waiting only on the clock.
        """
        return self._quiet_passes

    @property
    def store_faults(self) -> int:
        """How many passing store faults (StoreUnavailableError) this worker waited out."""
        return self._faults.survived

    @property
    def next_retry_at(self) -> datetime | None:
        """When the earliest activity retry this worker scheduled becomes due, if any."""
        return self._pool.next_retry

    def wake(self) -> None:
        """Cut the idle wait short so the worker looks for work now (e.g. the clock jumped)."""
        if self._waiter is not None:
            self._waiter.cancel()

    # --- what clients in this process may ask (replay.client's LocalWorker) -------------

    def workflow_definition(self, workflow_type: str) -> WorkflowDefinition | None:
        """The code this worker runs for ``workflow_type``, if it registered that type."""
        return self.registry.get(workflow_type) if workflow_type in self.registry else None

    def run_first_task(self, run_id: str, task_queue: str) -> bool:
        """``request_eager_start``: run the new run's first workflow task now (with any
        other ready task of the queue), if this worker polls ``task_queue`` on the
        running event loop; False when it does not (the start is then a normal one)."""
        try:
            same_loop = self._loop is asyncio.get_running_loop()
        except RuntimeError:
            return False
        if task_queue != self.task_queue or not same_loop or self._stop.is_set():
            return False
        try:
            # What the worker's pass has under way is finished here first: its commit in
            # flight (waited for), and the tasks its lease took (activated here).
            if self._settled(self._pipeline.settle_now()):
                self._pool.release_reservations()
            leasing, self._leasing = self._leasing, None
            self._run_workflow_tasks(leasing.result() if leasing is not None else [])
        except StoreError as exc:  # the worker's own next pass retries what is left
            log.info("eager start of run %s left to the next poll: %s", run_id, exc)
            return False
        return True

    def task_failure(self, run_id: str) -> str | None:
        """Why the run's last workflow task failed here, if it did and was not yet retried
        successfully."""
        exc = self.task_failures.get(run_id)
        return str(exc) if exc is not None else None

    def commit_in_flight(self, run_id: str) -> concurrent.futures.Future[Any] | None:
        """The group commit being written that appends to the run, if any (a client of
        this process waits for it before it appends a message to the run)."""
        return self._pipeline.in_flight_for(run_id)

    def _idle_timeout(self, next_timer: datetime | None) -> float:
        now = self.client.clock.now()
        candidates = [POLL_EVERY]
        self._next_timer = next_timer
        if next_timer is not None:
            candidates.append((next_timer - now).total_seconds())
        next_retry = self._pool.next_retry
        if next_retry is not None:
            candidates.append((next_retry - now).total_seconds())
        return max(0.0, min(candidates))

    async def _step(self) -> bool:
        """One pass: settle the commit in flight, look for work, activate what is ready and
        submit it as the next group commit, which is written while the rest of the pass
        (and the next pass's wait for it) lets activities run."""
        # From the settle until the next submit, every instance holds only what is durable.
        progressed = await self._settle()
        # No activity in flight: nothing could run while a store call waits, so the pass
        # makes its calls on this thread (as a run stepping alone).
        self._io.here = not self._pool.active
        # Polling for tasks costs queries; skip it while nothing was committed (by
        # anyone) since the last poll found nothing, unless an activity retry is due.
        # Leases that expire (a dead worker's) commit nothing, so poll at least twice
        # a second regardless.
        token = self.store.change_token()
        clock = asyncio.get_running_loop().time()
        next_retry = self._pool.next_retry
        retry_due = next_retry is not None and next_retry <= self.client.clock.now()
        poll = (token != self._idle_token or retry_due
                or clock - self._polled_at > POLL_EVERY)
        # Query requests are commits too: look for them after a commit, or twice a second.
        # Looked for before the lease, so a message sent before a query is leased with
        # it at the latest, and answered from instances that hold only what is durable.
        queries: list[QueryRequest] = []
        if self._announced and (token != self._query_token or
                                clock - self._queries_at > POLL_EVERY):
            self._query_token, self._queries_at = token, clock
            queries = await self._queries.look(self._io)
        tasks: list[WorkflowTask] = []
        seen: int | None = token  # the token as of which this pass's polls saw the store
        if poll:
            if clock - self._polled_at > POLL_EVERY:
                await self._io(self.recover_dead_workers)
                await self._io(self._time_out_runs)
                self._timer_token = None
            self._polled_at = clock
            before = self.store.change_token()
            tasks = await self._lease_workflow_tasks()  # nothing awaited from here to submit
            seen = self._lease_seen(before, tasks, token)
        answers = self._answer_queries(queries, tasks)
        progressed |= self._build(tasks)
        await self._queries.send(self._io, answers)
        if poll:
            found = await self._pool.poll(self.client.clock.now(), self._io)
            self._idle_token = None if found or seen is None else seen
            progressed |= found or bool(tasks)
        progressed |= await self._fire_timers(token if seen is None else seen)
        await self._pool.check_cancellations(self._io)
        if self._settle_here() and self._io.direct:
            self._rounds_alone()
        return progressed

    def _lease_seen(self, before: int, tasks: list[WorkflowTask], token: int) -> int | None:
        """The change token as of which this pass's polls (the lease just made, then the
        activity tasks and timers) see the store, or None if the lease may have left
        workflow tasks behind (it took a full batch).

        ``before``: the token just before the lease. A lease that took no task is no
        commit: the polls after it then saw everything up to ``before``. A lease that
        took tasks is one commit where the store counts it as one (SQLite, memory: it
        took every free task, up to the batch); if the token moved by exactly that
        one, it saw every commit up to it and left no free workflow task, so the next
        pass needs to poll only if something commits after it (the pass's own commits
        that leave no work are accounted for as they settle), nor look for queries
        again if it looked since ``before``. Otherwise (a store whose
        lease takes a fair share and counts as no commit, PostgreSQL; or another
        commit landed meanwhile) the next pass polls again: None if tasks were taken,
        else the token at the pass's start (``token``).
        """
        if len(tasks) >= LEASE_BATCH:
            return None
        after = before + 1 if tasks else before
        if self.store.change_token() == after:
            if self._query_token == before:  # a lease asks no query
                self._query_token = after
            return after
        return None if tasks else token

    def _settle_here(self) -> bool:
        """Settle the commit this pass wrote on the loop's thread, if it wrote one."""
        written, self._written_here = self._written_here, None
        if written is None:
            return False
        try:
            written.settle()
        finally:
            self._pool.release_reservations()
        return self._settled(written)

    def _rounds_alone(self) -> None:
        """With nothing else in flight, record the outcomes of activities that ended as
        the pass's commit started them, and what they cause, round after round without
        yielding the loop: at most 16 rounds or 20 ms, so clients and other tasks of the
        loop still get their turn. Stops as soon as a round is more than one run's batch
        or leaves an activity in flight (the next pass then commits in the thread)."""
        loop = asyncio.get_running_loop()
        until = loop.time() + 0.02
        for _ in range(16):
            if (not self._pool.outcomes or self._pool.active or self._pipeline.busy
                    or loop.time() > until):
                return
            self._build([])
            if not self._settle_here():
                return

    def _answer_queries(self, queries: list[QueryRequest],
                        tasks: list[WorkflowTask]) -> list[QueryRequest]:
        """Answers to the ``queries`` of runs this pass does not activate. A query of a
        run activated now waits for the next pass, after that activation is written: it
        sees the messages the run was sent before it (the next pass looks again)."""
        if not queries:
            return []
        activated = {t.run_id for t in tasks}
        now = [q for q in queries if q.run_id not in activated]
        if len(now) < len(queries):
            self._query_token = None
        return self._queries.answers(now)

    async def _lease_workflow_tasks(self) -> list[WorkflowTask]:
        lease = functools.partial(self.store.lease_workflow_tasks, self.task_queue,
                                  self.identity, self.client.clock.now(),
                                  self.workflow_task_lease, LEASE_BATCH)
        if self._io.direct:  # nothing can cancel it half-way
            return lease()
        fut = self._leasing = self._io.submit(lease)
        try:
            tasks = fut.result() if fut.done() else await asyncio.wrap_future(fut)
        except asyncio.CancelledError:
            # the lease is taken all the same: hand the tasks back on the next pass or stop
            fut.add_done_callback(self._unsettle_leased)
            raise
        finally:
            taken_over = self._leasing is not fut  # an eager start activated them
            self._leasing = None
        return [] if taken_over else tasks

    def _unsettle_leased(self, fut: concurrent.futures.Future[list[WorkflowTask]]) -> None:
        if not fut.cancelled() and fut.exception() is None:
            self._unsettled.update(t.run_id for t in fut.result())

    def _build(self, tasks: list[WorkflowTask]) -> bool:
        """Activate the runs of ``tasks`` and those with activity outcomes to record, and
        submit their batches as one group commit (none may be in flight). True if there
        was anything to do.

        A run whose workflow task is activated here records its outcomes in the next
        commit: activating it twice in one build would build on what is not written.
        """
        now = self.client.clock.now()
        pending: list[Pending] = []
        taken: list[Outcome] = []
        claimed = {t.run_id for t in tasks}

        def give_back() -> None:  # a store fault wrote nothing: everything is done again
            self._unsettled.update(claimed)
            for outcome in taken:
                self._pool.requeue(outcome)

        local = self.client.local_workers
        try:
            for t in tasks:
                if local.is_sending(t.run_id):  # after the message: give the task back
                    self._unsettled.add(t.run_id)
                    continue
                p = self._activate(t.run_id, now, t.updates_pending)
                if p is not None:
                    pending.append(p)
            later: list[Outcome] = []
            for outcome in self._pool.take_outcomes():
                if outcome.task.run_id in claimed or local.is_sending(outcome.task.run_id):
                    later.append(outcome)
                    continue
                taken.append(outcome)
                pending.append(self._outcome_batch(outcome, now))
            for outcome in later:
                self._pool.requeue(outcome)
        except StoreError:  # nothing of this pass was committed: hand it back
            give_back()
            self._pool.release_reservations()
            raise
        if pending:
            # one run's batch and no activity running: nothing could use the loop while
            # it is written, so it is written here (as a run stepping alone)
            if len(pending) == 1 and self._io.direct and not self._pool.active:
                self._written_here = self._pipeline.commit_here(pending, now, give_back)
            else:
                self._pipeline.submit(pending, now, give_back)
        return bool(tasks or taken)

    async def _settle(self) -> bool:
        """Wait for the commit in flight (the loop runs meanwhile) and settle it; True if
        there was one."""
        try:
            written = await self._pipeline.settle()
        finally:
            if not self._pipeline.busy:
                self._pool.release_reservations()
        return self._settled(written)

    def _settled(self, written: Written | None) -> bool:
        if written is None:
            return False
        self._committed(written)
        # what left the sticky cache for the commit and did not come back is done with
        self.cache.discard_departed()
        return True

    def recover_dead_workers(self) -> int:
        """Free the leases of workers on this machine whose process has exited.

        Their runs and activities are picked up now instead of when the leases
        expire. Returns how many leases were freed.
        """
        freed = 0
        dead: set[str] = set()
        if isinstance(self.store, WorkerHeartbeats):
            # Other hosts: a worker whose heartbeat is older than its grace is dead.
            self._beat(self.store)
            dead = self.store.dead_workers() - {self.identity}
        for owner in self.store.lease_owners():
            if owner != self.identity and (owner in dead or is_dead_local(owner)):
                count = self.store.release_leases(owner)
                freed += count
                log.info("freed %d leases of dead worker %s", count, owner)
        for owner in dead:
            if isinstance(self.store, WorkerHeartbeats):
                self.store.retire_worker(owner)
        return freed

    def _beat(self, store: WorkerHeartbeats) -> None:
        """Tell the store this worker is alive (a quarter of the grace at most apart)."""
        clock = time.monotonic()
        if self._beat_at is None or clock - self._beat_at >= \
                self.heartbeat_grace.total_seconds() / 4:
            store.beat_worker(self.identity, self.heartbeat_grace)
            self._beat_at = clock

    def _time_out_runs(self) -> None:  # store calls only: runs in a thread
        now = self.client.clock.now()
        for run in self.store.expired_runs(now):
            started = self.store.read(run.run_id)[0]
            assert isinstance(started, WorkflowStarted)
            ended = WorkflowTimedOut(event_id=0, time=now, timeout_type="execution")
            self.store.commit_each([[Deliver(run.run_id, ended, missing_ok=True),
                                     *run_close_effects(self.store, run.run_id, started,
                                                        ended)]])

    def _flush(self, pending: list[Pending]) -> None:
        """Commit and settle ``pending`` here and now (an eager start, with no commit in
        flight)."""
        self._committed(flush(self.store, pending, self.client.clock.now()))

    def _committed(self, written: Written) -> None:
        if written.first_try:
            self.metrics.store_commit(written.seconds, len(written.settled))
            if written.alone and all(leaves_no_work(p) for p, _ in written.settled):
                # Only this commit happened since ``before`` (the tokens of the stores here
                # count commits), and it left nothing a poll could find: looking again would
                # find what the last look found.
                self._seen_own_commit(written.before)

    def _seen_own_commit(self, before: int) -> None:
        after = before + 1
        if self._idle_token == before:
            self._idle_token = after
        if self._timer_token == before:
            self._timer_token = after
        if self._query_token == before:
            self._query_token = after
        self._pool.seen_own_commit(before, after)

    # --- workflow tasks ------------------------------------------------------------------

    def _run_workflow_tasks(self, leased: list[WorkflowTask]) -> bool:
        """Lease, activate and commit the ready workflow tasks (and ``leased``) here and
        now (an eager start's path; the passes lease off the loop and commit in the
        pipeline)."""
        now = self.client.clock.now()
        tasks = [*leased, *self.store.lease_workflow_tasks(
            self.task_queue, self.identity, now, self.workflow_task_lease, LEASE_BATCH)]
        try:
            pending = [p for p in (self._activate(t.run_id, now, t.updates_pending)
                                   for t in tasks)
                       if p is not None]
            self._flush(pending)
        except StoreError:  # nothing of this pass was committed: hand the tasks back later
            self._unsettled.update(t.run_id for t in tasks)
            raise
        self._pool.release_reservations()
        return bool(tasks)

    def _activate(self, run_id: str, now: datetime,
                  updates_pending: bool | None = None) -> Pending | None:
        """Run one workflow task; the batch to commit, or None if nothing is to be written.

        ``updates_pending`` False: the lease said the run had no requested update, so
        none is looked for (one requested since keeps the task for the next pass)."""
        began = time.perf_counter()
        inst = self.cache.take(run_id)
        self.metrics.sticky_cache(inst is not None)
        try:
            inst, inputs, ended, last_id = self._catch_up(run_id, inst)
            if ended or inst.closed:
                self.store.release_workflow_task(run_id, self.identity)
                return None
            requests = [] if updates_pending is False else self.store.pending_updates(run_id)
            updates = [UpdateDelivery(u.update_id, u.name, list(u.args), headers=u.headers)
                       for u in requests]
            if not inputs and not updates:
                self.store.release_workflow_task(run_id, self.identity)
                self.cache.remember(inst)
                return None
            at = max(now, inst.now)
            result = inst.activate(inputs, updates, at)
            # the commands follow what the run holds, recorded task failures included
            expected = inst.last_event_id = max(inst.last_event_id, last_id)
        except StoreError:  # the store's fault, not the run's: the poll loop handles it
            raise
        except Exception as exc:  # whatever one run does, the worker carries on
            self._task_failed(run_id, exc, inst)
            return None
        if not inputs and not result.commands:  # only rejected updates: nothing to record
            self._rejections(run_id, result.rejected_updates)
            self.store.release_workflow_task(run_id, self.identity)
            self.cache.remember(inst)
            return None
        events = inst.commit_live(result, at, self.identity)
        leases, dispatch = self._pool.reserve(run_id, events, at)
        ops = [Append(run_id, events, expected),
               *effects_of(self.store, run_id, inst.started, events, inst.open_children),
               *leases]
        live = inst

        def succeeded(_: list[Event]) -> None:
            self._rejections(run_id, result.rejected_updates)
            self.task_failures.pop(run_id, None)
            kind = live.info.workflow_type
            self.metrics.workflow_task(kind, "completed", time.perf_counter() - began)
            if live.closed:
                self._report_closed(kind, live.started, events)
            else:
                self.cache.remember(live)
            self._pool.dispatch(run_id, live.info.workflow_id, live.info.workflow_type,
                                dispatch, at)

        def failed(exc: ReplayError) -> None:
            # A conflict: another writer got there first (a new input, or a zombie
            # worker). The instance saw what was not recorded, so it is dropped and
            # the run is rebuilt from its history; the task stays ready.
            if not isinstance(exc, AppendConflictError):
                self._task_failed(run_id, exc, live)
                return
            self.store.release_workflow_task(run_id, self.identity)

        return Pending(run_id, ops, succeeded, failed)

    def _report_closed(self, workflow_type: str, started: WorkflowStarted,
                       events: list[Event]) -> None:
        last = events[-1] if events else None
        status = TERMINAL_STATUS.get(type(last)) if last is not None else None
        if last is not None and status is not None:
            self.metrics.run_closed(workflow_type, status,
                                    (last.time - started.time).total_seconds())

    def _rejections(self, run_id: str, rejected: list[tuple[str, Failure]]) -> None:
        for update_id, failure in rejected:
            self.store.reject_update(run_id, update_id, failure)

    def _task_failed(self, run_id: str, exc: Exception,
                     inst: WorkflowInstance | None = None) -> None:
        """A workflow task failed: nothing it did is recorded. The failure is, and the task
        is retried with backoff (the lease waits for it); or, for an exception of a type
        the worker or the workflow lists as a failure, the run fails."""
        self.cache.drop(run_id)
        self.task_failures[run_id] = exc
        self.metrics.workflow_task(inst.info.workflow_type if inst is not None else "",
                                   "failed", 0.0)
        try:
            self._record_task_failure(run_id, exc, inst)
        except ReplayError as err:  # the store failed too: the lease's expiry retries it
            log.warning("workflow task of run %s failed (%s) and the failure could not be "
                        "recorded: %s", run_id, exc, err)

    def _record_task_failure(self, run_id: str, exc: Exception,
                             inst: WorkflowInstance | None) -> None:
        run = self.store.get_run(run_id)
        if run is None or run.status != "running":
            return
        cause = exc.cause if isinstance(exc, WorkflowTaskError) else exc
        definition = inst.definition if inst is not None else self.workflow_definition(
            run.workflow_type)
        failure_types = (*self.workflow_failure_exception_types,
                         *(definition.failure_exception_types if definition else ()))
        if isinstance(cause, failure_types):
            self._fail_run(run_id, cause)
            return
        now = self.client.clock.now()
        attempt = run.task_attempt + 1
        retry_at = now + backoff_delay(TASK_RETRY_INITIAL, 2.0, TASK_RETRY_MAXIMUM, attempt)
        event = task_failed_event(exc, time=now, attempt=attempt, next_retry_time=retry_at,
                                  identity=self.identity)
        self.store.commit([RecordTaskFailure(run_id, event)])
        log.log(logging.ERROR if attempt == 1 else logging.WARNING,
                "workflow task of workflow %r (type %s) run %s failed on attempt %d; it is "
                "retried at %s: %s", run.workflow_id, run.workflow_type, run_id, attempt,
                retry_at.isoformat(timespec="seconds"), exc)

    def _fail_run(self, run_id: str, cause: BaseException) -> None:
        """End the run as failed by ``cause`` (a type listed as a workflow failure)."""
        events = self.store.read(run_id)
        started = events[0]
        assert isinstance(started, WorkflowStarted)
        ended = WorkflowFailed(event_id=0, time=max(self.client.clock.now(), events[-1].time),
                               failure=to_failure(cause, self.client.converter))
        self.store.commit([Deliver(run_id, ended, missing_ok=True),
                           *run_close_effects(self.store, run_id, started, ended)])
        log.warning("run %s of workflow %r failed: %s: %s (listed as a workflow failure)",
                    run_id, started.workflow_id, type(cause).__name__, cause)

    def _catch_up(self, run_id: str, inst: WorkflowInstance | None
                  ) -> tuple[WorkflowInstance, list[Event], Event | None, int]:
        """The run's instance, its new inputs, the event that ended it from outside (if
        any) and the id of the run's last event."""
        if inst is None:
            events = self.store.read(run_id)
            started = events[0]
            assert isinstance(started, WorkflowStarted)
            inst = new_instance(self.registry, run_id, started, self.client.converter,
                                self._guard, self.workflow_failure_exception_types,
                                self._workflow_interceptors)
            tail = replay_events(inst, events)
            return inst, tail.pending, tail.ended_by, events[-1].event_id
        new = self.store.read(run_id, after_event_id=inst.last_event_id)
        inputs = [e for e in new if type(e) in _INPUTS]
        ended = next((e for e in new if type(e) not in _INPUTS and type(e) not in _SKIPPED),
                     None)
        return inst, inputs, ended, new[-1].event_id if new else inst.last_event_id

    # --- activity outcomes, with the activation they cause -----------------------------

    def _outcome_batch(self, outcome: ActivityOutcome, now: datetime) -> Pending:
        """Deliver an outcome; if this worker holds the run, activate it in the same commit.

        The activation's append expects the outcome's own event id, so if anyone
        else wrote to the run in between, the whole batch fails and the outcome is
        delivered alone (the run is then rebuilt from its history).
        """
        task = outcome.task
        run_id = task.run_id
        inst = self.cache.get(run_id)
        if inst is None or inst.closed or run_id in self.task_failures:
            return Pending(run_id, [Deliver(run_id, outcome.event())], ignore,
                           functools.partial(_stale, task))
        began = time.perf_counter() if self._measuring else 0.0
        recorded = outcome.event(inst.last_event_id + 1, now)
        at = max(now, inst.now)
        try:
            result = inst.activate([recorded], [], at)
        except Exception as exc:
            self.cache.drop(run_id)
            log.info("run %s: activation on an activity outcome failed (%s); the workflow "
                     "task will retry it", run_id, exc)
            return Pending(run_id, [Deliver(run_id, outcome.event())], ignore,
                           functools.partial(_stale, task))
        events = inst.commit_live(result, at, self.identity)
        leases, dispatch = self._pool.reserve(run_id, events, at)
        ops = [Deliver(run_id, recorded), Append(run_id, events, recorded.event_id),
               *effects_of(self.store, run_id, inst.started, events, inst.open_children),
               *leases]

        def succeeded(_: list[Event]) -> None:
            # the outcome's activation was a workflow task, done without a lease
            if self._measuring:
                self.metrics.workflow_task(inst.info.workflow_type, "completed",
                                           time.perf_counter() - began)
            if not inst.closed:
                self.cache.remember(inst)
            else:
                self.cache.drop(run_id)
                self._report_closed(inst.info.workflow_type, inst.started, events)
            if dispatch:
                self._pool.dispatch(run_id, inst.info.workflow_id, inst.info.workflow_type,
                                    dispatch, at)

        def failed(exc: ReplayError) -> None:
            self.cache.drop(run_id)
            if isinstance(exc, StaleResultError):
                _stale(task, exc)
            else:
                self._pool.requeue(outcome)  # deliver it alone next time

        return Pending(run_id, ops, succeeded, failed)

    # --- timers ---------------------------------------------------------------------------

    async def _fire_timers(self, token: int) -> bool:
        """Fire the due timers; looks only if something was committed since the last look
        found none, or the soonest timer known then is due by now. ``token``: the store's
        change token as of the pass's start (the pass's own commit, if any, is settled at
        its end, and accounted for then)."""
        now = self.client.clock.now()
        if token == self._timer_token and (self._next_timer is None or self._next_timer > now):
            return False
        fired = await self._io(self._fire_due_timers, now)
        self._timer_token = None if fired else token
        return fired

    def _fire_due_timers(self, now: datetime) -> bool:  # store calls only: runs in a thread
        due = self.store.due_timers(now, limit=256)
        if due:
            self.store.commit_each([[Deliver(t.run_id, TimerFired(
                event_id=0, time=max(now, t.fire_at), started_event_id=t.started_event_id),
                missing_ok=True)] for t in due])
        return bool(due)


def _stale(task: ActivityTask, exc: ReplayError) -> None:
    log.info("outcome of activity %s (run %s, event %d) not recorded: %s",
             task.activity_type, task.run_id, task.scheduled_event_id, exc)
