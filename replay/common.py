"""Values shared by workflows, activities and clients."""

from ._core._common import ActivityCancellationType as ActivityCancellationType
from ._core._common import RawValue as RawValue
from ._core._common import RetryPolicy as RetryPolicy
from ._core._common import WorkflowIDConflictPolicy as WorkflowIDConflictPolicy
from ._core._common import WorkflowIDReusePolicy as WorkflowIDReusePolicy
from ._core._public import publish as _publish
from ._core._search_attributes import (
    SearchAttributeIndexedValueType as SearchAttributeIndexedValueType,
)
from ._core._search_attributes import SearchAttributeKey as SearchAttributeKey
from ._core._search_attributes import SearchAttributePair as SearchAttributePair
from ._core._search_attributes import SearchAttributeUpdate as SearchAttributeUpdate
from ._core._search_attributes import TypedSearchAttributes as TypedSearchAttributes

__all__ = [
    "ActivityCancellationType",
    "RawValue",
    "RetryPolicy",
    "SearchAttributeIndexedValueType",
    "SearchAttributeKey",
    "SearchAttributePair",
    "SearchAttributeUpdate",
    "TypedSearchAttributes",
    "WorkflowIDConflictPolicy",
    "WorkflowIDReusePolicy",
]

_publish(__name__, globals(), private="replay._")
