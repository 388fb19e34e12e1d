"""The project's errors: one tree under ReplayError, each with a stable code.

Every error that replay, its history layer and its sandbox raise on purpose
derives from ``ReplayError``. Its message starts with ``[CODE]``, built once by
the root from the class's ``code``; ``err.code`` holds the same code as data,
the other fields (``event_id``, ``run_id``, ``cause``...) what the message
describes, and ``docs/errors.md`` has one section per code: what happened and
what to do. Every error below can be imported from here.

Public homes (each class's ``__module__``): the engine's errors live here, in
``replay.exceptions``; the history layer's (marked ``H``) live in
``replay.history``, which knows nothing of the engine. Also exported elsewhere:
the client errors from ``replay.client`` (the familiar SDK's names) and
``DeterminismViolation`` from ``replay.testing``. ``replay.sandbox.RestrictedCallError``
is the sandbox's own base of the engine's ``RestrictedCallError`` (the sandbox
knows nothing of the engine either), so catching either works::

    ReplayError                        root, never raised itself               H
    │
    │  histories and stores
    ├── InternalError                  RPL-INT01  a bug in replay; report it   H
    ├── HistoryError                   RPL-H01    breaks a rule of the format  H
    │   └── ForeignHistoryError        RPL-ND02   not written by replay
    ├── PayloadError                   RPL-P01    no JSON form / undecodable   H
    │   ├── EncodedPayloadError        RPL-CV01   encoded; its codec not given H
    │   └── ReservedPayloadKeyError    RPL-CV03   {"$payload": ...} is reserved H
    ├── PayloadCodecError              RPL-CV02   a codec raised or miscounted H
    ├── UnsupportedConverterError      RPL-CV04   a custom failure converter
    ├── StoreError                     RPL-S01    store unusable               H
    │   ├── StoreUnavailableError      RPL-S07    passing: locked, disk full   H
    │   └── StoreCorruptError          RPL-S08    damaged file                 H
    ├── AppendConflictError            RPL-S02    another writer was first     H
    ├── RunNotFoundError               RPL-S03                                 H
    ├── RunClosedError                 RPL-S04    input to an ended run        H
    ├── RunAlreadyExistsError          RPL-S05                                 H
    ├── StaleResultError               RPL-S06    result for a closed command  H
    ├── StoreNotEmptyError             RPL-S09    migrate target holds a run   H
    ├── RunNotPrunableError            RPL-S10    retention of a running run   H
    ├── SearchAttributeError           RPL-SA01   bad attribute name or value  H
    ├── ListQueryError                 RPL-SA02   malformed list query         H
    │   └── ListQueryAttributeError    RPL-SA03   unknown attribute, wrong type H
    │
    │  workflow code, replay and debugging
    ├── WorkflowDefinitionError        RPL-D01    declared wrongly / unknown type
    ├── NondeterminismError            RPL-ND01   code differs from its history
    ├── RestrictedCallError            RPL-SB01 to RPL-SB11, the sandbox rule's code
    ├── ReadOnlyContextError           RPL-RO01   a command in a query/validator
    ├── WorkflowLoopError              RPL-L01    I/O or threads on the workflow loop
    │   └── UnorderedTasksError        RPL-L02    asyncio.as_completed over coroutines
    ├── WorkflowTaskError              RPL-WT01   a bug in workflow code; run stays open
    ├── NotInWorkflowError             RPL-W01    workflow.* outside workflow code
    ├── NotInActivityError             RPL-A01    activity.* outside an activity
    ├── AsyncActivityNotFoundError     RPL-A02    async outcome for no waiting attempt
    ├── AsyncActivityCancelledError    RPL-A03    async heartbeat: cancel requested
    ├── InvalidTaskTokenError          RPL-A04    also a ValueError: not a task token
    ├── ProcessPoolNeedsSharedStateError  RPL-A05  also a ValueError: no manager given
    ├── UnpicklableActivityError       RPL-A06    also a ValueError: cannot go to a pool
    ├── ProcessPoolInterceptorsError   RPL-A07    also a ValueError: interceptors + pool
    ├── StoreCallLimitError            RPL-W30    also a ValueError: no store thread
    ├── UnknownQueryError              RPL-Q01
    │   └── QueryUnavailableError      RPL-Q03    no handler can run here (client replay)
    ├── QueryFailedError               RPL-Q02
    ├── NoReplayedWorkflowError        RPL-R01    query after an early replay failure
    ├── DebuggerNotReadyError          RPL-DBG01  query before the first activation
    ├── DeterminismViolation           RPL-T01    also an AssertionError (check_determinism)
    │
    │  cron and schedules
    ├── InvalidCronError               RPL-SC01   bad cron expression; also a ValueError
    ├── ScheduleAlreadyRunningError    RPL-SC02   create_schedule with an id in use
    ├── ScheduleNotFoundError          RPL-SC03   no such schedule (or deleted)
    │
    │  clients (also in replay.client)
    ├── WorkflowFailureError           RPL-C01    the run ended without a result
    ├── WorkflowAlreadyStartedError    RPL-C02
    ├── WorkflowNotFoundError          RPL-C03
    ├── WorkflowClosedError            RPL-C04    message to an ended run
    ├── WorkflowUpdateFailedError      RPL-C05
    ├── WorkflowQueryRejectedError     RPL-C06
    ├── WorkflowQueryFailedError       RPL-C07
    ├── UnsupportedTargetError         RPL-C08
    ├── UnknownHandlerError            RPL-C09    no such handler (the store's registry)
    ├── ArgumentCountError             RPL-C10    wrong number of arguments (registry)
    ├── ArgumentTypeError              RPL-C11    an argument of the wrong JSON kind (registry)
    ├── WorkflowTypeNotRegisteredError RPL-C12    start of a type no worker hosts there
    ├── WorkflowContinuedAsNewError    RPL-H02    result(follow_runs=False) of a continued run
    ├── RunContextError                RPL-H03    handle.ctx: a write, or a bad reference
    │
    │  failures recorded in histories: the message is the user's own, no prefix
    └── FailureError                   RPL-F00
        ├── ApplicationError           raised on purpose by workflow or activity code
        ├── ActivityError              an activity failed; see ``cause``
        ├── ChildWorkflowError         a child workflow failed; see ``cause``
        ├── CancelledError
        ├── TerminatedError
        └── TimeoutError

``ApplicationErrorCategory`` (not an error) is here too, beside ApplicationError.
"""

