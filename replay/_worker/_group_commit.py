"""Group commit: many runs' batches in one transaction, each settled by its outcome."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

from replay.history import (
    ActivityCanceled,
    ActivityCompleted,
    ActivityFailed,
    ActivityScheduled,
    ActivityTimedOut,
    Append,
    AppendConflictError,
    Deliver,
    Event,
    EventEmitted,
    InternalError,
    LeaseActivity,
    MarkerRecorded,
    Operation,
    ReplayError,
    Store,
    UpdateAccepted,
    UpdateCompleted,
    WorkflowCompleted,
    WorkflowFailed,
    WorkflowTaskCompleted,
)

from .._core._effects import fallback_for


def ignore(_: object) -> None:
    """An outcome callback that needs to do nothing."""


@attrs.frozen
class Pending:
    """One batch for a group commit, and what to do once its outcome is known."""

    run_id: str
    ops: list[Operation]
    succeeded: Callable[[list[Event]], None]
    failed: Callable[[ReplayError], None]


def flush(store: Store, pending: list[Pending], now: datetime) -> bool:
    """Commit every pending batch in one transaction; settle each by its outcome.

    A batch whose cross-run effect failed (a child id in use, a signal target
    that just closed) is corrected and committed again in the next round; a
    conflicting append is reported to its batch as is. True if every batch was
    written by the first commit.
    """
    first = True
    for _ in range(4):
        if not pending:
            return first
        results = store.commit_each([p.ops for p in pending])
        retry: list[Pending] = []
        for p, result in zip(pending, results, strict=True):
            if not isinstance(result, ReplayError):
                p.succeeded(result)
                continue
            fixed = fallback_for(result, p.ops, p.run_id, now) \
                if not isinstance(result, AppendConflictError) else None
            if fixed is not None:
                retry.append(attrs.evolve(p, ops=fixed))
            else:
                p.failed(result)
            first = False
        pending = retry
    for p in pending:
        p.failed(InternalError(f"run {p.run_id!r}: a commit kept failing after its effects "
                               "were corrected"))
    return False


_QUIET_KINDS = frozenset({
    ActivityCompleted, ActivityFailed, ActivityTimedOut, ActivityCanceled, ActivityScheduled,
    WorkflowTaskCompleted, WorkflowCompleted, WorkflowFailed, MarkerRecorded, EventEmitted,
    UpdateAccepted, UpdateCompleted,
})


def leaves_no_work(p: Pending) -> bool:
    """Once written, does this batch leave nothing for a poll to find?

    True for one run's activation that ends its workflow task (or the run), with
    nothing for another run, no timer and every activity it schedules leased in
    the same batch (the worker's usual step): polling for workflow tasks,
    activity tasks and timers after such a commit finds nothing it caused.
    """
    scheduled = leased = 0
    finished = False
    for op in p.ops:
        if isinstance(op, LeaseActivity):
            leased += 1
            continue
        if op.run_id != p.run_id or not isinstance(op, (Append, Deliver)):
            return False
        events = op.events if isinstance(op, Append) else [op.event]
        for e in events:
            if type(e) not in _QUIET_KINDS:
                return False
            scheduled += isinstance(e, ActivityScheduled)
            finished |= isinstance(e, (WorkflowTaskCompleted, WorkflowCompleted,
                                       WorkflowFailed))
    return finished and scheduled == leased
