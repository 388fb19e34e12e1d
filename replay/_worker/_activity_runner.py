"""Runs one activity attempt and records its outcome exactly once."""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator, Sequence
from datetime import datetime, timedelta
from typing import Any

from replay.history import (
    ActivityCanceled,
    ActivityCompleted,
    ActivityFailed,
    ActivityScheduled,
    ActivityTask,
    ActivityTimedOut,
    Event,
    Failure,
    PayloadConverter,
    PayloadError,
    RetryPolicyData,
    Store,
    StoreUnavailableError,
)

from .._core._activity_defn import ActivityDefinition
from .._core._clock import Clock
from .._core._common import RawValue, backoff_delay
from .._core._exceptions import (
    ApplicationError,
    ApplicationErrorCategory,
    CancelledError,
    TimeoutError,
)
from .._core._failure import to_failure
from . import _activity_ctx, _async_completion
from ._interceptors import ExecuteActivityInput, Interceptor, activity_chain
from ._metrics import WorkerMetrics
from ._process_pool import ProcessBridge

log = logging.getLogger("replay.worker")

_DEFAULT_RETRY = RetryPolicyData()
_NO_VALUE: Any = object()
#: How long the worker leases an activity task before it knows its timeouts.
INITIAL_LEASE = timedelta(minutes=5)
"""The lease of an activity that declares no timeout at all."""


class ActivityOutcome:
    """How an activity attempt ended: the event that records it, made only once the
    worker knows its id (``event``), so it is built once."""

    __slots__ = ("fields", "kind", "task", "time")

    def __init__(self, task: ActivityTask, kind: type[Event], time: datetime,
                 fields: dict[str, Any]) -> None:
        self.task = task
        self.kind = kind
        self.time = time
        self.fields = fields

    def event(self, event_id: int = 0, time: datetime | None = None) -> Event:
        """The outcome as event ``event_id`` (0: the store numbers it) at ``time`` (by
        default when the attempt ended)."""
        return self.kind(event_id=event_id, time=time or self.time, **self.fields)


