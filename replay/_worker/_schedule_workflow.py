"""The schedule workflow: a schedule is a run of this engine-owned workflow type.

Every worker hosts it (``SCHEDULE_WORKFLOW_TYPE``) beside the user's workflows, on
its own task queue; a schedule runs on its action's task queue. Because it is an
ordinary run, everything about it is durable and replayable: its wake-ups are
durable timers, its pause/unpause/trigger/backfill/update arrive as signals, its
``describe`` is a query, and each action is a start recorded in its history (an
activity, ``_schedule_activities``, that starts the run with a workflow id made of
the action's id and the due time, so a retried start after a crash finds the run
it already started instead of starting a second one).

A run the schedule started tells it when it ends (``ACTION_CLOSED_SIGNAL``, sent in
the same commit as the run's end), which is what the overlap policies wait on.
The schedule continues as new once its history is long and nothing is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from datetime import datetime, timedelta
from typing import Any

import attrs

from .._core._chain_effects import ACTION_CLOSED_SIGNAL
from .._core._definition import defn, query, run, signal
from .._core._runtime import continue_as_new, execute_activity, info, now, wait_condition
from .._core._schedule_spec import jitter_for, next_time, times_between, utc
from .._core._schedule_types import (
    BACKFILL_SIGNAL,
    DESCRIBE_QUERY,
    PAUSE_SIGNAL,
    SCHEDULE_WORKFLOW_TYPE,
    TRIGGER_SIGNAL,
    UNPAUSE_SIGNAL,
    UPDATE_SIGNAL,
    ActionRun,
    ScheduleBackfill,
    ScheduleInput,
    ScheduleOverlapPolicy,
    ScheduleProgress,
    ScheduleRecord,
    ScheduleState,
    ScheduleView,
)
from ._schedule_activities import (
    CHECK_ACTIVITY,
    START_ACTIVITY,
    STOP_ACTIVITY,
    StartRequest,
    StartResult,
    StopRequest,
)

RECENT = 10
"""How many recent actions ``describe`` lists."""
_ACTIVITY_TIMEOUT = timedelta(seconds=30)
_MAX_STEPS = 100_000  # due times looked at in one wake-up (a very long outage)



@defn(name=SCHEDULE_WORKFLOW_TYPE)
class ScheduleWorkflow:
    """One schedule: takes its actions at the spec's times, as its policy says."""

    def __init__(self) -> None:
        self._dirty = False
        self._queued: list[tuple[datetime, ScheduleOverlapPolicy | None]] = []
        self._in_flight = 0
        self._schedule: ScheduleRecord | None = None
        self._progress: ScheduleProgress | None = None
        self._running: list[ActionRun] = []
        self._recent: list[ActionRun] = []
        self._buffered: list[datetime] = []

    # --- the main loop ----------------------------------------------------------------------

    @run
    async def run(self, input: ScheduleInput) -> None:
        t = now()
        self._id = input.schedule_id
        self._schedule = input.schedule
        self._progress = input.progress or ScheduleProgress(created_at=t, watermark=t)
        self._running = list(self._progress.running)
        self._recent = list(self._progress.recent)
        self._buffered = list(self._progress.buffered)
        if input.trigger_immediately:
            self._queued.append((t, None))
        for backfill in input.backfills:
            self._backfill(backfill)
        if self._running:  # continued from an earlier run: an end may have gone there
            await self._refresh_running()
        while True:
            self._dirty = False
            self._tick()
            if self._may_continue(input):
                continue_as_new(attrs.evolve(input, progress=self._snapshot(),
                                             trigger_immediately=False, backfills=[]))
            wake = self._next_wake()
            timeout = None if wake is None else max((wake - now()).total_seconds(), 0.001)
            with contextlib.suppress(TimeoutError):  # the timer fired: something is due
                await wait_condition(lambda: self._dirty, timeout=timeout)

    def _tick(self) -> None:
        schedule, progress = self._record(), self._state()
        t = now()
        if schedule.state.paused:
            self._progress = attrs.evolve(progress, watermark=max(progress.watermark, t))
        else:
            self._take_due(schedule, progress, t)
        queued, self._queued = self._queued, []
        for due, overlap in queued:
            self._take(due, overlap or schedule.policy.overlap)
        while self._buffered and not self._running:
            self._start(self._buffered.pop(0))

    def _take_due(self, schedule: ScheduleRecord, progress: ScheduleProgress, t: datetime
                  ) -> None:
        spec, policy = schedule.spec, schedule.policy
        watermark = progress.watermark
        for _ in range(_MAX_STEPS):
            due = next_time(spec, watermark)
            if due is None or due + jitter_for(spec, self._id, due) > t:
                break
            watermark = due
            state = self._record().state
            if state.limited_actions and state.remaining_actions <= 0:
                continue
            if t - due > policy.catchup_window:
                self._count(num_missed=1)
                continue
            if state.limited_actions:
                self._set_state(_replace(state, remaining_actions=state.remaining_actions - 1))
            self._take(due, policy.overlap)
        self._progress = attrs.evolve(self._state(), watermark=watermark)

    def _take(self, due: datetime, overlap: ScheduleOverlapPolicy) -> None:
        """An action is due: start it, or skip, buffer or make room as ``overlap`` says."""
        if not self._running or overlap is ScheduleOverlapPolicy.ALLOW_ALL:
            self._start(due)
        elif overlap is ScheduleOverlapPolicy.SKIP:
            self._count(num_skipped=1)
        elif overlap is ScheduleOverlapPolicy.BUFFER_ONE:
            if self._buffered:
                self._count(num_skipped=1)
            else:
                self._buffered.append(due)
        elif overlap is ScheduleOverlapPolicy.BUFFER_ALL:
            self._buffered.append(due)
        else:  # CANCEL_OTHER, TERMINATE_OTHER: the new one starts once the others ended
            self._buffered = [due]
            terminate = overlap is ScheduleOverlapPolicy.TERMINATE_OTHER
            for running in self._running:
                self._spawn(self._stop(running, terminate))

    def _start(self, due: datetime) -> None:
        action = self._record().action
        workflow_id = f"{action.id}-{utc(due).strftime('%Y-%m-%dT%H:%M:%SZ')}"
        if any(r.workflow_id == workflow_id for r in self._running):
            self._count(num_skipped=1)  # two actions due in the same second: one run
            return
        entry = ActionRun(workflow_id=workflow_id, run_id=None, scheduled_at=due)
        self._running.append(entry)
        self._count(num_actions=1)
        self._spawn(self._start_run(entry))

    async def _start_run(self, entry: ActionRun) -> None:
        result: StartResult = await execute_activity(
            START_ACTIVITY, StartRequest(schedule_workflow_id=info().workflow_id,
                                         workflow_id=entry.workflow_id,
                                         action=self._record().action),
            start_to_close_timeout=_ACTIVITY_TIMEOUT, result_type=StartResult)
        started = attrs.evolve(entry, run_id=result.run_id, started_at=result.started_at)
        self._running = [started if r.workflow_id == entry.workflow_id else r
                         for r in self._running]
        self._recent = [*self._recent, started][-RECENT:]
        if result.closed:  # it had already ended (a start retried after a crash)
            self._closed(entry.workflow_id, result.run_id, result.closed)

    async def _stop(self, running: ActionRun, terminate: bool) -> None:
        await execute_activity(
            STOP_ACTIVITY, StopRequest(workflow_id=running.workflow_id, terminate=terminate,
                                       reason=f"schedule {self._id!r}: a new action is due"),
            start_to_close_timeout=_ACTIVITY_TIMEOUT)

    async def _refresh_running(self) -> None:
        ids = [r.workflow_id for r in self._running]
        still: list[str] = await execute_activity(
            CHECK_ACTIVITY, ids, start_to_close_timeout=_ACTIVITY_TIMEOUT,
            result_type=list[str])
        self._running = [r for r in self._running if r.workflow_id in still]

    def _spawn(self, coro: Any) -> None:
        self._in_flight += 1

        async def tracked() -> None:
            try:
                await coro
            finally:
                self._in_flight -= 1
                self._dirty = True

        asyncio.get_running_loop().create_task(tracked())

    # --- messages ---------------------------------------------------------------------------

    @signal(name=ACTION_CLOSED_SIGNAL)
    def action_closed(self, workflow_id: str, run_id: str, status: str) -> None:
        """A run an action started has ended (sent by the engine with the run's end)."""
        self._closed(workflow_id, run_id, status)

    def _closed(self, workflow_id: str, run_id: str, status: str) -> None:
        before = len(self._running)
        self._running = [r for r in self._running if r.workflow_id != workflow_id]
        if len(self._running) != before and status in ("failed", "timed_out") and \
                self._record().policy.pause_on_failure:
            self._set_state(_replace(
                self._record().state, paused=True,
                note=f"paused: action {workflow_id} (run {run_id}) {status}"))
        self._dirty = True

    @signal(name=PAUSE_SIGNAL)
    def pause(self, note: str | None) -> None:
        """Stop taking scheduled actions (due times that pass are not taken later)."""
        self._set_state(_replace(self._record().state, paused=True,
                                      note=note or "paused"))

    @signal(name=UNPAUSE_SIGNAL)
    def unpause(self, note: str | None) -> None:
        """Take scheduled actions again, from now on."""
        self._progress = attrs.evolve(self._state(), watermark=max(self._state().watermark,
                                                                   now()))
        self._set_state(_replace(self._record().state, paused=False,
                                      note=note or "unpaused"))

    @signal(name=TRIGGER_SIGNAL)
    def trigger(self, overlap: ScheduleOverlapPolicy | None) -> None:
        """Take the action now (paused or not)."""
        self._queued.append((now(), overlap))
        self._dirty = True

    @signal(name=BACKFILL_SIGNAL)
    def backfill(self, backfills: list[ScheduleBackfill]) -> None:
        """Take now the actions due in each backfill's (start_at, end_at]."""
        for backfill in backfills:
            self._backfill(backfill)
        self._dirty = True

    @signal(name=UPDATE_SIGNAL)
    def update(self, schedule: ScheduleRecord) -> None:
        """Replace the schedule; due times already passed are not taken again."""
        self._schedule = schedule
        self._progress = attrs.evolve(self._state(), watermark=max(self._state().watermark,
                                                                   now()),
                                      last_updated_at=now())
        self._dirty = True

    @query(name=DESCRIBE_QUERY)
    def describe(self) -> ScheduleView:
        """The schedule, what it has done, and its next (up to) ten due times."""
        spec = self._record().spec
        times: list[datetime] = []
        t = self._state().watermark
        while len(times) < RECENT:
            nxt = next_time(spec, t)
            if nxt is None:
                break
            times.append(nxt + jitter_for(spec, self._id, nxt))
            t = nxt
        return ScheduleView(schedule=self._record(), progress=self._snapshot(),
                            next_action_times=times)

    # --- state ------------------------------------------------------------------------------

    def _backfill(self, backfill: ScheduleBackfill) -> None:
        for due in times_between(self._record().spec, backfill.start_at, backfill.end_at):
            self._queued.append((due, backfill.overlap))
        self._dirty = True

    def _record(self) -> ScheduleRecord:
        assert self._schedule is not None
        return self._schedule

    def _state(self) -> ScheduleProgress:
        assert self._progress is not None
        return self._progress

    def _set_state(self, state: ScheduleState) -> None:
        self._schedule = attrs.evolve(self._record(), state=state)
        self._progress = attrs.evolve(self._state(), last_updated_at=now())
        self._dirty = True

    def _count(self, *, num_actions: int = 0, num_missed: int = 0, num_skipped: int = 0
               ) -> None:
        p = self._state()
        self._progress = attrs.evolve(p, num_actions=p.num_actions + num_actions,
                                      num_missed=p.num_missed + num_missed,
                                      num_skipped=p.num_skipped + num_skipped)

    def _snapshot(self) -> ScheduleProgress:
        return attrs.evolve(self._state(), running=list(self._running),
                            recent=list(self._recent), buffered=list(self._buffered))

    def _next_wake(self) -> datetime | None:
        schedule = self._record()
        if schedule.state.paused:
            return None
        due = next_time(schedule.spec, self._state().watermark)
        return None if due is None else due + jitter_for(schedule.spec, self._id, due)

    def _may_continue(self, input: ScheduleInput) -> bool:
        return (self._in_flight == 0 and not self._queued
                and (info().get_current_history_length() >= input.continue_after_events
                     or info().is_continue_as_new_suggested()))


def _replace(state: ScheduleState, **changes: Any) -> ScheduleState:
    """``state`` with ``changes`` (ScheduleState is a mutable dataclass: copy, never change)."""
    return dataclasses.replace(state, **changes)
