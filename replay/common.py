"""Values shared by workflows, activities and clients."""

from ._core._common import ActivityCancellationType as ActivityCancellationType
from ._core._common import RawValue as RawValue
from ._core._common import RetryPolicy as RetryPolicy
from ._core._common import WorkflowIDConflictPolicy as WorkflowIDConflictPolicy
from ._core._common import WorkflowIDReusePolicy as WorkflowIDReusePolicy
from ._core._public import publish as _publish

__all__ = [
    "ActivityCancellationType",
    "RawValue",
    "RetryPolicy",
    "WorkflowIDConflictPolicy",
    "WorkflowIDReusePolicy",
]

_publish(__name__, globals(), private="replay._")
