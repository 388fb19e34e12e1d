"""Testing helpers: drive a workflow by hand in memory and record its history."""

from ._driver import UpdateOutcome as UpdateOutcome
from ._driver import WorkflowDriver as WorkflowDriver

__all__ = ["UpdateOutcome", "WorkflowDriver"]
