"""Running workflows: the Replayer (and, with the durable worker, the Worker)."""

from ._core._interceptors import ContinueAsNewInput as ContinueAsNewInput
from ._core._interceptors import ExecuteWorkflowInput as ExecuteWorkflowInput
from ._core._interceptors import HandleQueryInput as HandleQueryInput
from ._core._interceptors import HandleSignalInput as HandleSignalInput
from ._core._interceptors import HandleUpdateInput as HandleUpdateInput
from ._core._interceptors import SignalChildWorkflowInput as SignalChildWorkflowInput
from ._core._interceptors import SignalExternalWorkflowInput as SignalExternalWorkflowInput
from ._core._interceptors import StartActivityInput as StartActivityInput
from ._core._interceptors import StartChildWorkflowInput as StartChildWorkflowInput
from ._core._interceptors import WorkflowInboundInterceptor as WorkflowInboundInterceptor
from ._core._interceptors import WorkflowInterceptorClassInput as WorkflowInterceptorClassInput
from ._core._interceptors import WorkflowOutboundInterceptor as WorkflowOutboundInterceptor
from ._core._public import publish as _publish
from ._replay._replayer import Replayer as Replayer
from ._replay._replayer import WorkflowReplayResult as WorkflowReplayResult
from ._replay._replayer import WorkflowReplayResults as WorkflowReplayResults
from ._worker._interceptors import ActivityInboundInterceptor as ActivityInboundInterceptor
from ._worker._interceptors import ActivityOutboundInterceptor as ActivityOutboundInterceptor
from ._worker._interceptors import ExecuteActivityInput as ExecuteActivityInput
from ._worker._interceptors import Interceptor as Interceptor
from ._worker._metrics import WorkerMetrics as WorkerMetrics
from ._worker._process_pool import SharedStateManager as SharedStateManager
from ._worker._worker import Worker as Worker

__all__ = [
    "ActivityInboundInterceptor",
    "ActivityOutboundInterceptor",
    "ContinueAsNewInput",
    "ExecuteActivityInput",
    "ExecuteWorkflowInput",
    "HandleQueryInput",
    "HandleSignalInput",
    "HandleUpdateInput",
    "Interceptor",
    "Replayer",
    "SharedStateManager",
    "SignalChildWorkflowInput",
    "SignalExternalWorkflowInput",
    "StartActivityInput",
    "StartChildWorkflowInput",
    "Worker",
    "WorkerMetrics",
    "WorkflowInboundInterceptor",
    "WorkflowInterceptorClassInput",
    "WorkflowOutboundInterceptor",
    "WorkflowReplayResult",
    "WorkflowReplayResults",
]

_publish(__name__, globals(), private="replay._")
