"""Starting runs and talking to them (names follow the familiar SDK's ``client`` module)."""

from ._client._async_activity import AsyncActivityCancelledError as AsyncActivityCancelledError
from ._client._async_activity import AsyncActivityHandle as AsyncActivityHandle
from ._client._async_activity import AsyncActivityNotFoundError as AsyncActivityNotFoundError
from ._client._client import Client as Client
from ._client._client import ClientConfig as ClientConfig
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
from ._client._handle import WorkflowExecution as WorkflowExecution
from ._client._handle import WorkflowExecutionDescription as WorkflowExecutionDescription
from ._client._handle import WorkflowExecutionStatus as WorkflowExecutionStatus
from ._client._handle import WorkflowHandle as WorkflowHandle
from ._client._handle import WorkflowUpdateHandle as WorkflowUpdateHandle
from ._client._handle import WorkflowUpdateStage as WorkflowUpdateStage
from ._client._handle_errors import WorkflowContinuedAsNewError as WorkflowContinuedAsNewError
from ._client._inputs import CancelWorkflowInput as CancelWorkflowInput
from ._client._inputs import DescribeWorkflowInput as DescribeWorkflowInput
from ._client._inputs import QueryWorkflowInput as QueryWorkflowInput
from ._client._inputs import SignalWorkflowInput as SignalWorkflowInput
from ._client._inputs import StartWorkflowInput as StartWorkflowInput
from ._client._inputs import StartWorkflowUpdateInput as StartWorkflowUpdateInput
from ._client._inputs import TerminateWorkflowInput as TerminateWorkflowInput
from ._client._interceptors import Interceptor as Interceptor
from ._client._interceptors import OutboundInterceptor as OutboundInterceptor
from ._client._list_query import WorkflowExecutionAsyncIterator as WorkflowExecutionAsyncIterator
from ._client._list_query import WorkflowExecutionCount as WorkflowExecutionCount
from ._client._registry_errors import ArgumentCountError as ArgumentCountError
from ._client._registry_errors import ArgumentTypeError as ArgumentTypeError
from ._client._registry_errors import UnknownHandlerError as UnknownHandlerError
from ._client._registry_errors import (
    WorkflowTypeNotRegisteredError as WorkflowTypeNotRegisteredError,
)
from ._client._run_context import RunContext as RunContext
from ._client._run_context import RunContextError as RunContextError
from ._client._run_context import StateView as StateView
from ._client._schedules import ScheduleAlreadyRunningError as ScheduleAlreadyRunningError
from ._client._schedules import ScheduleHandle as ScheduleHandle
from ._client._schedules import ScheduleNotFoundError as ScheduleNotFoundError
from ._client._stream import InternalEvent as InternalEvent
from ._client._stream import StopEvent as StopEvent
from ._client._stream import StreamedEvent as StreamedEvent
from ._client._with_start import WithStartWorkflowOperation as WithStartWorkflowOperation
from ._core._public import publish as _publish
from ._core._schedule_types import Schedule as Schedule
from ._core._schedule_types import (
    ScheduleActionExecutionStartWorkflow as ScheduleActionExecutionStartWorkflow,
)
from ._core._schedule_types import ScheduleActionResult as ScheduleActionResult
from ._core._schedule_types import ScheduleActionStartWorkflow as ScheduleActionStartWorkflow
from ._core._schedule_types import ScheduleBackfill as ScheduleBackfill
from ._core._schedule_types import ScheduleDescription as ScheduleDescription
from ._core._schedule_types import ScheduleInfo as ScheduleInfo
from ._core._schedule_types import ScheduleIntervalSpec as ScheduleIntervalSpec
from ._core._schedule_types import ScheduleListDescription as ScheduleListDescription
from ._core._schedule_types import ScheduleOverlapPolicy as ScheduleOverlapPolicy
from ._core._schedule_types import SchedulePolicy as SchedulePolicy
from ._core._schedule_types import ScheduleSpec as ScheduleSpec
from ._core._schedule_types import ScheduleState as ScheduleState
from ._core._schedule_types import ScheduleUpdate as ScheduleUpdate
from ._core._schedule_types import ScheduleUpdateInput as ScheduleUpdateInput

# schedules run as this engine-owned workflow: declared wherever the client is imported,
# so a client answers a schedule's describe query by replay when no worker does
from ._worker._schedule_workflow import ScheduleWorkflow as _ScheduleWorkflow  # noqa: F401

__all__ = [
    "ArgumentCountError",
    "ArgumentTypeError",
    "AsyncActivityCancelledError",
    "AsyncActivityHandle",
    "AsyncActivityNotFoundError",
    "CancelWorkflowInput",
    "Client",
    "ClientConfig",
    "DescribeWorkflowInput",
    "Interceptor",
    "InternalEvent",
    "OutboundInterceptor",
    "PendingActivityInfo",
    "PendingActivityState",
    "QueryRejectCondition",
    "QueryWorkflowInput",
    "RunContext",
    "RunContextError",
    "Schedule",
    "ScheduleActionExecutionStartWorkflow",
    "ScheduleActionResult",
    "ScheduleActionStartWorkflow",
    "ScheduleAlreadyRunningError",
    "ScheduleBackfill",
    "ScheduleDescription",
    "ScheduleHandle",
    "ScheduleInfo",
    "ScheduleIntervalSpec",
    "ScheduleListDescription",
    "ScheduleNotFoundError",
    "ScheduleOverlapPolicy",
    "SchedulePolicy",
    "ScheduleSpec",
    "ScheduleState",
    "ScheduleUpdate",
    "ScheduleUpdateInput",
    "SignalWorkflowInput",
    "StartWorkflowInput",
    "StartWorkflowUpdateInput",
    "StateView",
    "StopEvent",
    "StreamedEvent",
    "TerminateWorkflowInput",
    "UnknownHandlerError",
    "UnsupportedTargetError",
    "WithStartWorkflowOperation",
    "WorkflowAlreadyStartedError",
    "WorkflowClosedError",
    "WorkflowContinuedAsNewError",
    "WorkflowExecution",
    "WorkflowExecutionAsyncIterator",
    "WorkflowExecutionCount",
    "WorkflowExecutionDescription",
    "WorkflowExecutionStatus",
    "WorkflowFailureError",
    "WorkflowHandle",
    "WorkflowNotFoundError",
    "WorkflowQueryFailedError",
    "WorkflowQueryRejectedError",
    "WorkflowTaskFailure",
    "WorkflowTypeNotRegisteredError",
    "WorkflowUpdateFailedError",
    "WorkflowUpdateHandle",
    "WorkflowUpdateStage",
]

_publish(__name__, globals(), private="replay._")
