"""Group commit: many runs' batches in one transaction, each settled by its outcome."""

from __future__ import annotations

import time
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


@attrs.frozen
class Written:
    """What one group commit did: each batch with its result, and what else it tells."""

    settled: list[tuple[Pending, list[Event] | ReplayError]]
    """Every batch with the events it wrote or the error that refused it; the order of
    submission, except that batches corrected after a failed effect come last."""
    first_try: bool
    """Every batch was written by the first transaction (none failed or was corrected)."""
    alone: bool
    """Only this commit moved the store's change token from ``before`` (to ``before + 1``):
    nothing else committed meanwhile, in this process or (as far as it knows) any other."""
    before: int
    """The store's change token just before the commit."""
    seconds: float
    """How long the commit took, retries included."""

    def settle(self) -> None:
        """Tell every batch its outcome (its ``succeeded`` or ``failed``), in order.

        Runs on the worker's event loop: the callbacks touch its instances and
        start activities.
        """
        for p, result in self.settled:
            if isinstance(result, ReplayError):
                p.failed(result)
            else:
                p.succeeded(result)


def commit_group(store: Store, pending: list[Pending], now: datetime) -> Written:
    """Commit every pending batch in one transaction; each batch's outcome, not yet told.

    A batch whose cross-run effect failed (a child id in use, a signal target
    that just closed) is corrected and committed again in the next round; a
    conflicting append is reported to its batch as is. Safe in any thread (it
    only calls the store); :meth:`Written.settle` then tells the batches.
    A StoreError (nothing written) propagates.
    """
    before = store.change_token()
    began = time.perf_counter()
    settled: list[tuple[Pending, list[Event] | ReplayError]] = []
    first = bool(pending)
    rounds = 0
    for _ in range(4):
        if not pending:
            break
        results = store.commit_each([p.ops for p in pending])
        rounds += 1
        retry: list[Pending] = []
        for p, result in zip(pending, results, strict=True):
            if not isinstance(result, ReplayError):
                settled.append((p, result))
                continue
            fixed = fallback_for(result, p.ops, p.run_id, now) \
                if not isinstance(result, AppendConflictError) else None
            if fixed is not None:
                retry.append(attrs.evolve(p, ops=fixed))
            else:
                settled.append((p, result))
            first = False
        pending = retry
    for p in pending:
        settled.append((p, InternalError(f"run {p.run_id!r}: a commit kept failing after its "
                                         "effects were corrected")))
    alone = rounds == 1 and store.change_token() == before + 1
    return Written(settled, first, alone, before, time.perf_counter() - began)


def flush(store: Store, pending: list[Pending], now: datetime) -> Written:
    """Commit every pending batch in one transaction and settle each by its outcome, here
    and now (see :func:`commit_group`)."""
    written = commit_group(store, pending, now)
    written.settle()
    return written


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