class ActivityRunner:
    """Executes a leased activity task with its timeouts, retries and cancellation."""

    def __init__(self, *, store: Store, converter: PayloadConverter, clock: Clock,
                 owner: str, activities: dict[str | None, ActivityDefinition],
                 executor: concurrent.futures.Executor,
                 on_retry_scheduled: Callable[[datetime], None],
                 deliver: Callable[[ActivityOutcome], None],
                 interceptors: Sequence[Interceptor] = (),
                 metrics: WorkerMetrics | None = None,
                 processes: ProcessBridge | None = None) -> None:
        self.store = store
        self.processes = processes
        self.metrics = metrics or WorkerMetrics()
        # each running attempt's start (perf_counter) and schedule-to-start seconds
        self._started: dict[tuple[str, int], tuple[float, float]] = {}
        self.interceptors = tuple(interceptors)
        self.converter = converter
        self.clock = clock
        self.owner = owner
        self.activities = activities
        self.executor = executor
        self.on_retry_scheduled = on_retry_scheduled
        self._deliver = deliver
        # without a metrics sink, attempts are not timed at all
        self._measuring = type(self.metrics) is not WorkerMetrics

    def start(self, task: ActivityTask, scheduled: ActivityScheduled, workflow_type: str,
              ctx_holder: dict[str, Any]
              ) -> tuple[Coroutine[Any, Any, None], contextvars.Context | None] | None:
        """Begin an attempt: None if it is over already, else what runs the rest of it (in
        a task, in the context given with it, if any).

        A plain async activity (no heartbeat timeout, no activity interceptors) starts
        right here, in the worker's own step: if it returns without waiting on
        anything, its outcome is queued at once and no task is made for it. One that
        waits carries on in the coroutine returned, as does every other attempt.
        """
        if self._timed_out_before_start(task, scheduled):
            return None
        defn = self._definition(task)
        if (defn is None or not defn.is_async or self.interceptors
                or scheduled.heartbeat_timeout is not None):
            return self.run(task, scheduled, workflow_type, ctx_holder), None
        ctx = self._context(task, scheduled, workflow_type)
        ctx_holder["ctx"] = ctx
        context = contextvars.copy_context()
        context.run(_activity_ctx.set_context, ctx)
        try:
            args = self._args(defn, task)
            coro = defn.fn(*args)
            waiting = context.run(coro.send, None)
        except StopIteration as done:
            self._settle(task, scheduled, ctx, value=done.value)
            return None
        except asyncio.CancelledError:
            # raised by the activity itself (nothing cancelled it): as the task path does,
            # the attempt is handed back and runs again
            self.store.release_activity_task(task.run_id, task.scheduled_event_id, self.owner)
            return None
        except BaseException as exc:
            if not isinstance(exc, Exception):
                raise
            self._settle(task, scheduled, ctx, error=_plain_timeout(exc))
            return None
        # It waits: the rest runs in a task of its own, in the attempt's context.
        timeout = scheduled.start_to_close_timeout or scheduled.schedule_to_close_timeout
        return self._carry_on(task, scheduled, ctx, coro, waiting, timeout), context

    async def run(self, task: ActivityTask, scheduled: ActivityScheduled,
                  workflow_type: str, ctx_holder: dict[str, Any]) -> None:
        """Run one attempt (that :meth:`start` checked) in the calling task and queue its
        outcome."""
        ctx = self._context(task, scheduled, workflow_type)
        ctx_holder["ctx"] = ctx
        await self._finish(task, scheduled, ctx, self._attempt(task, scheduled, ctx),
                           encoded=True)

    async def _carry_on(self, task: ActivityTask, scheduled: ActivityScheduled,
                        ctx: _activity_ctx.ActivityContext, coro: Coroutine[Any, Any, Any],
                        waiting: Any, timeout: timedelta | None) -> None:
        """The rest of an attempt that started inline and then waited on ``waiting``, in a
        task of its own (as :meth:`run` would have run it from the start)."""
        await self._finish(task, scheduled, ctx, _resume(coro, waiting, timeout),
                           encoded=False)

    async def _finish(self, task: ActivityTask, scheduled: ActivityScheduled,
                      ctx: _activity_ctx.ActivityContext, attempt: Awaitable[Any], *,
                      encoded: bool) -> None:
        """Await an attempt in the calling task and queue its outcome (``encoded``: the
        attempt returns the result's payload, else the activity's own value). A
        cancellation nobody asked for (the worker stopping) hands the task back and
        propagates."""
        try:
            outcome = await attempt
        except asyncio.CancelledError as exc:
            if not ctx.cancelled.is_set() or ctx.worker_shutdown:
                self.store.release_activity_task(task.run_id, task.scheduled_event_id,
                                                 self.owner)
                raise
            self._settle(task, scheduled, ctx, error=exc)
        except BaseException as exc:
            if not isinstance(exc, Exception):
                raise
            self._settle(task, scheduled, ctx, error=exc)
        else:
            if encoded:
                self._settle(task, scheduled, ctx, payload=outcome)
            else:
                self._settle(task, scheduled, ctx, value=outcome)

    def _timed_out_before_start(self, task: ActivityTask, scheduled: ActivityScheduled) -> bool:
        """Record the attempt as timed out if it cannot start any more; True if it was."""
        policy = scheduled.retry_policy or _DEFAULT_RETRY
        if 0 < policy.maximum_attempts < task.attempt:
            # Only an attempt whose lease ended unsettled (a worker that died, an async
            # completion nobody completed in time) gets here: it timed out, and no
            # attempt is left.
            kind = "heartbeat" if scheduled.heartbeat_timeout else "start_to_close"
            self._record(task, ActivityTimedOut, scheduled_event_id=task.scheduled_event_id,
                         timeout_type=kind, attempt=task.attempt - 1)
            return True
        limit = scheduled.schedule_to_start_timeout
        if limit is not None and task.attempt == 1 and \
                self.clock.now() - task.scheduled_time > limit:
            # Nobody picked the activity up in time: that is final, as retrying
            # cannot make it start earlier.
            self._record(task, ActivityTimedOut, scheduled_event_id=task.scheduled_event_id,
                         timeout_type="schedule_to_start", attempt=task.attempt)
            return True
        return False

    def _context(self, task: ActivityTask, scheduled: ActivityScheduled,
                 workflow_type: str) -> _activity_ctx.ActivityContext:
        """The attempt's context; its ``ActivityInfo`` (and task token) is made only when
        asked for."""
        lease = scheduled.start_to_close_timeout or scheduled.schedule_to_close_timeout
        lease_for = (lease or timedelta(minutes=5)) + timedelta(seconds=1)

        def info() -> _activity_ctx.ActivityInfo:
            return _activity_ctx.ActivityInfo(
                activity_id=task.activity_id, activity_type=task.activity_type,
                attempt=task.attempt, scheduled_time=task.scheduled_time,
                task_queue=task.task_queue, workflow_id=task.workflow_id,
                workflow_run_id=task.run_id, workflow_type=workflow_type,
                scheduled_event_id=task.scheduled_event_id,
                heartbeat_details=list(task.heartbeat_details),
                heartbeat_timeout=scheduled.heartbeat_timeout,
                schedule_to_close_timeout=scheduled.schedule_to_close_timeout,
                start_to_close_timeout=scheduled.start_to_close_timeout,
                task_token=_async_completion.task_token(task),
            )

        def beat(details: list[Any]) -> bool:
            """Record ``details``, extend the lease; True if this attempt should stop."""
            try:
                held = self.store.heartbeat_activity(task.run_id, task.scheduled_event_id,
                                                     self.owner, details, self.clock.now(),
                                                     lease_for)
            except StoreUnavailableError as exc:  # a passing fault: the attempt goes on
                log.warning("activity %s (run %s): heartbeat not recorded: %s",
                            task.activity_type, task.run_id, exc)
                return False
            if not held:  # result recorded, run closed, or the lease was lost
                return True
            getter = getattr(self.store, "get_activity_task", None)
            row = getter(task.run_id, task.scheduled_event_id) if getter else None
            return bool(row is not None and row.cancel_requested)

        if self._measuring:
            waited = (self.clock.now() - task.scheduled_time).total_seconds()
            self._started[(task.run_id, task.scheduled_event_id)] = (
                time.perf_counter(), max(waited, 0.0))
        return _activity_ctx.ActivityContext(info, self.converter, beat)

    def _settle(self, task: ActivityTask, scheduled: ActivityScheduled,
                ctx: _activity_ctx.ActivityContext, *, payload: Any = None,
                value: Any = _NO_VALUE, error: BaseException | None = None) -> None:
        """Queue the outcome of an attempt that returned ``payload`` (or ``value``, not yet
        encoded) or raised ``error``, or retry it."""
        if value is not _NO_VALUE:
            try:
                payload = self.converter.to_payload(value)
            except Exception as exc:  # a result that does not encode fails the attempt
                error = exc
        if error is None:
            self._record(task, ActivityCompleted, scheduled_event_id=task.scheduled_event_id,
                         result=payload, attempt=task.attempt)
        elif isinstance(error, asyncio.CancelledError | CancelledError):
            self._record(task, ActivityCanceled, scheduled_event_id=task.scheduled_event_id)
        elif isinstance(error, _async_completion.CompleteAsyncError):
            self._started.pop((task.run_id, task.scheduled_event_id), None)
            _async_completion.hand_over(self.store, task, scheduled, self.owner,
                                        self.clock.now())
        else:
            assert isinstance(error, Exception)
            self._failed(task, scheduled, error)

    def _definition(self, task: ActivityTask) -> ActivityDefinition | None:
        return self.activities.get(task.activity_type) or self.activities.get(None)

    def _args(self, defn: ActivityDefinition, task: ActivityTask) -> list[Any]:
        if defn.name is None:
            return [[RawValue(p) for p in task.args]]
        return [self.converter.from_payload(p, t) for p, t in
                zip(task.args, defn.arg_types, strict=False)]

    async def _attempt(self, task: ActivityTask, scheduled: ActivityScheduled,
                       ctx: _activity_ctx.ActivityContext) -> Any:
        defn = self._definition(task)
        if defn is None:
            known = ", ".join(sorted(n for n in self.activities  # not the engine's own
                                     if n and not n.startswith("replay."))) or "none"
            raise ApplicationError(
                f"activity type {task.activity_type!r} is not registered on this worker "
                f"(known: {known}); register it with Worker(activities=[...])",
                type="NotFoundError")
        args = self._args(defn, task)
        timeout = scheduled.start_to_close_timeout or scheduled.schedule_to_close_timeout
        if self.interceptors:
            return await self._intercepted(defn, args, scheduled, ctx, timeout)
        if defn.is_async and scheduled.heartbeat_timeout is None:
            # runs inline in this task (which owns a copy of the context): no second
            # task and no supervisor, just a deadline
            _activity_ctx.set_context(ctx)
            try:
                async with asyncio.timeout(timeout.total_seconds() if timeout else None):
                    value = await defn.fn(*args)
            except builtins.TimeoutError as exc:
                raise _plain_timeout(exc) from None
            return self.converter.to_payload(value)
        context = contextvars.copy_context()
        context.run(_activity_ctx.set_context, ctx)
        loop = asyncio.get_running_loop()
        if defn.is_async:
            job: asyncio.Future[Any] = loop.create_task(defn.fn(*args), context=context)
        elif self.processes is not None:
            job = self.processes.submit(defn.fn, args, ctx)
        else:
            job = loop.run_in_executor(self.executor, context.run, defn.fn, *args)
        value = await _supervise(job, ctx, timeout, scheduled.heartbeat_timeout)
        return self.converter.to_payload(value)

    async def _intercepted(self, defn: ActivityDefinition, args: list[Any],
                           scheduled: ActivityScheduled, ctx: _activity_ctx.ActivityContext,
                           timeout: timedelta | None) -> Any:
        """The attempt through the worker's activity interceptors (a task of its own, as
        the chain's code may be slow or blocking)."""
        context = contextvars.copy_context()
        context.run(_activity_ctx.set_context, ctx)
        chain = context.run(activity_chain, self.interceptors, ctx)
        given = ExecuteActivityInput(fn=defn.fn, args=args, executor=self.executor,
                                     headers=dict(scheduled.headers))
        job = asyncio.get_running_loop().create_task(chain.execute_activity(given),
                                                     context=context)
        value = await _supervise(job, ctx, timeout, scheduled.heartbeat_timeout)
        return self.converter.to_payload(value)

    def _failed(self, task: ActivityTask, scheduled: ActivityScheduled, exc: Exception) -> None:
        policy = scheduled.retry_policy or _DEFAULT_RETRY
        now = self.clock.now()
        type_name = exc.type if isinstance(exc, ApplicationError) and exc.type else \
            type(exc).__name__
        non_retryable = (isinstance(exc, ApplicationError) and exc.non_retryable) or \
            type_name in policy.non_retryable_error_types
        out_of_attempts = 0 < policy.maximum_attempts <= task.attempt
        delay = _retry_delay(policy, task.attempt)
        deadline = (task.scheduled_time + scheduled.schedule_to_close_timeout
                    if scheduled.schedule_to_close_timeout else None)
        if deadline is not None and now + delay >= deadline:
            self._record(task, ActivityTimedOut, scheduled_event_id=task.scheduled_event_id,
                         timeout_type="schedule_to_close", attempt=task.attempt)
            return
        if non_retryable or out_of_attempts:
            if isinstance(exc, TimeoutError):
                self._record(task, ActivityTimedOut, scheduled_event_id=task.scheduled_event_id,
                             timeout_type=exc.type, attempt=task.attempt)
            else:
                self._record(task, ActivityFailed, scheduled_event_id=task.scheduled_event_id,
                             failure=to_failure(exc, self.converter), attempt=task.attempt)
            return
        log.log(_failure_level(exc),
                "activity %s (activity id %s) of workflow %r run %s failed on attempt %d "
                "(%s: %s); retrying in %.3fs", task.activity_type, task.activity_id,
                task.workflow_id, task.run_id, task.attempt, type(exc).__name__, exc,
                delay.total_seconds())
        self._measured(task, "retried")
        self.store.retry_activity(task.run_id, task.scheduled_event_id, self.owner, now + delay,
                                  self._last_failure(exc))
        self.on_retry_scheduled(now + delay)

    def _last_failure(self, exc: Exception) -> Failure:
        """How ``describe()`` shows a failed attempt (details that do not encode are left
        out rather than losing the retry)."""
        try:
            return to_failure(exc, self.converter)
        except PayloadError:
            return Failure(message=str(exc), type=type(exc).__name__)

    def _record(self, task: ActivityTask, kind: type[Event], **fields: Any) -> None:
        # The worker records outcomes in its next group commit (with the activation
        # they cause, when it holds the run): exactly once, fenced by the store.
        self._measured(task, _OUTCOMES.get(kind, "failed"))
        self._deliver(ActivityOutcome(task, kind, self.clock.now(), fields))

    def _measured(self, task: ActivityTask, outcome: str) -> None:
        if not self._measuring:
            return
        started = self._started.pop((task.run_id, task.scheduled_event_id), None)
        if started is None:  # it never started (timed out before it could)
            self.metrics.activity_attempt(task.activity_type, outcome, None, 0.0)
        else:
            self.metrics.activity_attempt(task.activity_type, outcome, started[1],
                                          time.perf_counter() - started[0])


