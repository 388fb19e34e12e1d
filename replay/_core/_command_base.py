"""The base of every command, and how a command is matched and shown.

A command knows the event it becomes and which of that event's fields identify
it on replay (``KEY_FIELDS``); errors and the debugger show commands and
recorded events alike as ``Kind(key=value, ...)``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from replay.history import (
    ActivityCancelRequested,
    ActivityScheduled,
    ChildWorkflowStarted,
    Event,
    EventEmitted,
    ExternalSignalSent,
    MarkerRecorded,
    SearchAttributesUpserted,
    TimerCanceled,
    TimerStarted,
    UpdateAccepted,
    UpdateCompleted,
    WorkflowCanceled,
    WorkflowCompleted,
    WorkflowContinuedAsNew,
    WorkflowFailed,
)

KEY_FIELDS: dict[type[Event], tuple[str, ...]] = {
    ActivityScheduled: ("activity_type",),
    ActivityCancelRequested: ("scheduled_event_id",),
    TimerStarted: ("duration",),
    TimerCanceled: ("started_event_id",),
    ChildWorkflowStarted: ("workflow_type", "workflow_id"),
    ExternalSignalSent: ("workflow_id", "signal_name"),
    MarkerRecorded: ("name", "marker_id"),
    UpdateAccepted: ("update_id", "name"),
    UpdateCompleted: ("update_id",),
    EventEmitted: (),
    SearchAttributesUpserted: ("search_attributes",),
    WorkflowCompleted: (),
    WorkflowFailed: (),
    WorkflowCanceled: (),
    WorkflowContinuedAsNew: ("workflow_type",),
}
"""The fields that must agree between a recorded command event and the code's command."""


def describe_event(event: Event) -> str:
    """``Kind(key=value, ...)`` for a recorded command event, as errors show it."""
    keys = KEY_FIELDS.get(type(event), ())
    inner = ", ".join(f"{k}={_show(getattr(event, k))}" for k in keys)
    return f"{type(event).__name__}({inner})"


def _show(value: Any) -> str:
    if isinstance(value, timedelta):
        return f"{value.total_seconds():g}s"
    return repr(value)


class Command:
    """Base: a command issued by workflow code during one activation."""

    __slots__ = ("event_id", "location")
    event_type: ClassVar[type[Event]]
    key_attributes: ClassVar[bool] = False
    """True if each key field (``KEY_FIELDS``) is an attribute of the command, of the same
    name, holding the value ``fields()`` gives the field: ``matches`` then reads those
    attributes instead of building every field."""

    def __init__(self) -> None:
        self.event_id = 0
        self.location: tuple[str, int] | None = None

    def fields(self) -> dict[str, Any]:
        """The kind-specific fields of the event this command becomes."""
        raise NotImplementedError

    def to_event(self, event_id: int, time: datetime) -> Event:
        return self.event_type(event_id=event_id, time=time, **self.fields())

    def matches(self, event: Event) -> bool:
        if type(event) is not self.event_type:
            return False
        keys = KEY_FIELDS[self.event_type]
        if not keys:
            return True
        if self.key_attributes:
            # a plain loop: all() over a generator costs a frame per call, and replay
            # matches every command
            for k in keys:  # noqa: SIM110
                if getattr(event, k) != getattr(self, k):
                    return False
            return True
        mine = self.fields()
        return all(getattr(event, k) == mine[k] for k in keys)

    def describe(self) -> str:
        mine = self.fields()
        inner = ", ".join(f"{k}={_show(mine[k])}" for k in KEY_FIELDS[self.event_type])
        return f"{self.event_type.__name__}({inner})"

    def resolve(self, event: Event) -> None:
        """Deliver a result event referring to this command."""
