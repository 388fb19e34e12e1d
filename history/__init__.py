"""history: the event-sourcing layer (events, codec, History files, stores).

``PostgresStore`` is loaded on first use (``history.PostgresStore``, ``from history
import PostgresStore`` or a ``postgresql://`` URL), so a program on SQLite or memory
never imports psycopg.
"""

import typing as _typing

from ._codec import PayloadConverter as PayloadConverter
from ._codec import default_converter as default_converter
from ._codec import event_from_data as event_from_data
from ._codec import event_to_data as event_to_data
from ._codec_store import CodecStore as CodecStore
from ._copy import CopiedRun as CopiedRun
from ._copy import StoreNotEmptyError as StoreNotEmptyError
from ._copy import copy_store as copy_store
from ._errors import AppendConflictError as AppendConflictError
from ._errors import HistoryError as HistoryError
from ._errors import InternalError as InternalError
from ._errors import PayloadError as PayloadError
from ._errors import ReplayError as ReplayError
from ._errors import RunNotFoundError as RunNotFoundError
from ._errors import StoreCorruptError as StoreCorruptError
from ._errors import StoreError as StoreError
from ._errors import StoreUnavailableError as StoreUnavailableError
from ._events import ActivityCanceled as ActivityCanceled
from ._events import ActivityCancelRequested as ActivityCancelRequested
from ._events import ActivityCompleted as ActivityCompleted
from ._events import ActivityFailed as ActivityFailed
from ._events import ActivityScheduled as ActivityScheduled
from ._events import ActivityTimedOut as ActivityTimedOut
from ._events import CancelRequested as CancelRequested
from ._events import ChildWorkflowCanceled as ChildWorkflowCanceled
from ._events import ChildWorkflowCompleted as ChildWorkflowCompleted
from ._events import ChildWorkflowFailed as ChildWorkflowFailed
from ._events import ChildWorkflowStarted as ChildWorkflowStarted
from ._events import Event as Event
from ._events import EventEmitted as EventEmitted
from ._events import ExternalSignalDelivered as ExternalSignalDelivered
from ._events import ExternalSignalFailed as ExternalSignalFailed
from ._events import ExternalSignalSent as ExternalSignalSent
from ._events import Failure as Failure
from ._events import JsonValue as JsonValue
from ._events import MarkerRecorded as MarkerRecorded
from ._events import RetryPolicyData as RetryPolicyData
from ._events import SearchAttributesUpserted as SearchAttributesUpserted
from ._events import SignalReceived as SignalReceived
from ._events import TimerCanceled as TimerCanceled
from ._events import TimerFired as TimerFired
from ._events import TimerStarted as TimerStarted
from ._events import UpdateAccepted as UpdateAccepted
from ._events import UpdateCompleted as UpdateCompleted
from ._events import WorkflowCanceled as WorkflowCanceled
from ._events import WorkflowCompleted as WorkflowCompleted
from ._events import WorkflowContinuedAsNew as WorkflowContinuedAsNew
from ._events import WorkflowFailed as WorkflowFailed
from ._events import WorkflowStarted as WorkflowStarted
from ._events import WorkflowTaskCompleted as WorkflowTaskCompleted
from ._events import WorkflowTaskFailed as WorkflowTaskFailed
from ._events import WorkflowTerminated as WorkflowTerminated
from ._events import WorkflowTimedOut as WorkflowTimedOut
from ._history import History as History
from ._history import validate_events as validate_events
from ._kinds import COMMAND_KINDS as COMMAND_KINDS
from ._kinds import EVENT_KINDS as EVENT_KINDS
from ._kinds import INPUT_KINDS as INPUT_KINDS
from ._kinds import REFERENCES as REFERENCES
from ._kinds import RUN_STATUSES as RUN_STATUSES
from ._kinds import SKIPPED_KINDS as SKIPPED_KINDS
from ._kinds import TERMINAL_KINDS as TERMINAL_KINDS
from ._kinds import TERMINAL_STATUS as TERMINAL_STATUS
from ._kinds import AnyEvent as AnyEvent
from ._limits import MAX_FAILURE_CHAIN as MAX_FAILURE_CHAIN
from ._limits import MAX_PAYLOAD_DEPTH as MAX_PAYLOAD_DEPTH
from ._memory import MemoryStore as MemoryStore
from ._open import store_from_url as store_from_url
from ._payload import ENVELOPE_KEY as ENVELOPE_KEY
from ._payload import EncodedPayloadError as EncodedPayloadError
from ._payload import Payload as Payload
from ._payload import ReservedPayloadKeyError as ReservedPayloadKeyError
from ._payload import data_to_payload as data_to_payload
from ._payload import envelope_summary as envelope_summary
from ._payload import is_envelope as is_envelope
from ._payload import payload_to_data as payload_to_data
from ._payload_codec import CodecRunner as CodecRunner
from ._payload_codec import PayloadCodec as PayloadCodec
from ._payload_codec import PayloadCodecError as PayloadCodecError
from ._payload_codec import decode_history as decode_history
from ._payload_codec import decode_payloads as decode_payloads
from ._payload_codec import encode_payloads as encode_payloads
from ._query_channel import QueryChannel as QueryChannel
from ._query_channel import QueryRequest as QueryRequest
from ._registry import ActivityRegistration as ActivityRegistration
from ._registry import HandlerSignature as HandlerSignature
from ._registry import WorkflowRegistration as WorkflowRegistration
from ._registry import WorkflowSignature as WorkflowSignature
from ._retention import PrunedRun as PrunedRun
from ._retention import PruningStore as PruningStore
from ._retention import prune_closed_runs as prune_closed_runs
from ._search_build import list_query as list_query
from ._search_build import query_literal as query_literal
from ._search_query import ListQueryAttributeError as ListQueryAttributeError
from ._search_query import ListQueryError as ListQueryError
from ._search_values import BUILTIN_ATTRIBUTES as BUILTIN_SEARCH_ATTRIBUTES
from ._search_values import SEARCH_ATTRIBUTE_TYPES as SEARCH_ATTRIBUTE_TYPES
from ._search_values import SearchAttributeError as SearchAttributeError
from ._search_values import check_name as check_search_attribute_name
from ._search_values import decode as decode_search_attribute
from ._search_values import encode as encode_search_attribute
from ._sqlite import SqliteStore as SqliteStore
from ._sqlite_retention import RunNotPrunableError as RunNotPrunableError
from ._store import ActivityTask as ActivityTask
from ._store import Append as Append
from ._store import Deliver as Deliver
from ._store import DueTimer as DueTimer
from ._store import LeaseActivity as LeaseActivity
from ._store import Operation as Operation
from ._store import PendingActivity as PendingActivity
from ._store import RecordTaskFailure as RecordTaskFailure
from ._store import RequestUpdate as RequestUpdate
from ._store import RunAlreadyExistsError as RunAlreadyExistsError
from ._store import RunClosedError as RunClosedError
from ._store import RunCloseWaits as RunCloseWaits
from ._store import RunInfo as RunInfo
from ._store import StaleResultError as StaleResultError
from ._store import Start as Start
from ._store import Store as Store
from ._store import UpdateRequest as UpdateRequest
from ._store import WorkflowTask as WorkflowTask
from ._workers import WorkerHeartbeats as WorkerHeartbeats

