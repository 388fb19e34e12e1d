"""Schedules as a client API: ``create_schedule``, ``ScheduleHandle``, ``list_schedules``.

A schedule is a run of the engine-owned schedule workflow (workflow id
``replay-schedule:<id>``, type ``replay.Schedule``) on its action's task queue, which
every worker hosts. The handle talks to that run: pause, unpause, trigger,
backfill and update are signals (durable at once, applied by the worker), describe
is a query, delete terminates the run (the runs it started go on).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from replay.history import (
    PayloadConverter,
    ReplayError,
    RunInfo,
    WorkflowStarted,
    WorkflowTaskCompleted,
)

from .._core._common import WorkflowIDConflictPolicy
from .._core._schedule_spec import check_spec, jitter_for, next_time
from .._core._schedule_types import (
    BACKFILL_SIGNAL,
    DESCRIBE_QUERY,
    PAUSE_SIGNAL,
    SCHEDULE_WORKFLOW_ID_PREFIX,
    SCHEDULE_WORKFLOW_TYPE,
    TRIGGER_SIGNAL,
    UNPAUSE_SIGNAL,
    UPDATE_SIGNAL,
    ActionRecord,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionResult,
    ScheduleActionStartWorkflow,
    ScheduleBackfill,
    ScheduleDescription,
    ScheduleInfo,
    ScheduleInput,
    ScheduleListDescription,
    ScheduleOverlapPolicy,
    ScheduleProgress,
    ScheduleRecord,
    ScheduleUpdate,
    ScheduleUpdateInput,
    ScheduleView,
    schedule_workflow_id,
)
from ._errors import (
    WorkflowAlreadyStartedError,
    WorkflowClosedError,
    WorkflowNotFoundError,
)
from ._handle import WorkflowHandle


class ScheduleAlreadyRunningError(ReplayError):
    """``create_schedule`` with the id of a schedule that exists. Nothing was written."""

    code = "RPL-SC02"

    def __init__(self, schedule_id: str) -> None:
        super().__init__(f"schedule {schedule_id!r} already exists. Nothing was written; "
                         "delete it first, update it, or choose another id.")
        self.schedule_id = schedule_id


class ScheduleNotFoundError(ReplayError):
    """A schedule handle names no schedule (never created, or deleted). Nothing was sent."""

    code = "RPL-SC03"

    def __init__(self, schedule_id: str, what: str) -> None:
        super().__init__(f"cannot {what} schedule {schedule_id!r}: no such schedule in this "
                         "store (never created, or deleted). Nothing was sent; list them "
                         "with Client.list_schedules() or `replay schedule list`.")
        self.schedule_id = schedule_id
        self.what = what


Updater = Callable[[ScheduleUpdateInput],
                   ScheduleUpdate | Awaitable[ScheduleUpdate | None] | None]
"""An ``update`` callback: the schedule's description in, the new schedule out."""


class ScheduleClient(Protocol):
    """What schedules need of a client (``Client`` is one)."""

    converter: PayloadConverter

    def get_workflow_handle(self, workflow_id: str, *, run_id: str | None = None,
                            first_execution_run_id: str | None = None,
                            result_type: Any = None) -> WorkflowHandle[Any, Any]: ...

    async def start_workflow(
        self, workflow: Any, arg: Any = ..., *, id: str, task_queue: str,
        memo: dict[str, Any] | None = ...,
        id_conflict_policy: WorkflowIDConflictPolicy = ...) -> WorkflowHandle[Any, Any]: ...

    async def running_runs_of_type(self, workflow_type: str) -> list[RunInfo]: ...


