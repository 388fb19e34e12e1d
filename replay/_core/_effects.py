"""Cross-run effects of committed events, applied in the same store transaction.

A parent's ChildWorkflowStarted starts the child; a ContinuedAsNew starts the
next run; an ExternalSignalSent delivers the signal (and tells the sender); a
child's end is reported to its parent. Because they commit atomically with
the events that cause them, a crash can never leave one half done.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime

from replay.history import (
    TERMINAL_KINDS,
    ChildWorkflowCanceled,
    ChildWorkflowCompleted,
    ChildWorkflowFailed,
    ChildWorkflowStarted,
    Deliver,
    Event,
    ExternalSignalDelivered,
    ExternalSignalFailed,
    ExternalSignalSent,
    Failure,
    Operation,
    RunAlreadyExistsError,
    RunClosedError,
    RunNotFoundError,
    SignalReceived,
    StaleResultError,
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

from ._chain_effects import carried_headers, chain_effects
from ._parent_close import OpenChild, history_close_ops, parent_close_ops


def effects_of(store: Store, run_id: str, started: WorkflowStarted, events: Sequence[Event],
               open_children: Callable[[], Sequence[OpenChild]] | None = None
               ) -> list[Operation]:
    """The operations that must commit together with ``events`` of run ``run_id``.

    When ``events`` close the run, its open children get their parent close
    policies: ``open_children`` lists them (the live instance knows them), else
    they are read from the run's history.
    """
    ops: list[Operation] = []
    for e in events:
        if isinstance(e, ChildWorkflowStarted):
            ops.append(Start(e.run_id, WorkflowStarted(
                event_id=1, time=e.time, workflow_type=e.workflow_type,
                workflow_id=e.workflow_id, task_queue=e.task_queue, args=list(e.args),
                random_seed=secrets.randbits(62), first_execution_run_id=e.run_id,
                parent_workflow_id=started.workflow_id, parent_run_id=run_id,
                parent_initiated_event_id=e.event_id, memo=dict(e.memo),
                headers=dict(e.headers), search_attributes=dict(e.search_attributes))))
        elif isinstance(e, ExternalSignalSent):
            ops.extend(_signal_ops(store, run_id, e))
        elif isinstance(e, WorkflowContinuedAsNew):
            ops.append(Start(e.new_run_id, WorkflowStarted(
                event_id=1, time=e.time, workflow_type=e.workflow_type,
                workflow_id=started.workflow_id, task_queue=e.task_queue, args=list(e.args),
                random_seed=secrets.randbits(62),
                first_execution_run_id=started.first_execution_run_id or run_id,
                continued_from_run_id=run_id, parent_workflow_id=started.parent_workflow_id,
                parent_run_id=started.parent_run_id,
                parent_initiated_event_id=started.parent_initiated_event_id,
                memo=dict(e.memo), execution_timeout=started.execution_timeout,
                run_timeout=started.run_timeout, headers=carried_headers(started, e),
                search_attributes=dict(e.search_attributes))))
        else:
            ops.extend(close_effects(started, e))
            ops.extend(chain_effects(store, run_id, started, e))
        if type(e) in TERMINAL_KINDS:
            ops.extend(_children_ops(store, run_id, events, e.time, open_children))
    return ops


def _children_ops(store: Store, run_id: str, events: Sequence[Event], time: datetime,
                  open_children: Callable[[], Sequence[OpenChild]] | None) -> list[Operation]:
    if open_children is None:
        return history_close_ops(store, run_id, time, [
            e for e in events if type(e) not in TERMINAL_KINDS])
    children = open_children()
    if not children:
        return []
    here = frozenset(e.run_id for e in events if isinstance(e, ChildWorkflowStarted))
    return parent_close_ops(store, run_id, children, time, started_here=here)


def run_close_effects(store: Store, run_id: str, started: WorkflowStarted, event: Event
                      ) -> list[Operation]:
    """Everything that commits with ``event`` closing the run from outside its code
    (terminated, timed out, failed by the worker): the report to its parent and its
    children's parent close policies, and what it starts or wakes (the next run of a
    cron schedule, the schedule that started it)."""
    return [*close_effects(started, event), *chain_effects(store, run_id, started, event),
            *history_close_ops(store, run_id, event.time)]


def close_effects(started: WorkflowStarted, event: Event) -> list[Operation]:
    """Tell the parent (if any) that this run ended with ``event``."""
    if started.parent_run_id is None or started.parent_initiated_event_id is None:
        return []
    ref = started.parent_initiated_event_id
    t = event.time
    result: Event
    if isinstance(event, WorkflowCompleted):
        result = ChildWorkflowCompleted(event_id=0, time=t, initiated_event_id=ref,
                                        result=event.result)
    elif isinstance(event, WorkflowFailed):
        result = ChildWorkflowFailed(event_id=0, time=t, initiated_event_id=ref,
                                     failure=event.failure)
    elif isinstance(event, WorkflowCanceled):
        result = ChildWorkflowCanceled(event_id=0, time=t, initiated_event_id=ref)
    elif isinstance(event, WorkflowTerminated | WorkflowTimedOut):
        what = "terminated" if isinstance(event, WorkflowTerminated) else "timed out"
        kind = "TerminatedError" if what == "terminated" else "TimeoutError:execution"
        result = ChildWorkflowFailed(event_id=0, time=t, initiated_event_id=ref,
                                     failure=Failure(message=f"child workflow {what}",
                                                     type=kind))
    else:
        return []
    return [Deliver(started.parent_run_id, result, missing_ok=True)]


def _signal_ops(store: Store, run_id: str, e: ExternalSignalSent) -> list[Operation]:
    target = store.get_run(e.run_id) if e.run_id else store.latest_run(e.workflow_id)
    if target is None or target.status != "running":
        why = "no such run" if target is None else f"the run is {target.status}"
        return [Deliver(run_id, ExternalSignalFailed(
            event_id=0, time=e.time, initiated_event_id=e.event_id,
            failure=Failure(message=f"cannot signal workflow {e.workflow_id!r}: {why}",
                            type="ExternalWorkflowNotFound", non_retryable=True)))]
    return [
        Deliver(target.run_id, SignalReceived(event_id=0, time=e.time,
                                              signal_name=e.signal_name, args=list(e.args),
                                              headers=dict(e.headers))),
        Deliver(run_id, ExternalSignalDelivered(event_id=0, time=e.time,
                                                initiated_event_id=e.event_id)),
    ]


def fallback_for(error: Exception, ops: Sequence[Operation], run_id: str, now: datetime
                 ) -> list[Operation] | None:
    """Replace the effect that failed (a child id in use, a target that just closed).

    Returns the corrected operations, or None when the error is not an effect's.
    """
    out: list[Operation] = []
    changed = False
    for op in ops:
        if (isinstance(error, RunAlreadyExistsError) and isinstance(op, Start)
                and op.started.parent_run_id == run_id
                and op.started.parent_initiated_event_id is not None
                and op.started.continued_from_run_id is None
                and op.run_id == error.run_id):
            out.append(Deliver(run_id, ChildWorkflowFailed(
                event_id=0, time=now, initiated_event_id=op.started.parent_initiated_event_id,
                failure=Failure(message=f"child workflow id {op.started.workflow_id!r} is "
                                        "already running", type="WorkflowAlreadyStarted",
                                non_retryable=True))))
            changed = True
        elif (isinstance(error, RunClosedError | RunNotFoundError | StaleResultError)
              and isinstance(op, Deliver) and isinstance(op.event, SignalReceived)
              and op.run_id == getattr(error, "run_id", None)):
            changed = True  # drop the signal; turn the sender's receipt into a failure
        elif (changed and isinstance(op, Deliver)
              and isinstance(op.event, ExternalSignalDelivered)):
            out.append(Deliver(run_id, ExternalSignalFailed(
                event_id=0, time=now, initiated_event_id=op.event.initiated_event_id,
                failure=Failure(message="signal target closed before delivery",
                                type="ExternalWorkflowNotFound", non_retryable=True))))
        else:
            out.append(op)
    return out if changed else None
