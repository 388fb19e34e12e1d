"""Moving runs between stores: every run's history, its indexes rebuilt on the way in.

The target derives its runs index, workflow and activity tasks and timers
itself: each run is written with one conditional append of its whole history
(expected last id 0, so the run must not exist), through the same path a
worker's commits take. Runs go in start order, so a continued-as-new run's
predecessor and a child's parent are in before it. Each copied history is
read back and compared with the source's. Update requests still waiting for a
worker (not yet in any history) are requested again on the target; leases and
attempt counts are not copied: a worker on the target starts fresh attempts.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from ._batch import RUNNING
from ._errors import ReplayError
from ._history import History
from ._store import Append, RunInfo, Store


class StoreNotEmptyError(ReplayError):
    """The target store already holds a run being copied; nothing was written."""

    code = "RPL-S09"

    def __init__(self, run_id: str, why: str) -> None:
        super().__init__(
            f"cannot copy into this store: {why}. Nothing was written. Copy into an empty "
            "store (a new SQLite file, or a new PostgreSQL schema with ?schema=NAME).")
        self.run_id = run_id


StoreNotEmptyError.__module__ = "replay.history"


@attrs.frozen(kw_only=True)
class CopiedRun:
    """One run copied by :func:`copy_store`."""

    run: RunInfo
    event_count: int
    update_requests: int = 0


def runs_in_start_order(store: Store) -> list[RunInfo]:
    """Every run of ``store``, the earliest started first."""
    return list(reversed(store.list_runs()))


def check_target(runs: list[RunInfo], target: Store) -> None:
    """StoreNotEmptyError naming the first run that ``target`` already holds (or whose
    workflow id has an open run there, which would refuse the copy of an open run)."""
    for run in runs:
        if target.get_run(run.run_id) is not None or target.last_event_id(run.run_id):
            raise StoreNotEmptyError(run.run_id, f"it already holds run {run.run_id!r}")
    for run in runs:
        if run.status != RUNNING:
            continue
        other = target.latest_run(run.workflow_id)
        if other is not None and other.status == RUNNING:
            raise StoreNotEmptyError(run.run_id, (
                f"its run {other.run_id!r} of workflow id {run.workflow_id!r} is open, so "
                f"run {run.run_id!r} could not be opened there"))


def copy_store(source: Store, target: Store, *,
               progress: Callable[[CopiedRun], None] | None = None) -> list[CopiedRun]:
    """Copy every run of ``source`` into ``target``, which must hold none of them.

    Refuses (StoreNotEmptyError, before writing anything) when ``target`` holds
    any of the runs. Each run is appended whole in start order, its indexes
    derived by the target, then read back and compared with the source
    (HistoryError if they differ). ``progress`` is called after each run.
    """
    runs = runs_in_start_order(source)
    check_target(runs, target)
    copied: list[CopiedRun] = []
    for run in runs:
        history = source.history(run.run_id)  # validated on construction
        target.commit([Append(run.run_id, history.events, 0)])
        waiting = [u for u in source.pending_updates(run.run_id) if u.status == "requested"]
        for update in waiting:
            target.request_update(run.run_id, update.update_id, update.name, update.args,
                                  update.requested_at, update.headers)
        _verify(history, History(run.run_id, target.read(run.run_id)))
        copied.append(CopiedRun(run=run, event_count=len(history),
                                update_requests=len(waiting)))
        if progress is not None:
            progress(copied[-1])
    return copied


def _verify(expected: History, actual: History) -> None:
    if actual != expected:
        from ._errors import HistoryError
        first = next((a.event_id for a, b in zip(actual, expected, strict=False) if a != b),
                     min(len(actual), len(expected)) + 1)
        raise HistoryError(
            f"the copy differs from the source from event {first} on; the target holds "
            "runs copied so far: move them aside before trying again",
            source=f"run {expected.run_id!r}", event_id=first, rule="copy")
