"""Parent close policies: what happens to a run's open children when the run closes.

A child started with ``parent_close_policy=`` records the policy in its
``ChildWorkflowStarted`` event. When the parent closes in any way (it completes,
fails, is cancelled, terminated, times out or continues as new), the operations
built here commit in the same store transaction as the parent's closing event:

* ``TERMINATE`` (the default): the child's current run is terminated, and its own
  open children get their policies in turn;
* ``REQUEST_CANCEL``: a cancellation request is delivered to the child's current run;
* ``ABANDON``: the child runs on, untouched.

Only children still open when the parent closes are touched; a child that has
ended (or ends in the meantime) is skipped. The decision is taken outside
workflow code and leaves nothing in the parent's history, so replay is unaffected.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

from replay.history import (
    REFERENCES,
    CancelRequested,
    ChildWorkflowStarted,
    Deliver,
    Event,
    Operation,
    Store,
    WorkflowTerminated,
)


class ParentClosePolicy(enum.IntEnum):
    """What happens to a child run when its parent run closes (familiar names and values)."""

    UNSPECIFIED = 0
    """Same as TERMINATE."""
    TERMINATE = 1
    """Terminate the child (the default)."""
    ABANDON = 2
    """Leave the child running."""
    REQUEST_CANCEL = 3
    """Ask the child to cancel; it decides what that means."""

    @property
    def recorded(self) -> str:
        """How the policy is written in ``ChildWorkflowStarted.parent_close_policy``."""
        return _RECORDED[self]


_RECORDED = {
    ParentClosePolicy.UNSPECIFIED: "terminate",
    ParentClosePolicy.TERMINATE: "terminate",
    ParentClosePolicy.ABANDON: "abandon",
    ParentClosePolicy.REQUEST_CANCEL: "request_cancel",
}


def policy_from(value: object) -> ParentClosePolicy:
    """The policy a ``parent_close_policy=`` argument names; TypeError for anything else."""
    if isinstance(value, ParentClosePolicy):
        return value
    raise TypeError(f"parent_close_policy must be a workflow.ParentClosePolicy, got {value!r}")


@attrs.frozen
class OpenChild:
    """A child run the parent started and has not seen end."""

    workflow_id: str
    run_id: str
    """The run the parent started (the first of the child's chain)."""
    policy: str


def open_children_of(events: Iterable[Event]) -> list[OpenChild]:
    """The children started in ``events`` (a run's history) whose result is not in it."""
    started: dict[int, ChildWorkflowStarted] = {}
    for e in events:
        if isinstance(e, ChildWorkflowStarted):
            started[e.event_id] = e
        elif started:
            ref = REFERENCES.get(type(e))
            if ref is not None and ChildWorkflowStarted in ref[1]:
                started.pop(getattr(e, ref[0]), None)
    return [OpenChild(c.workflow_id, c.run_id, c.parent_close_policy)
            for c in started.values()]


def parent_close_ops(store: Store, parent_run_id: str, children: Sequence[OpenChild],
                     time: datetime, *, started_here: frozenset[str] = frozenset()
                     ) -> list[Operation]:
    """The operations that apply ``children``'s policies as their parent closes.

    ``started_here`` names child runs started in the same commit (not in the store
    yet): they are addressed by their run id directly. Every delivery is
    ``missing_ok``, so a child that has ended in the meantime is skipped.
    """
    ops: list[Operation] = []
    for child in children:
        if child.policy == "abandon":
            continue
        target = _current_run(store, child, started_here)
        if target is None:
            continue
        why = (f"parent run {parent_run_id!r} closed (parent_close_policy "
               f"{child.policy.upper()})")
        if child.policy == "request_cancel":
            ops.append(Deliver(target, CancelRequested(event_id=0, time=time, reason=why),
                               missing_ok=True))
            continue
        ops.append(Deliver(target, WorkflowTerminated(event_id=0, time=time, reason=why),
                           missing_ok=True))
        # The child's close does not report to its parent (closed in this commit), but
        # its own open children get their policies in turn.
        if target not in started_here:
            grandchildren = open_children_of(store.read(target))
            ops.extend(parent_close_ops(store, target, grandchildren, time))
    return ops


def _current_run(store: Store, child: OpenChild, started_here: frozenset[str]) -> str | None:
    """The open run of the child's chain (it may have continued as new), if any."""
    if child.run_id in started_here:
        return child.run_id
    run = store.latest_run(child.workflow_id)
    if run is None or run.status != "running" or run.first_execution_run_id != child.run_id:
        return None
    return run.run_id


def history_close_ops(store: Store, run_id: str, time: datetime,
                      new_events: Sequence[Event] = ()) -> list[Operation]:
    """:func:`parent_close_ops` for a run closed from outside its workflow code (terminated,
    timed out, failed by the worker): the children are found in its stored history."""
    children = open_children_of([*store.read(run_id), *new_events])
    if not children:
        return []
    here = frozenset(e.run_id for e in new_events if isinstance(e, ChildWorkflowStarted))
    return parent_close_ops(store, run_id, children, time, started_here=here)