if _typing.TYPE_CHECKING:
    from ._postgres import PostgresStore as PostgresStore

_LAZY = ("PostgresStore",)


def __getattr__(name: str) -> _typing.Any:
    if name == "PostgresStore":
        from ._postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "ActivityCancelRequested",
    "ActivityCanceled",
    "ActivityCompleted",
    "ActivityFailed",
    "ActivityRegistration",
    "ActivityScheduled",
    "ActivityTask",
    "ActivityTimedOut",
    "AnyEvent",
    "Append",
    "AppendConflictError",
    "BUILTIN_SEARCH_ATTRIBUTES",
    "COMMAND_KINDS",
    "CancelRequested",
    "ChildWorkflowCanceled",
    "ChildWorkflowCompleted",
    "ChildWorkflowFailed",
    "ChildWorkflowStarted",
    "CodecRunner",
    "CodecStore",
    "CopiedRun",
    "Deliver",
    "DueTimer",
    "ENVELOPE_KEY",
    "EVENT_KINDS",
    "EncodedPayloadError",
    "Event",
    "EventEmitted",
    "ExternalSignalDelivered",
    "ExternalSignalFailed",
    "ExternalSignalSent",
    "Failure",
    "HandlerSignature",
    "History",
    "HistoryError",
    "INPUT_KINDS",
    "InternalError",
    "JsonValue",
    "LeaseActivity",
    "ListQueryAttributeError",
    "ListQueryError",
    "MAX_FAILURE_CHAIN",
    "MAX_PAYLOAD_DEPTH",
    "MarkerRecorded",
    "MemoryStore",
    "Operation",
    "Payload",
    "PayloadCodec",
    "PayloadCodecError",
    "PayloadConverter",
    "PayloadError",
    "PendingActivity",
    "PostgresStore",
    "PrunedRun",
    "PruningStore",
    "QueryChannel",
    "QueryRequest",
    "REFERENCES",
    "RUN_STATUSES",
    "RecordTaskFailure",
    "ReplayError",
    "RequestUpdate",
    "ReservedPayloadKeyError",
    "RetryPolicyData",
    "RunAlreadyExistsError",
    "RunCloseWaits",
    "RunClosedError",
    "RunInfo",
    "RunNotFoundError",
    "RunNotPrunableError",
    "SEARCH_ATTRIBUTE_TYPES",
    "SKIPPED_KINDS",
    "SearchAttributeError",
    "SearchAttributesUpserted",
    "SignalReceived",
    "SqliteStore",
    "StaleResultError",
    "Start",
    "Store",
    "StoreCorruptError",
    "StoreError",
    "StoreNotEmptyError",
    "StoreUnavailableError",
    "TERMINAL_KINDS",
    "TERMINAL_STATUS",
    "TimerCanceled",
    "TimerFired",
    "TimerStarted",
    "UpdateAccepted",
    "UpdateCompleted",
    "UpdateRequest",
    "WorkerHeartbeats",
    "WorkflowCanceled",
    "WorkflowCompleted",
    "WorkflowContinuedAsNew",
    "WorkflowFailed",
    "WorkflowRegistration",
    "WorkflowSignature",
    "WorkflowStarted",
    "WorkflowTask",
    "WorkflowTaskCompleted",
    "WorkflowTaskFailed",
    "WorkflowTerminated",
    "WorkflowTimedOut",
    "check_search_attribute_name",
    "copy_store",
    "data_to_payload",
    "decode_history",
    "decode_payloads",
    "decode_search_attribute",
    "default_converter",
    "encode_payloads",
    "encode_search_attribute",
    "envelope_summary",
    "event_from_data",
    "event_to_data",
    "is_envelope",
    "list_query",
    "payload_to_data",
    "prune_closed_runs",
    "query_literal",
    "store_from_url",
    "validate_events",
]