class ScheduleHandle:
    """A schedule, by id: describe it, pause, unpause, trigger, backfill, update, delete."""

    def __init__(self, client: ScheduleClient, id: str) -> None:
        self._client = client
        self.id = id

    def _workflow(self) -> WorkflowHandle[Any, Any]:
        return self._client.get_workflow_handle(schedule_workflow_id(self.id))

    async def _signal(self, what: str, name: str, arg: Any) -> None:
        try:
            await self._workflow().signal(name, arg)
        except (WorkflowClosedError, WorkflowNotFoundError) as exc:
            raise ScheduleNotFoundError(self.id, what) from exc

    async def describe(self) -> ScheduleDescription:
        """The schedule now: its definition, counts, running and recent actions and
        next due times (as of the last signal its worker has handled)."""
        handle = self._workflow()
        try:
            run = (await handle.describe()).status
        except WorkflowNotFoundError as exc:
            raise ScheduleNotFoundError(self.id, "describe") from exc
        if run.value != "running":
            raise ScheduleNotFoundError(self.id, "describe")
        history = (await handle.fetch_history()).events
        started = history[0]
        if isinstance(started, WorkflowStarted) and not any(
                isinstance(e, WorkflowTaskCompleted) for e in history):
            view = self._not_started_view(started)  # asking would wait for a worker
        else:
            view = await handle.query(DESCRIBE_QUERY, result_type=ScheduleView)
        return describe_view(self.id, view, self._client.converter)

    def _not_started_view(self, started: WorkflowStarted) -> ScheduleView:
        """The view of a schedule no worker has run yet, from its start (signals sent
        since then are applied once a worker runs it)."""
        input = self._client.converter.from_payload(started.args[0], ScheduleInput)
        progress = input.progress or ScheduleProgress(created_at=started.time,
                                                      watermark=started.time)
        spec, times = input.schedule.spec, list[datetime]()
        t: datetime | None = progress.watermark
        while t is not None and len(times) < 10:
            t = next_time(spec, t)
            if t is not None:
                times.append(t + jitter_for(spec, self.id, t))
        return ScheduleView(schedule=input.schedule, progress=progress,
                            next_action_times=times)

    async def pause(self, *, note: str | None = None) -> None:
        """Stop taking scheduled actions (times that pass meanwhile are not caught up)."""
        await self._signal("pause", PAUSE_SIGNAL, note)

    async def unpause(self, *, note: str | None = None) -> None:
        """Take scheduled actions again from now on."""
        await self._signal("unpause", UNPAUSE_SIGNAL, note)

    async def trigger(self, *, overlap: ScheduleOverlapPolicy | None = None) -> None:
        """Take the action now, paused or not (``overlap``: default the schedule's policy)."""
        await self._signal("trigger", TRIGGER_SIGNAL, overlap)

    async def backfill(self, *backfill: ScheduleBackfill) -> None:
        """Take now every action due in each backfill's (start_at, end_at]."""
        if not backfill:
            raise ValueError("ScheduleHandle.backfill() needs at least one ScheduleBackfill")
        for b in backfill:
            if b.end_at < b.start_at:
                raise ValueError(f"ScheduleBackfill end_at {b.end_at} is before its "
                                 f"start_at {b.start_at}")
        await self._signal("backfill", BACKFILL_SIGNAL, list(backfill))

    async def update(self, updater: Updater) -> None:
        """Change the schedule: ``updater`` gets its description and returns the new
        schedule (or None to leave it). Due times already passed are not taken again."""
        described = await self.describe()
        out = updater(ScheduleUpdateInput(description=described))
        if inspect.isawaitable(out):
            out = await out
        if out is None:
            return
        record = to_record(out.schedule, self._client.converter)
        await self._signal("update", UPDATE_SIGNAL, record)

    async def delete(self) -> None:
        """Remove the schedule; runs it started go on."""
        try:
            await self._workflow().terminate(reason=f"schedule {self.id!r} deleted")
        except (WorkflowClosedError, WorkflowNotFoundError) as exc:
            raise ScheduleNotFoundError(self.id, "delete") from exc


