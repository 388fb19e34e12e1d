"""What ``workflow.info()`` returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from replay.history import WorkflowStarted


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

    @staticmethod
    def from_started(run_id: str, started: WorkflowStarted) -> WorkflowInfo:
        """The facts a run's first event records."""
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
            memo=dict(started.memo))
