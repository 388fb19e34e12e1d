"""The project's errors: one tree under ReplayError, each with a stable code."""

from history import AppendConflictError as AppendConflictError
from history import HistoryError as HistoryError
from history import InternalError as InternalError
from history import PayloadError as PayloadError
from history import ReplayError as ReplayError

from ._exceptions import ActivityError as ActivityError
from ._exceptions import ApplicationError as ApplicationError
from ._exceptions import CancelledError as CancelledError
from ._exceptions import ChildWorkflowError as ChildWorkflowError
from ._exceptions import FailureError as FailureError
from ._exceptions import NondeterminismError as NondeterminismError
from ._exceptions import QueryFailedError as QueryFailedError
from ._exceptions import ReadOnlyContextError as ReadOnlyContextError
from ._exceptions import TerminatedError as TerminatedError
from ._exceptions import TimeoutError as TimeoutError
from ._exceptions import UnknownQueryError as UnknownQueryError
from ._exceptions import WorkflowDefinitionError as WorkflowDefinitionError
from ._exceptions import WorkflowLoopError as WorkflowLoopError
from ._exceptions import WorkflowTaskError as WorkflowTaskError
from ._sandbox_hooks import RestrictedCallError as RestrictedCallError

__all__ = [
    "ActivityError",
    "AppendConflictError",
    "ApplicationError",
    "CancelledError",
    "ChildWorkflowError",
    "FailureError",
    "HistoryError",
    "InternalError",
    "NondeterminismError",
    "PayloadError",
    "QueryFailedError",
    "ReadOnlyContextError",
    "ReplayError",
    "RestrictedCallError",
    "TerminatedError",
    "TimeoutError",
    "UnknownQueryError",
    "WorkflowDefinitionError",
    "WorkflowLoopError",
    "WorkflowTaskError",
]