class _Resumed:
    """Awaits a coroutine that was started by hand and is waiting on ``waiting`` (what its
    last step yielded: a future, or None for a bare yield), as a task would have
    awaited it: the enclosing task waits on ``waiting``, then steps the coroutine on;
    what is thrown in (a cancellation) is thrown into the coroutine."""

    __slots__ = ("_coro", "_waiting")

    def __init__(self, coro: Coroutine[Any, Any, Any], waiting: Any) -> None:
        self._coro = coro
        self._waiting = waiting

    def __await__(self) -> Generator[Any, None, Any]:
        coro, waiting = self._coro, self._waiting
        while True:
            try:
                yield waiting
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:
                try:
                    waiting = coro.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    waiting = coro.send(None)
                except StopIteration as done:
                    return done.value


_OUTCOMES: dict[type[Event], str] = {
    ActivityCompleted: "completed", ActivityFailed: "failed",
    ActivityTimedOut: "timed_out", ActivityCanceled: "canceled"}


async def _resume(coro: Coroutine[Any, Any, Any], waiting: Any,
                  timeout: timedelta | None) -> Any:
    """Finish an attempt that started inline and waited on ``waiting``, within the
    rest of its start-to-close timeout (reported as the activity's own timeout)."""
    try:
        async with asyncio.timeout(timeout.total_seconds() if timeout else None):
            return await _Resumed(coro, waiting)
    except builtins.TimeoutError as exc:
        raise _plain_timeout(exc) from None