async def create_schedule(client: ScheduleClient, id: str, schedule: Schedule, *,
                          trigger_immediately: bool = False,
                          backfill: Sequence[ScheduleBackfill] = (),
                          memo: dict[str, Any] | None = None,
                          continue_after_events: int = 2000) -> ScheduleHandle:
    """Create the schedule and return its handle (see ``Client.create_schedule``)."""
    record = to_record(schedule, client.converter)
    try:
        await client.start_workflow(
            SCHEDULE_WORKFLOW_TYPE, ScheduleInput(
                schedule_id=id, schedule=record, trigger_immediately=trigger_immediately,
                backfills=list(backfill), continue_after_events=continue_after_events),
            id=schedule_workflow_id(id), task_queue=record.action.task_queue, memo=memo,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
    except WorkflowAlreadyStartedError as exc:
        raise ScheduleAlreadyRunningError(id) from exc
    return ScheduleHandle(client, id)


async def list_schedules(client: ScheduleClient) -> AsyncIterator[ScheduleListDescription]:
    """Every schedule in the store, by id."""
    runs = await client.running_runs_of_type(SCHEDULE_WORKFLOW_TYPE)
    for run in sorted(runs, key=lambda r: r.workflow_id):
        schedule_id = run.workflow_id.removeprefix(SCHEDULE_WORKFLOW_ID_PREFIX)
        try:
            d = await ScheduleHandle(client, schedule_id).describe()
        except ScheduleNotFoundError:
            continue  # deleted meanwhile
        yield ScheduleListDescription(id=d.id, schedule=d.schedule, info=d.info)


def to_record(schedule: Schedule, converter: PayloadConverter) -> ScheduleRecord:
    """Check ``schedule`` and turn it into what the schedule workflow records.

    TypeError or ValueError (InvalidCronError for a cron expression) before anything
    is written."""
    if not isinstance(schedule, Schedule):
        raise TypeError(f"expected a Schedule, got {type(schedule).__name__}")
    a = schedule.action
    if not isinstance(a, ScheduleActionStartWorkflow):
        raise TypeError("Schedule.action must be a ScheduleActionStartWorkflow (the only "
                        f"action there is), got {type(a).__name__}")
    check_spec(schedule.spec)
    if schedule.policy.catchup_window <= timedelta(0):
        raise ValueError("SchedulePolicy.catchup_window must be positive")
    if schedule.state.remaining_actions < 0:
        raise ValueError("ScheduleState.remaining_actions must not be negative")
    memo = converter.to_payload(dict(a.memo)) if a.memo else None
    action = ActionRecord(workflow=a.workflow, args=converter.to_payloads(a.args), id=a.id,
                          task_queue=a.task_queue, execution_timeout=a.execution_timeout,
                          run_timeout=a.run_timeout, task_timeout=a.task_timeout,
                          memo=memo if isinstance(memo, dict) else None)
    return ScheduleRecord(action=action, spec=schedule.spec, policy=schedule.policy,
                          state=schedule.state)


def describe_view(schedule_id: str, view: ScheduleView, converter: PayloadConverter
                  ) -> ScheduleDescription:
    """The public description of the schedule workflow's ``describe`` answer."""
    rec, p = view.schedule, view.progress
    a = rec.action
    action = ScheduleActionStartWorkflow(
        a.workflow, args=[converter.from_payload(x) for x in a.args], id=a.id,
        task_queue=a.task_queue, execution_timeout=a.execution_timeout,
        run_timeout=a.run_timeout, task_timeout=a.task_timeout,
        memo=dict(a.memo) if a.memo else None)
    info = ScheduleInfo(
        num_actions=p.num_actions, num_actions_missed_catchup_window=p.num_missed,
        num_actions_skipped_overlap=p.num_skipped,
        running_actions=[ScheduleActionExecutionStartWorkflow(
            workflow_id=r.workflow_id, first_execution_run_id=r.run_id or "")
            for r in p.running],
        recent_actions=[ScheduleActionResult(
            scheduled_at=r.scheduled_at, started_at=r.started_at or r.scheduled_at,
            action=ScheduleActionExecutionStartWorkflow(
                workflow_id=r.workflow_id, first_execution_run_id=r.run_id or ""))
            for r in p.recent],
        next_action_times=list(view.next_action_times), created_at=p.created_at,
        last_updated_at=p.last_updated_at)
    spec = dataclasses.replace(rec.spec, cron_expressions=list(rec.spec.cron_expressions),
                               intervals=list(rec.spec.intervals))
    return ScheduleDescription(id=schedule_id, schedule=Schedule(
        action=action, spec=spec, policy=rec.policy, state=rec.state), info=info)
