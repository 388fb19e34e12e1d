"""Starting runs and talking to them (names follow the familiar SDK's ``client`` module)."""

from ._client import Client as Client
from ._client import WorkflowExecutionCount as WorkflowExecutionCount
from ._client_errors import UnsupportedTargetError as UnsupportedTargetError
from ._client_errors import WorkflowAlreadyStartedError as WorkflowAlreadyStartedError
from ._client_errors import WorkflowClosedError as WorkflowClosedError
from ._client_errors import WorkflowFailureError as WorkflowFailureError
from ._client_errors import WorkflowNotFoundError as WorkflowNotFoundError
from ._client_errors import WorkflowQueryFailedError as WorkflowQueryFailedError
from ._client_errors import WorkflowQueryRejectedError as WorkflowQueryRejectedError
from ._client_errors import WorkflowUpdateFailedError as WorkflowUpdateFailedError
from ._handle import QueryRejectCondition as QueryRejectCondition
from ._handle import StreamedEvent as StreamedEvent
from ._handle import WorkflowExecution as WorkflowExecution
from ._handle import WorkflowExecutionDescription as WorkflowExecutionDescription
from ._handle import WorkflowExecutionStatus as WorkflowExecutionStatus
from ._handle import WorkflowHandle as WorkflowHandle
from ._handle import WorkflowUpdateHandle as WorkflowUpdateHandle
from ._handle import WorkflowUpdateStage as WorkflowUpdateStage

__all__ = [
    "Client",
    "QueryRejectCondition",
    "StreamedEvent",
    "UnsupportedTargetError",
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
    "WorkflowUpdateFailedError",
    "WorkflowUpdateHandle",
    "WorkflowUpdateStage",
]
