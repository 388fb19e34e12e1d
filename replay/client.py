"""Starting runs and talking to them (names follow the familiar SDK's ``client`` module)."""

from ._client._async_activity import AsyncActivityCancelledError as AsyncActivityCancelledError
from ._client._async_activity import AsyncActivityHandle as AsyncActivityHandle
from ._client._async_activity import AsyncActivityNotFoundError as AsyncActivityNotFoundError
from ._client._client import Client as Client
from ._client._client import WorkflowExecutionCount as WorkflowExecutionCount
from ._client._describe import PendingActivityInfo as PendingActivityInfo
from ._client._describe import PendingActivityState as PendingActivityState
from ._client._describe import WorkflowTaskFailure as WorkflowTaskFailure
from ._client._errors import UnsupportedTargetError as UnsupportedTargetError
from ._client._errors import WorkflowAlreadyStartedError as WorkflowAlreadyStartedError
from ._client._errors import WorkflowClosedError as WorkflowClosedError
from ._client._errors import WorkflowFailureError as WorkflowFailureError
from ._client._errors import WorkflowNotFoundError as WorkflowNotFoundError
from ._client._errors import WorkflowQueryFailedError as WorkflowQueryFailedError
from ._client._errors import WorkflowQueryRejectedError as WorkflowQueryRejectedError
from ._client._errors import WorkflowUpdateFailedError as WorkflowUpdateFailedError
from ._client._handle import QueryRejectCondition as QueryRejectCondition
from ._client._handle import StreamedEvent as StreamedEvent
from ._client._handle import WorkflowExecution as WorkflowExecution
from ._client._handle import WorkflowExecutionDescription as WorkflowExecutionDescription
from ._client._handle import WorkflowExecutionStatus as WorkflowExecutionStatus
from ._client._handle import WorkflowHandle as WorkflowHandle
from ._client._handle import WorkflowUpdateHandle as WorkflowUpdateHandle
from ._client._handle import WorkflowUpdateStage as WorkflowUpdateStage
from ._client._inputs import CancelWorkflowInput as CancelWorkflowInput
from ._client._inputs import DescribeWorkflowInput as DescribeWorkflowInput
from ._client._inputs import QueryWorkflowInput as QueryWorkflowInput
from ._client._inputs import SignalWorkflowInput as SignalWorkflowInput
from ._client._inputs import StartWorkflowInput as StartWorkflowInput
from ._client._inputs import StartWorkflowUpdateInput as StartWorkflowUpdateInput
from ._client._inputs import TerminateWorkflowInput as TerminateWorkflowInput
from ._client._interceptors import Interceptor as Interceptor
from ._client._interceptors import OutboundInterceptor as OutboundInterceptor
from ._client._with_start import WithStartWorkflowOperation as WithStartWorkflowOperation
from ._core._public import publish as _publish

__all__ = [
    "AsyncActivityCancelledError",
    "AsyncActivityHandle",
    "AsyncActivityNotFoundError",
    "CancelWorkflowInput",
    "Client",
    "DescribeWorkflowInput",
    "Interceptor",
    "OutboundInterceptor",
    "PendingActivityInfo",
    "PendingActivityState",
    "QueryRejectCondition",
    "QueryWorkflowInput",
    "SignalWorkflowInput",
    "StartWorkflowInput",
    "StartWorkflowUpdateInput",
    "StreamedEvent",
    "TerminateWorkflowInput",
    "UnsupportedTargetError",
    "WithStartWorkflowOperation",
    "WorkflowAlreadyStartedError",
    "WorkflowClosedError",
    "WorkflowExecution",
    "WorkflowExecutionCount",
    "WorkflowExecutionDescription",
    "WorkflowExecutionStatus",
    "WorkflowFailureError",
    "WorkflowHandle",
    "WorkflowNotFoundError",
    "WorkflowQueryFailedError",
    "WorkflowQueryRejectedError",
    "WorkflowTaskFailure",
    "WorkflowUpdateFailedError",
    "WorkflowUpdateHandle",
    "WorkflowUpdateStage",
]

_publish(__name__, globals(), private="replay._")
