"""Values shared by workflows, activities and clients."""

from ._common import ActivityCancellationType as ActivityCancellationType
from ._common import RawValue as RawValue
from ._common import RetryPolicy as RetryPolicy
from ._common import WorkflowIDConflictPolicy as WorkflowIDConflictPolicy
from ._common import WorkflowIDReusePolicy as WorkflowIDReusePolicy

__all__ = [
    "ActivityCancellationType",
    "RawValue",
    "RetryPolicy",
    "WorkflowIDConflictPolicy",
    "WorkflowIDReusePolicy",
]
