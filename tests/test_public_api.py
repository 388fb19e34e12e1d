"""The public surface, pinned: adding or removing a public name is a visible decision.

Each public module's ``__all__`` must equal the list here (and be sorted, complete
and free of private names: tests/replay/test_exported_members.py). To change the
surface, change this file in the same commit and say why in its message.
"""

from __future__ import annotations

import importlib

import pytest

PUBLIC: dict[str, list[str]] = {
    "replay": [
        "activity", "common", "exceptions", "workflow",
    ],
    "replay.activity": [
        "ActivityDefinition", "ActivityInfo", "NotInActivityError", "defn", "heartbeat",
        "info", "is_cancelled", "is_worker_shutdown", "logger", "payload_converter",
        "raise_complete_async",
    ],
    "replay.client": [
        "ArgumentCountError", "ArgumentTypeError", "AsyncActivityCancelledError",
        "AsyncActivityHandle", "AsyncActivityNotFoundError", "CancelWorkflowInput",
        "Client", "ClientConfig", "DescribeWorkflowInput", "Interceptor", "InternalEvent",
        "OutboundInterceptor", "PendingActivityInfo", "PendingActivityState",
        "QueryRejectCondition", "QueryWorkflowInput", "RunContext", "RunContextError",
        "Schedule", "ScheduleActionExecutionStartWorkflow", "ScheduleActionResult",
        "ScheduleActionStartWorkflow", "ScheduleAlreadyRunningError", "ScheduleBackfill",
        "ScheduleDescription", "ScheduleHandle", "ScheduleInfo", "ScheduleIntervalSpec",
        "ScheduleListDescription", "ScheduleNotFoundError", "ScheduleOverlapPolicy",
        "SchedulePolicy", "ScheduleSpec", "ScheduleState", "ScheduleUpdate",
        "ScheduleUpdateInput", "SignalWorkflowInput", "StartWorkflowInput",
        "StartWorkflowUpdateInput", "StateView", "StopEvent", "StreamedEvent",
        "TerminateWorkflowInput", "UnknownHandlerError", "UnsupportedTargetError",
        "WithStartWorkflowOperation", "WorkflowAlreadyStartedError", "WorkflowClosedError",
        "WorkflowContinuedAsNewError", "WorkflowExecution",
        "WorkflowExecutionAsyncIterator", "WorkflowExecutionCount",
        "WorkflowExecutionDescription", "WorkflowExecutionStatus", "WorkflowFailureError",
        "WorkflowHandle", "WorkflowNotFoundError", "WorkflowQueryFailedError",
        "WorkflowQueryRejectedError", "WorkflowTaskFailure",
        "WorkflowTypeNotRegisteredError", "WorkflowUpdateFailedError",
        "WorkflowUpdateHandle", "WorkflowUpdateStage",
    ],
    "replay.common": [
        "ActivityCancellationType", "RawValue", "RetryPolicy",
        "SearchAttributeIndexedValueType", "SearchAttributeKey", "SearchAttributePair",
        "SearchAttributeUpdate", "TypedSearchAttributes", "WorkflowIDConflictPolicy",
        "WorkflowIDReusePolicy",
    ],
    "replay.contrib.opentelemetry": [
        "HEADER", "OpenTelemetryMetrics", "PrometheusEndpoint", "TracingInterceptor",
        "serve_prometheus",
    ],
    "replay.contrib.pydantic": [
        "PydanticJSONPlainPayloadConverter", "PydanticPayloadConverter",
        "pydantic_data_converter",
    ],
    "replay.converter": [
        "BinaryNullPayloadConverter", "BinaryPlainPayloadConverter",
        "CompositePayloadConverter", "DataConverter", "DefaultFailureConverter",
        "DefaultPayloadConverter", "EncodingPayloadConverter", "FailureConverter",
        "JSONPlainPayloadConverter", "Payload", "PayloadCodec", "PayloadConverter",
        "default",
    ],
    "replay.debug": [
        "Breakpoint", "BreakpointError", "CommandLines", "Debugger", "Divergence",
        "StackFrame", "Stop", "TaskStack",
    ],
    "replay.exceptions": [
        "ActivityError", "AppendConflictError", "ApplicationError",
        "ApplicationErrorCategory", "ArgumentCountError", "ArgumentTypeError",
        "AsyncActivityCancelledError", "AsyncActivityNotFoundError", "CancelledError",
        "ChildWorkflowError", "DebuggerNotReadyError", "DeterminismViolation",
        "EncodedPayloadError", "FailureError", "ForeignHistoryError", "HistoryError",
        "InternalError", "InvalidCronError", "InvalidTaskTokenError",
        "ListQueryAttributeError", "ListQueryError", "NoReplayedWorkflowError",
        "NondeterminismError", "NotInActivityError", "NotInWorkflowError",
        "PayloadCodecError", "PayloadError", "ProcessPoolInterceptorsError",
        "ProcessPoolNeedsSharedStateError", "QueryFailedError", "QueryUnavailableError",
        "ReadOnlyContextError", "ReplayError", "ReservedPayloadKeyError",
        "RestrictedCallError", "RunAlreadyExistsError", "RunClosedError", "RunContextError",
        "RunNotFoundError", "RunNotPrunableError", "ScheduleAlreadyRunningError",
        "ScheduleNotFoundError", "SearchAttributeError", "StaleResultError", "StoreCallLimitError",
        "StoreCorruptError", "StoreError", "StoreNotEmptyError", "StoreUnavailableError",
        "TerminatedError", "TimeoutError", "UnknownHandlerError", "UnknownQueryError",
        "UnorderedTasksError", "UnpicklableActivityError", "UnsupportedConverterError",
        "UnsupportedTargetError", "WorkflowAlreadyStartedError", "WorkflowClosedError",
        "WorkflowContinuedAsNewError", "WorkflowDefinitionError", "WorkflowFailureError",
        "WorkflowLoopError", "WorkflowNotFoundError", "WorkflowQueryFailedError",
        "WorkflowQueryRejectedError", "WorkflowTaskError", "WorkflowTypeNotRegisteredError",
        "WorkflowUpdateFailedError",
    ],
    "replay.history": [
        "ActivityCancelRequested", "ActivityCanceled", "ActivityCompleted",
        "ActivityFailed", "ActivityRegistration", "ActivityScheduled", "ActivityTask",
        "ActivityTimedOut", "AnyEvent", "Append", "AppendConflictError",
        "BUILTIN_SEARCH_ATTRIBUTES", "COMMAND_KINDS", "CancelRequested",
        "ChildWorkflowCanceled", "ChildWorkflowCompleted", "ChildWorkflowFailed",
        "ChildWorkflowStarted", "CodecRunner", "CodecStore", "CopiedRun", "Deliver",
        "DueTimer", "ENVELOPE_KEY", "EVENT_KINDS", "EncodedPayloadError", "Event",
        "EventEmitted", "ExternalSignalDelivered", "ExternalSignalFailed",
        "ExternalSignalSent", "Failure", "HandlerSignature", "History", "HistoryError",
        "INPUT_KINDS", "InternalError", "JsonValue", "LeaseActivity",
        "ListQueryAttributeError", "ListQueryError", "MAX_FAILURE_CHAIN", "MAX_PAYLOAD_DEPTH",
        "MarkerRecorded", "MemoryStore",
        "Operation", "Payload", "PayloadCodec", "PayloadCodecError", "PayloadConverter",
        "PayloadError", "PendingActivity", "PostgresStore", "PrunedRun", "PruningStore",
        "QueryChannel", "QueryRequest", "REFERENCES", "RUN_STATUSES", "RecordTaskFailure",
        "ReplayError", "RequestUpdate", "ReservedPayloadKeyError", "RetryPolicyData",
        "RunAlreadyExistsError", "RunCloseWaits", "RunClosedError", "RunInfo",
        "RunNotFoundError", "RunNotPrunableError", "SEARCH_ATTRIBUTE_TYPES",
        "SKIPPED_KINDS", "SearchAttributeError", "SearchAttributesUpserted",
        "SignalReceived", "SqliteStore", "StaleResultError", "Start", "Store",
        "StoreCorruptError", "StoreError", "StoreNotEmptyError", "StoreUnavailableError",
        "TERMINAL_KINDS", "TERMINAL_STATUS", "TimerCanceled", "TimerFired", "TimerStarted",
        "UpdateAccepted", "UpdateCompleted", "UpdateRequest", "WorkerHeartbeats",
        "WorkflowCanceled", "WorkflowCompleted", "WorkflowContinuedAsNew", "WorkflowFailed",
        "WorkflowRegistration", "WorkflowSignature", "WorkflowStarted", "WorkflowTask",
        "WorkflowTaskCompleted", "WorkflowTaskFailed", "WorkflowTerminated",
        "WorkflowTimedOut", "check_search_attribute_name", "copy_store", "data_to_payload",
        "decode_history", "decode_payloads", "decode_search_attribute", "default_converter",
        "encode_payloads", "encode_search_attribute", "envelope_summary", "event_from_data",
        "event_to_data", "is_envelope", "list_query", "payload_to_data",
        "prune_closed_runs", "query_literal", "store_from_url", "validate_events",
    ],
    "replay.sandbox": [
        "Finding", "GuardContext", "Mode", "RULES", "RestrictedCallError", "Rule",
        "Violation", "current", "format_json", "format_text", "guard_module", "guarded",
        "install", "lint_main", "lint_paths", "unrestricted",
    ],
    "replay.testing": [
        "Activate", "ActivityEnvironment", "ActivityOutcome", "Cancel", "ChildOutcome",
        "Crash", "DeterminismReport", "DeterminismViolation", "ExternalSignalOutcome",
        "FireTimer", "Query", "Signal", "SkipTime", "Step", "Update", "UpdateOutcome",
        "WorkflowDriver", "WorkflowEnvironment", "check_determinism", "format_schedule",
        "handler_args", "schedules", "steps",
    ],
    "replay.worker": [
        "ActivityInboundInterceptor", "ActivityOutboundInterceptor", "ContinueAsNewInput",
        "ExecuteActivityInput", "ExecuteWorkflowInput", "HandleQueryInput",
        "HandleSignalInput", "HandleUpdateInput", "Interceptor", "Replayer",
        "SharedStateManager", "SignalChildWorkflowInput", "SignalExternalWorkflowInput",
        "StartActivityInput", "StartChildWorkflowInput", "Worker", "WorkerMetrics",
        "WorkflowInboundInterceptor", "WorkflowInterceptorClassInput",
        "WorkflowOutboundInterceptor", "WorkflowReplayResult", "WorkflowReplayResults",
    ],
    "replay.workflow": [
        "ActivityCancellationType", "ActivityHandle", "ChildWorkflowHandle",
        "ContinueAsNewError", "ExternalWorkflowHandle", "HandlerUnfinishedPolicy",
        "NotInWorkflowError", "ParentClosePolicy", "ParentInfo", "WorkflowDefinition",
        "WorkflowInfo", "all_handlers_finished", "as_completed", "continue_as_new", "defn",
        "deprecate_patch", "emit", "execute_activity", "execute_activity_method",
        "execute_child_workflow", "execute_local_activity", "execute_local_activity_method",
        "get_dynamic_query_handler", "get_dynamic_signal_handler",
        "get_dynamic_update_handler", "get_external_workflow_handle",
        "get_external_workflow_handle_for", "get_query_handler", "get_signal_handler",
        "get_update_handler", "info", "init", "logger", "memo", "memo_value", "now",
        "patched", "payload_converter", "query", "random", "run",
        "set_dynamic_query_handler", "set_dynamic_signal_handler",
        "set_dynamic_update_handler", "set_query_handler", "set_signal_handler",
        "set_update_handler", "signal", "sleep", "start_activity", "start_activity_method",
        "start_child_workflow", "start_local_activity", "start_local_activity_method",
        "time", "unsafe", "update", "upsert_search_attributes", "uuid4", "wait",
        "wait_condition",
    ],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_all_is_the_pinned_list(module: str) -> None:
    exported = importlib.import_module(module).__all__
    assert sorted(set(exported) - set(PUBLIC[module])) == [], "names added to the surface"
    assert sorted(set(PUBLIC[module]) - set(exported)) == [], "names removed from the surface"


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_pinned_lists_are_sorted(module: str) -> None:
    assert PUBLIC[module] == sorted(PUBLIC[module])
