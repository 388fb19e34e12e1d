"""What ``workflow.info()`` returns."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

import attrs

from replay.history import WorkflowStarted

from ._search_attributes import TypedSearchAttributes, decode_attributes, untyped_attributes

CONTINUE_AS_NEW_SUGGESTED_LENGTH = 4096
"""``is_continue_as_new_suggested()`` turns true at this many events in the run's history."""
CONTINUE_AS_NEW_SUGGESTED_SIZE = 4 * 1024 * 1024
"""... or at this many bytes of encoded history (4 MiB), whichever comes first."""


class HistoryStats(Protocol):
    """What WorkflowInfo asks its run about the history so far (the WorkflowInstance)."""

    def history_length(self) -> int: ...
    def history_size(self) -> int: ...


@attrs.frozen(kw_only=True)
class ParentInfo:
    """The run that started this one as a child."""

    workflow_id: str
    run_id: str


@attrs.frozen(kw_only=True)
class WorkflowInfo:
    """Facts about the current run; the same on every replay."""

    workflow_id: str
    run_id: str
    workflow_type: str
    task_queue: str
    start_time: datetime
    first_execution_run_id: str
    continued_run_id: str | None = None
    parent: ParentInfo | None = None
    memo: dict[str, Any] = attrs.field(factory=dict)
    attempt: int = 1
    namespace: str = "default"
    execution_timeout: timedelta | None = None
    """The run's (and its continuations') time limit; None unless the start set one."""
    run_timeout: timedelta | None = None
    """This run's time limit; None unless the start set one."""
    task_timeout: timedelta = timedelta(seconds=10)
    """Accepted for familiar code; replay does not time workflow tasks out."""
    typed_search_attributes: TypedSearchAttributes = TypedSearchAttributes.empty
    """The run's search attributes now: as it started, then after each
    ``workflow.upsert_search_attributes`` (the same at every point on replay)."""
    search_attributes: dict[str, list[Any]] = attrs.field(factory=dict)
    """The same, in the familiar SDK's older untyped form (name -> list of values)."""
    cron_schedule: str | None = None
    """The run's cron expression, if it was started with one."""
    _stats: HistoryStats | None = attrs.field(default=None, eq=False, repr=False,
                                              alias="stats")

    def get_current_history_length(self) -> int:
        """Events in the run's history so far, as of the current activation.

        Deterministic: a replay sees the same number at the same point of the code.
        """
        return self._stats.history_length() if self._stats is not None else 0

    def get_current_history_size(self) -> int:
        """Bytes of the run's history so far (its events' JSON encoding), as of the
        current activation; the same on replay."""
        return self._stats.history_size() if self._stats is not None else 0

    def is_continue_as_new_suggested(self) -> bool:
        """True once the history reaches ``CONTINUE_AS_NEW_SUGGESTED_LENGTH`` (4096) events
        or ``CONTINUE_AS_NEW_SUGGESTED_SIZE`` (4 MiB): time to ``continue_as_new`` so
        that replays stay fast. Nothing is forced; the history may grow further."""
        return (self.get_current_history_length() >= CONTINUE_AS_NEW_SUGGESTED_LENGTH
                or self.get_current_history_size() >= CONTINUE_AS_NEW_SUGGESTED_SIZE)

    @staticmethod
    def from_started(run_id: str, started: WorkflowStarted,
                     stats: HistoryStats | None = None) -> WorkflowInfo:
        """The facts a run's first event records (``stats`` answers the history's
        length and size)."""
        parent = None
        if started.parent_workflow_id and started.parent_run_id:
            parent = ParentInfo(workflow_id=started.parent_workflow_id,
                                run_id=started.parent_run_id)
        return WorkflowInfo(
            workflow_id=started.workflow_id, run_id=run_id,
            workflow_type=started.workflow_type, task_queue=started.task_queue,
            start_time=started.time,
            first_execution_run_id=started.first_execution_run_id or run_id,
            continued_run_id=started.continued_from_run_id, parent=parent,
            memo=dict(started.memo), execution_timeout=started.execution_timeout,
            run_timeout=started.run_timeout, cron_schedule=started.cron_schedule or None,
            stats=stats, typed_search_attributes=decode_attributes(started.search_attributes),
            search_attributes=untyped_attributes(started.search_attributes))
