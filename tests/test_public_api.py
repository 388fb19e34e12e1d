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
    "replay.workflow": [
        "ActivityCancellationType", "ActivityHandle", "ChildWorkflowHandle", "ContinueAsNewError",
        "ExternalWorkflowHandle", "HandlerUnfinishedPolicy", "NotInWorkflowError",
        "ParentClosePolicy", "ParentInfo",
        "WorkflowDefinition", "WorkflowInfo", "all_handlers_finished", "as_completed",
        "continue_as_new", "defn", "deprecate_patch", "emit", "execute_activity",
        "execute_activity_method", "execute_child_workflow", "execute_local_activity",
        "execute_local_activity_method", "get_dynamic_query_handler",
        "get_dynamic_signal_handler", "get_dynamic_update_handler",
        "get_external_workflow_handle", "get_external_workflow_handle_for", "get_query_handler",
        "get_signal_handler", "get_update_handler", "info", "init", "logger", "memo",
        "memo_value", "now", "patched", "payload_converter", "query", "random", "run",
        "set_dynamic_query_handler", "set_dynamic_signal_handler", "set_dynamic_update_handler",
        "set_query_handler", "set_signal_handler", "set_update_handler", "signal", "sleep",
        "start_activity", "start_activity_method", "start_child_workflow", "start_local_activity",
        "start_local_activity_method", "time", "unsafe", "update", "uuid4", "wait",
        "wait_condition",
    ],
    "replay.activity": [
        "ActivityDefinition", "ActivityInfo", "NotInActivityError", "defn", "heartbeat", "info",
        "is_cancelled", "logger", "payload_converter", "raise_complete_async",
    ],
    "replay.client": [
        "AsyncActivityCancelledError", "AsyncActivityHandle", "AsyncActivityNotFoundError",
        "CancelWorkflowInput", "Client", "DescribeWorkflowInput", "Interceptor",
        "OutboundInterceptor", "PendingActivityInfo", "PendingActivityState",
        "QueryRejectCondition", "QueryWorkflowInput", "SignalWorkflowInput", "StartWorkflowInput",
        "StartWorkflowUpdateInput", "StreamedEvent", "TerminateWorkflowInput",
        "UnsupportedTargetError", "WithStartWorkflowOperation", "WorkflowAlreadyStartedError",
        "WorkflowClosedError",
        "WorkflowExecution", "WorkflowExecutionCount", "WorkflowExecutionDescription",
        "WorkflowExecutionStatus", "WorkflowFailureError", "WorkflowHandle",
        "WorkflowNotFoundError", "WorkflowQueryFailedError", "WorkflowQueryRejectedError",
        "WorkflowTaskFailure", "WorkflowUpdateFailedError", "WorkflowUpdateHandle",
        "WorkflowUpdateStage",
    ],
    "replay.worker": [
        "ActivityInboundInterceptor", "ActivityOutboundInterceptor", "ContinueAsNewInput",
        "ExecuteActivityInput", "ExecuteWorkflowInput", "HandleQueryInput", "HandleSignalInput",
        "HandleUpdateInput", "Interceptor", "Replayer", "SharedStateManager",
        "SignalChildWorkflowInput",
        "SignalExternalWorkflowInput", "StartActivityInput", "StartChildWorkflowInput", "Worker",
        "WorkflowInboundInterceptor", "WorkflowInterceptorClassInput",
        "WorkflowOutboundInterceptor", "WorkflowReplayResult", "WorkflowReplayResults",
    ],
    "replay.common": [
        "ActivityCancellationType", "RawValue", "RetryPolicy", "WorkflowIDConflictPolicy",
        "WorkflowIDReusePolicy",
    ],
    "replay.debug": [
        "Breakpoint", "BreakpointError", "CommandLines", "Debugger", "Divergence", "StackFrame",
        "Stop", "TaskStack",
    ],
    "replay.exceptions": [
        "ActivityError", "AppendConflictError", "ApplicationError", "ApplicationErrorCategory",
        "AsyncActivityCancelledError", "AsyncActivityNotFoundError", "CancelledError", "ChildWorkflowError", "DebuggerNotReadyError", "DeterminismViolation",
        "FailureError", "ForeignHistoryError", "HistoryError", "InternalError",
        "InvalidTaskTokenError", "NoReplayedWorkflowError", "NondeterminismError", "NotInActivityError",
        "NotInWorkflowError", "PayloadError", "ProcessPoolNeedsSharedStateError",
        "QueryFailedError", "QueryUnavailableError",
        "ReadOnlyContextError", "ReplayError", "RestrictedCallError", "RunAlreadyExistsError",
        "RunClosedError", "RunNotFoundError", "RunNotPrunableError", "StaleResultError",
        "StoreCorruptError", "StoreError", "StoreNotEmptyError", "StoreUnavailableError",
        "TerminatedError", "TimeoutError", "UnknownQueryError", "UnorderedTasksError",
        "UnpicklableActivityError", "UnsupportedTargetError", "WorkflowAlreadyStartedError",
        "WorkflowClosedError",
        "WorkflowDefinitionError", "WorkflowFailureError", "WorkflowLoopError",
        "WorkflowNotFoundError", "WorkflowQueryFailedError", "WorkflowQueryRejectedError",
        "WorkflowTaskError", "WorkflowUpdateFailedError",
    ],
    "replay.testing": [
        "Activate", "ActivityEnvironment", "ActivityOutcome", "Cancel", "ChildOutcome", "Crash", "DeterminismReport",
        "DeterminismViolation", "ExternalSignalOutcome", "FireTimer", "Query", "Signal",
        "SkipTime", "Step", "Update", "UpdateOutcome", "WorkflowDriver", "WorkflowEnvironment",
        "check_determinism", "format_schedule", "handler_args", "schedules", "steps",
    ],
    "replay.history": [
        "ActivityCancelRequested", "ActivityCanceled", "ActivityCompleted", "ActivityFailed",
        "ActivityScheduled", "ActivityTask", "ActivityTimedOut", "AnyEvent", "Append",
        "AppendConflictError", "COMMAND_KINDS", "CancelRequested", "ChildWorkflowCanceled",
        "ChildWorkflowCompleted", "ChildWorkflowFailed", "ChildWorkflowStarted", "CopiedRun",
        "Deliver", "DueTimer", "EVENT_KINDS", "Event", "EventEmitted", "ExternalSignalDelivered",
        "ExternalSignalFailed", "ExternalSignalSent", "Failure", "History", "HistoryError",
        "INPUT_KINDS", "InternalError", "JsonValue", "LeaseActivity", "MarkerRecorded",
        "MemoryStore", "Operation", "PayloadConverter", "PayloadError", "PendingActivity",
        "PostgresStore", "PrunedRun", "PruningStore", "QueryChannel", "QueryRequest",
        "REFERENCES", "RUN_STATUSES", "RecordTaskFailure", "ReplayError", "RequestUpdate",
        "RetryPolicyData",
        "RunAlreadyExistsError", "RunClosedError", "RunInfo", "RunNotFoundError",
        "RunNotPrunableError", "SKIPPED_KINDS", "SignalReceived", "SqliteStore",
        "StaleResultError", "Start", "Store", "StoreCorruptError", "StoreError",
        "StoreNotEmptyError", "StoreUnavailableError", "TERMINAL_KINDS", "TERMINAL_STATUS",
        "TimerCanceled", "TimerFired", "TimerStarted", "UpdateAccepted", "UpdateCompleted",
        "UpdateRequest", "WorkerHeartbeats", "WorkflowCanceled", "WorkflowCompleted",
        "WorkflowContinuedAsNew", "WorkflowFailed", "WorkflowStarted", "WorkflowTask",
        "WorkflowTaskCompleted", "WorkflowTaskFailed", "WorkflowTerminated", "WorkflowTimedOut",
        "copy_store", "default_converter", "event_from_data", "event_to_data",
        "prune_closed_runs", "store_from_url", "validate_events",
    ],
    "replay.sandbox": [
        "Finding", "GuardContext", "Mode", "RULES", "RestrictedCallError", "Rule", "Violation",
        "current", "format_json", "format_text", "guard_module", "guarded", "install",
        "lint_main", "lint_paths", "unrestricted",
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
