"""Where a run sits among runs: the root of its chain of parents (``describe().root_id``)."""

from __future__ import annotations

from replay.history import RunInfo, Store

MAX_DEPTH = 10_000
"""Parents followed at most (a guard against a corrupted, circular index)."""


def root_of(store: Store, run: RunInfo) -> tuple[str, str]:
    """``(workflow id, run id)`` of the run at the top of ``run``'s parent chain (the run
    itself when it has no parent). A parent that is gone (pruned) ends the walk and is
    taken as the root: its own parents are no longer known."""
    found = run
    for _ in range(MAX_DEPTH):
        if found.parent_run_id is None:
            break
        parent = store.get_run(found.parent_run_id)
        if parent is None:
            return found.parent_workflow_id or found.workflow_id, found.parent_run_id
        found = parent
    return found.workflow_id, found.run_id
