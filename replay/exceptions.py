"""The project's errors: one tree under ReplayError, each with a stable code."""

from replay.history import AppendConflictError as AppendConflictError
from replay.history import HistoryError as HistoryError
from replay.history import InternalError as InternalError
from replay.history import PayloadError as PayloadError
from replay.history import ReplayError as ReplayError

from ._core._exceptions import ActivityError as ActivityError
from ._core._exceptions import ApplicationError as ApplicationError
from ._core._exceptions import CancelledError as CancelledError
from ._core._exceptions import ChildWorkflowError as ChildWorkflowError
from ._core._exceptions import FailureError as FailureError
from ._core._exceptions import NondeterminismError as NondeterminismError
from ._core._exceptions import QueryFailedError as QueryFailedError
from ._core._exceptions import ReadOnlyContextError as ReadOnlyContextError
from ._core._exceptions import TerminatedError as TerminatedError
from ._core._exceptions import TimeoutError as TimeoutError
from ._core._exceptions import UnknownQueryError as UnknownQueryError
from ._core._exceptions import WorkflowDefinitionError as WorkflowDefinitionError
from ._core._exceptions import WorkflowLoopError as WorkflowLoopError
from ._core._exceptions import WorkflowTaskError as WorkflowTaskError
from ._replay._sandbox_hooks import RestrictedCallError as RestrictedCallError

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
