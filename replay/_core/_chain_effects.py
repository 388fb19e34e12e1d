"""Effects of a run's end that start or wake another run: cron chains and schedules.

Applied in the same store transaction as the event that ends the run (like the
effects in ``_effects``), so a crash can neither lose nor double them:

* a run with a ``cron_schedule`` that completed, failed or timed out starts the
  next run of its workflow id (same type, arguments, task queue and schedule);
  that run waits for the next matching time before its code runs. A cancelled or
  terminated run ends the chain, as in the familiar engine;
* a run a schedule started (its start header :data:`SCHEDULED_BY_HEADER` names the
  schedule's workflow id) tells the schedule's open run that it ended, by the
  signal :data:`ACTION_CLOSED_SIGNAL`, so overlap policies need no polling.
"""

from __future__ import annotations

import secrets
import uuid

from replay.history import (
    Deliver,
    Event,
    Operation,
    SignalReceived,
    Start,
    Store,
    WorkflowCanceled,
    WorkflowCompleted,
    WorkflowContinuedAsNew,
    WorkflowFailed,
    WorkflowStarted,
    WorkflowTerminated,
    WorkflowTimedOut,
)

SCHEDULED_BY_HEADER = "replay-scheduled-by"
"""Start header of a run a schedule started: the schedule workflow's id."""
ACTION_CLOSED_SIGNAL = "__replay_schedule_action_closed"
"""Signal a schedule receives when a run it started ends: args (workflow id, run id,
status)."""

_CRON_CONTINUES = (WorkflowCompleted, WorkflowFailed, WorkflowTimedOut)
_ENDS = {WorkflowCompleted: "completed", WorkflowFailed: "failed",
         WorkflowCanceled: "canceled", WorkflowTerminated: "terminated",
         WorkflowTimedOut: "timed_out"}


def chain_effects(store: Store, run_id: str, started: WorkflowStarted, event: Event
                  ) -> list[Operation]:
    """What run ``run_id`` (first event ``started``) ending with ``event`` starts or wakes."""
    ops: list[Operation] = []
    if started.cron_schedule and isinstance(event, _CRON_CONTINUES):
        ops.append(_next_cron_run(run_id, started, event))
    elif type(event) in _ENDS:
        ops.extend(_tell_schedule(store, run_id, started, _ENDS[type(event)], event))
    return ops


def carried_headers(started: WorkflowStarted, event: WorkflowContinuedAsNew
                    ) -> dict[str, object]:
    """The headers of the run ``event`` continues into: its own, plus the schedule
    marker of the run it continues (a schedule's action is the whole chain)."""
    headers = dict(event.headers)
    marker = started.headers.get(SCHEDULED_BY_HEADER)
    if marker is not None and SCHEDULED_BY_HEADER not in headers:
        headers[SCHEDULED_BY_HEADER] = marker
    return headers


def _next_cron_run(run_id: str, started: WorkflowStarted, event: Event) -> Operation:
    new_run_id = str(uuid.uuid4())
    return Start(new_run_id, WorkflowStarted(
        event_id=1, time=event.time, workflow_type=started.workflow_type,
        workflow_id=started.workflow_id, task_queue=started.task_queue,
        args=list(started.args), random_seed=secrets.randbits(62),
        first_execution_run_id=started.first_execution_run_id or run_id,
        continued_from_run_id=run_id,
        parent_workflow_id=started.parent_workflow_id, parent_run_id=started.parent_run_id,
        parent_initiated_event_id=started.parent_initiated_event_id,
        memo=dict(started.memo), execution_timeout=started.execution_timeout,
        run_timeout=started.run_timeout, headers=dict(started.headers),
        cron_schedule=started.cron_schedule))


def _tell_schedule(store: Store, run_id: str, started: WorkflowStarted, status: str,
                   event: Event) -> list[Operation]:
    schedule_id = started.headers.get(SCHEDULED_BY_HEADER)
    if not isinstance(schedule_id, str):
        return []
    schedule = store.latest_run(schedule_id)
    if schedule is None or schedule.status != "running":
        return []
    return [Deliver(schedule.run_id, SignalReceived(
        event_id=0, time=event.time, signal_name=ACTION_CLOSED_SIGNAL,
        args=[started.workflow_id, run_id, status]), missing_ok=True)]
