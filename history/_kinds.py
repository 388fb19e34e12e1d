"""Tables about event kinds: the registry, the categories and the references.

Kept apart from the classes so that code dispatching on kind reads one table
instead of growing ``if/elif`` chains.
"""

from __future__ import annotations

from typing import TypeAlias

from ._events import (
    ActivityCanceled,
    ActivityCancelRequested,
    ActivityCompleted,
    ActivityFailed,
    ActivityScheduled,
    ActivityTimedOut,
    CancelRequested,
    ChildWorkflowCanceled,
    ChildWorkflowCompleted,
    ChildWorkflowFailed,
    ChildWorkflowStarted,
    Event,
    EventEmitted,
    ExternalSignalDelivered,
    ExternalSignalFailed,
    ExternalSignalSent,
    MarkerRecorded,
    SearchAttributesUpserted,
    SignalReceived,
    TimerCanceled,
    TimerFired,
    TimerStarted,
    UpdateAccepted,
    UpdateCompleted,
    WorkflowCanceled,
    WorkflowCompleted,
    WorkflowContinuedAsNew,
    WorkflowFailed,
    WorkflowStarted,
    WorkflowTaskCompleted,
    WorkflowTaskFailed,
    WorkflowTerminated,
    WorkflowTimedOut,
)

AnyEvent: TypeAlias = (
    WorkflowStarted
    | WorkflowCompleted
    | WorkflowFailed
    | WorkflowCanceled
    | WorkflowTerminated
    | WorkflowContinuedAsNew
    | WorkflowTimedOut
    | CancelRequested
    | WorkflowTaskCompleted
    | WorkflowTaskFailed
    | ActivityScheduled
    | ActivityCancelRequested
    | TimerStarted
    | TimerCanceled
    | ChildWorkflowStarted
    | ExternalSignalSent
    | MarkerRecorded
    | UpdateAccepted
    | UpdateCompleted
    | EventEmitted
    | SearchAttributesUpserted
    | SignalReceived
    | ActivityCompleted
    | ActivityFailed
    | ActivityTimedOut
    | ActivityCanceled
    | TimerFired
    | ChildWorkflowCompleted
    | ChildWorkflowFailed
    | ChildWorkflowCanceled
    | ExternalSignalDelivered
    | ExternalSignalFailed
)
"""Every concrete event class."""

TERMINAL_KINDS: tuple[type[Event], ...] = (
    WorkflowCompleted,
    WorkflowFailed,
    WorkflowCanceled,
    WorkflowTerminated,
    WorkflowContinuedAsNew,
    WorkflowTimedOut,
)
"""Kinds that close a run; nothing may follow one."""

TERMINAL_STATUS: dict[type[Event], str] = {
    WorkflowCompleted: "completed",
    WorkflowFailed: "failed",
    WorkflowCanceled: "canceled",
    WorkflowTerminated: "terminated",
    WorkflowContinuedAsNew: "continued_as_new",
    WorkflowTimedOut: "timed_out",
}
"""The run status each terminal kind sets (a run without one is ``"running"``)."""

RUN_STATUSES: tuple[str, ...] = ("running", *TERMINAL_STATUS.values())
"""Every status a run can have, as the runs index, ``describe()`` and the CLI spell it."""

COMMAND_KINDS: tuple[type[Event], ...] = (
    ActivityScheduled,
    ActivityCancelRequested,
    TimerStarted,
    TimerCanceled,
    ChildWorkflowStarted,
    ExternalSignalSent,
    MarkerRecorded,
    UpdateAccepted,
    UpdateCompleted,
    EventEmitted,
    SearchAttributesUpserted,
    WorkflowCompleted,
    WorkflowFailed,
    WorkflowCanceled,
    WorkflowContinuedAsNew,
)
"""Kinds written by an activation of workflow code (matched on replay)."""

INPUT_KINDS: tuple[type[Event], ...] = (
    WorkflowStarted,
    CancelRequested,
    SignalReceived,
    ActivityCompleted,
    ActivityFailed,
    ActivityTimedOut,
    ActivityCanceled,
    TimerFired,
    ChildWorkflowCompleted,
    ChildWorkflowFailed,
    ChildWorkflowCanceled,
    ExternalSignalDelivered,
    ExternalSignalFailed,
)
"""Kinds delivered to workflow code at the start of an activation."""

SKIPPED_KINDS: tuple[type[Event], ...] = (WorkflowTaskFailed,)
"""Kinds that are neither commands nor inputs: replay matching skips them.

A ``WorkflowTaskFailed`` records an activation that failed and wrote nothing
else, so it sits between activations and workflow code never sees it.
"""

REFERENCES: dict[type[Event], tuple[str, tuple[type[Event], ...]]] = {
    ActivityCancelRequested: ("scheduled_event_id", (ActivityScheduled,)),
    ActivityCompleted: ("scheduled_event_id", (ActivityScheduled,)),
    ActivityFailed: ("scheduled_event_id", (ActivityScheduled,)),
    ActivityTimedOut: ("scheduled_event_id", (ActivityScheduled,)),
    ActivityCanceled: ("scheduled_event_id", (ActivityScheduled,)),
    TimerFired: ("started_event_id", (TimerStarted,)),
    TimerCanceled: ("started_event_id", (TimerStarted,)),
    ChildWorkflowCompleted: ("initiated_event_id", (ChildWorkflowStarted,)),
    ChildWorkflowFailed: ("initiated_event_id", (ChildWorkflowStarted,)),
    ChildWorkflowCanceled: ("initiated_event_id", (ChildWorkflowStarted,)),
    ExternalSignalDelivered: ("initiated_event_id", (ExternalSignalSent,)),
    ExternalSignalFailed: ("initiated_event_id", (ExternalSignalSent,)),
    UpdateCompleted: ("accepted_event_id", (UpdateAccepted,)),
}
"""For each result kind: the field naming its command and the command kinds allowed."""

EVENT_KINDS: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        *INPUT_KINDS,
        *COMMAND_KINDS,
        WorkflowTerminated,
        WorkflowTimedOut,
        WorkflowTaskCompleted,
        WorkflowTaskFailed,
    )
}
"""Registry from kind name (as written in history files) to event class."""

for _name, _cls in EVENT_KINDS.items():
    _cls.kind = _name