from replay.history import AppendConflictError as AppendConflictError
from replay.history import EncodedPayloadError as EncodedPayloadError
from replay.history import HistoryError as HistoryError
from replay.history import InternalError as InternalError
from replay.history import ListQueryAttributeError as ListQueryAttributeError
from replay.history import ListQueryError as ListQueryError
from replay.history import PayloadCodecError as PayloadCodecError
from replay.history import PayloadError as PayloadError
from replay.history import ReplayError as ReplayError
from replay.history import ReservedPayloadKeyError as ReservedPayloadKeyError
from replay.history import RunAlreadyExistsError as RunAlreadyExistsError
from replay.history import RunClosedError as RunClosedError
from replay.history import RunNotFoundError as RunNotFoundError
from replay.history import RunNotPrunableError as RunNotPrunableError
from replay.history import SearchAttributeError as SearchAttributeError
from replay.history import StaleResultError as StaleResultError
from replay.history import StoreCorruptError as StoreCorruptError
from replay.history import StoreError as StoreError
from replay.history import StoreNotEmptyError as StoreNotEmptyError
from replay.history import StoreUnavailableError as StoreUnavailableError

from ._client._async_activity import AsyncActivityCancelledError as AsyncActivityCancelledError
from ._client._async_activity import AsyncActivityNotFoundError as AsyncActivityNotFoundError
from ._client._async_activity import InvalidTaskTokenError as InvalidTaskTokenError
from ._client._errors import UnsupportedTargetError as UnsupportedTargetError
from ._client._errors import WorkflowAlreadyStartedError as WorkflowAlreadyStartedError
from ._client._errors import WorkflowClosedError as WorkflowClosedError
from ._client._errors import WorkflowFailureError as WorkflowFailureError
from ._client._errors import WorkflowNotFoundError as WorkflowNotFoundError
from ._client._errors import WorkflowQueryFailedError as WorkflowQueryFailedError
from ._client._errors import WorkflowQueryRejectedError as WorkflowQueryRejectedError
from ._client._errors import WorkflowUpdateFailedError as WorkflowUpdateFailedError
from ._client._handle_errors import WorkflowContinuedAsNewError as WorkflowContinuedAsNewError
from ._client._registry_errors import ArgumentCountError as ArgumentCountError
from ._client._registry_errors import ArgumentTypeError as ArgumentTypeError
from ._client._registry_errors import UnknownHandlerError as UnknownHandlerError
from ._client._registry_errors import (
    WorkflowTypeNotRegisteredError as WorkflowTypeNotRegisteredError,
)
from ._client._run_context import RunContextError as RunContextError
from ._client._schedules import ScheduleAlreadyRunningError as ScheduleAlreadyRunningError
from ._client._schedules import ScheduleNotFoundError as ScheduleNotFoundError
from ._core._cron import InvalidCronError as InvalidCronError
from ._core._data_converter import UnsupportedConverterError as UnsupportedConverterError
from ._core._exceptions import ActivityError as ActivityError
from ._core._exceptions import ApplicationError as ApplicationError
from ._core._exceptions import ApplicationErrorCategory as ApplicationErrorCategory
from ._core._exceptions import CancelledError as CancelledError
from ._core._exceptions import ChildWorkflowError as ChildWorkflowError
from ._core._exceptions import DebuggerNotReadyError as DebuggerNotReadyError
from ._core._exceptions import DeterminismViolation as DeterminismViolation
from ._core._exceptions import FailureError as FailureError
from ._core._exceptions import ForeignHistoryError as ForeignHistoryError
from ._core._exceptions import NondeterminismError as NondeterminismError
from ._core._exceptions import NoReplayedWorkflowError as NoReplayedWorkflowError
from ._core._exceptions import QueryFailedError as QueryFailedError
from ._core._exceptions import ReadOnlyContextError as ReadOnlyContextError
from ._core._exceptions import TerminatedError as TerminatedError
from ._core._exceptions import TimeoutError as TimeoutError
from ._core._exceptions import UnknownQueryError as UnknownQueryError
from ._core._exceptions import UnorderedTasksError as UnorderedTasksError
from ._core._exceptions import WorkflowDefinitionError as WorkflowDefinitionError
from ._core._exceptions import WorkflowLoopError as WorkflowLoopError
from ._core._exceptions import WorkflowTaskError as WorkflowTaskError
from ._core._runtime import NotInWorkflowError as NotInWorkflowError
from ._replay._queries import QueryUnavailableError as QueryUnavailableError
from ._replay._sandbox_hooks import RestrictedCallError as RestrictedCallError
from ._worker._activity_ctx import NotInActivityError as NotInActivityError
from ._worker._process_pool import ProcessPoolInterceptorsError as ProcessPoolInterceptorsError
from ._worker._process_pool import (
    ProcessPoolNeedsSharedStateError as ProcessPoolNeedsSharedStateError,
)
from ._worker._process_pool import UnpicklableActivityError as UnpicklableActivityError
from ._worker._store_io import StoreCallLimitError as StoreCallLimitError

