"""Group commit: many runs' batches in one transaction, each settled by its outcome."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

from replay.history import AppendConflictError, Event, InternalError, Operation, ReplayError, Store

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


def flush(store: Store, pending: list[Pending], now: datetime) -> None:
    """Commit every pending batch in one transaction; settle each by its outcome.

    A batch whose cross-run effect failed (a child id in use, a signal target
    that just closed) is corrected and committed again in the next round; a
    conflicting append is reported to its batch as is.
    """
    for _ in range(4):
        if not pending:
            return
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
        pending = retry
    for p in pending:
        p.failed(InternalError(f"run {p.run_id!r}: a commit kept failing after its effects "
                               "were corrected"))