def _plain_timeout(exc: Exception) -> Exception:
    """A plain async activity's ``TimeoutError`` is reported as its start-to-close
    timeout (the deadline it runs under raises that type)."""
    if isinstance(exc, builtins.TimeoutError):
        return TimeoutError("activity exceeded its start_to_close_timeout",
                            type="start_to_close")
    return exc


def _failure_level(exc: Exception) -> int:
    """A benign ApplicationError (an expected failure) is logged at DEBUG, others at
    WARNING, as the familiar SDK does."""
    if isinstance(exc, ApplicationError) and exc.category is ApplicationErrorCategory.BENIGN:
        return logging.DEBUG
    return logging.WARNING


def _retry_delay(policy: RetryPolicyData, attempt: int) -> timedelta:
    return backoff_delay(policy.initial_interval, policy.backoff_coefficient,
                         policy.maximum_interval, attempt)


async def _supervise(job: asyncio.Future[Any], ctx: _activity_ctx.ActivityContext,
                     timeout: timedelta | None, heartbeat: timedelta | None) -> Any:
    """Wait for one attempt, enforcing start_to_close and heartbeat timeouts.

    On a timeout the attempt is cancelled (an async activity at once; a sync one
    on its next heartbeat) and TimeoutError says which timeout it was. A sync
    activity whose cancellation was requested cannot be interrupted: it learns of
    the request on its next heartbeat, and its outcome is what it then does (it
    may still return its result), so the first such cancellation only keeps
    waiting; another one (the worker shutting down) gives up on it.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout.total_seconds() if timeout is not None else None
    beat = heartbeat.total_seconds() if heartbeat is not None else None
    requested = False
    while True:
        try:
            return await _supervise_until_done(job, ctx, loop, deadline, beat)
        except asyncio.CancelledError:
            if (requested or isinstance(job, asyncio.Task) or not ctx.cancelled.is_set()
                    or ctx.worker_shutdown):
                job.cancel()
                raise
            requested = True


async def _supervise_until_done(job: asyncio.Future[Any], ctx: _activity_ctx.ActivityContext,
                                loop: asyncio.AbstractEventLoop, deadline: float | None,
                                beat: float | None) -> Any:
    while True:
        waits = [w for w in (deadline - loop.time() if deadline is not None else None,
                             beat / 4 if beat is not None else None) if w is not None]
        done, _ = await asyncio.wait({job}, timeout=max(0.0, min(waits)) if waits else None)
        if done:
            return job.result()
        if deadline is not None and loop.time() >= deadline:
            kind = "start_to_close"
        elif beat is not None and time.monotonic() - ctx.last_beat > beat:
            kind = "heartbeat"
        else:
            continue
        ctx.cancelled.set()
        job.cancel()
        raise TimeoutError(f"activity exceeded its {kind}_timeout", type=kind)