__all__ = [
    "ActivityError",
    "AppendConflictError",
    "ApplicationError",
    "ApplicationErrorCategory",
    "ArgumentCountError",
    "ArgumentTypeError",
    "AsyncActivityCancelledError",
    "AsyncActivityNotFoundError",
    "CancelledError",
    "ChildWorkflowError",
    "DebuggerNotReadyError",
    "DeterminismViolation",
    "EncodedPayloadError",
    "FailureError",
    "ForeignHistoryError",
    "HistoryError",
    "InternalError",
    "InvalidCronError",
    "InvalidTaskTokenError",
    "ListQueryAttributeError",
    "ListQueryError",
    "NoReplayedWorkflowError",
    "NondeterminismError",
    "NotInActivityError",
    "NotInWorkflowError",
    "PayloadCodecError",
    "PayloadError",
    "ProcessPoolInterceptorsError",
    "ProcessPoolNeedsSharedStateError",
    "QueryFailedError",
    "QueryUnavailableError",
    "ReadOnlyContextError",
    "ReplayError",
    "ReservedPayloadKeyError",
    "RestrictedCallError",
    "RunAlreadyExistsError",
    "RunClosedError",
    "RunContextError",
    "RunNotFoundError",
    "RunNotPrunableError",
    "ScheduleAlreadyRunningError",
    "ScheduleNotFoundError",
    "SearchAttributeError",
    "StaleResultError",
    "StoreCallLimitError",
    "StoreCorruptError",
    "StoreError",
    "StoreNotEmptyError",
    "StoreUnavailableError",
    "TerminatedError",
    "TimeoutError",
    "UnknownHandlerError",
    "UnknownQueryError",
    "UnorderedTasksError",
    "UnpicklableActivityError",
    "UnsupportedConverterError",
    "UnsupportedTargetError",
    "WorkflowAlreadyStartedError",
    "WorkflowClosedError",
    "WorkflowContinuedAsNewError",
    "WorkflowDefinitionError",
    "WorkflowFailureError",
    "WorkflowLoopError",
    "WorkflowNotFoundError",
    "WorkflowQueryFailedError",
    "WorkflowQueryRejectedError",
    "WorkflowTaskError",
    "WorkflowTypeNotRegisteredError",
    "WorkflowUpdateFailedError",
]



# The errors defined in the engine's private modules have their home here; the history
# layer's keep theirs (replay.history).
for _name in __all__:
    _cls = globals()[_name]
    if _cls.__module__.startswith("replay._"):
        _cls.__module__ = __name__
del _name, _cls
