"""What ``workflow.info()`` returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs


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
