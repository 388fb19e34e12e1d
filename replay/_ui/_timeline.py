"""A run's history as a timeline: commands with a duration as bars, inputs as marks.

A bar opens at a command event that later events refer back to (an activity's
``ActivityScheduled``, a ``TimerStarted``, a ``ChildWorkflowStarted``, an
``UpdateAccepted``, an ``ExternalSignalSent``) and closes at the first event that
names it (``scheduled_event_id``, ``started_event_id``, ``initiated_event_id``,
``accepted_event_id``). The closing event's kind is the bar's outcome; a bar
that nothing closed yet is ``open`` and runs to the timeline's end. Events with
no duration (signals, failed workflow tasks, cancel requests, emitted events,
markers) are marks. The layout is computed here, in plain numbers, so the page
only draws it and a test can check it without a browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from replay.history import (
    ActivityScheduled,
    CancelRequested,
    ChildWorkflowStarted,
    Event,
    EventEmitted,
    ExternalSignalSent,
    MarkerRecorded,
    SignalReceived,
    TimerStarted,
    UpdateAccepted,
    WorkflowTaskFailed,
)

__all__ = ["Bar", "Mark", "Timeline", "build_timeline"]

#: The fields by which a closing event names the command event it closes.
_REFERENCES = ("scheduled_event_id", "started_event_id", "initiated_event_id",
               "accepted_event_id")


@attrs.frozen
class Bar:
    """A command with a duration: from ``start`` (its event) to ``end`` (its outcome's)."""

    kind: str
    label: str
    event_id: int
    start: datetime
    end: datetime
    outcome: str
    closed_by: int | None
    left: float = 0.0
    width: float = 0.0


@attrs.frozen
class Mark:
    """An event with no duration, at ``left`` percent of the timeline."""

    kind: str
    label: str
    event_id: int
    time: datetime
    left: float = 0.0


@attrs.frozen
class Timeline:
    """Bars and marks laid out over ``start``..``end``; positions in percent."""

    start: datetime
    end: datetime
    bars: list[Bar]
    marks: list[Mark]

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def _bar_kind(event: Event) -> tuple[str, str] | None:
    if isinstance(event, ActivityScheduled):
        return "activity", event.activity_type
    if isinstance(event, TimerStarted):
        return "timer", f"timer {event.duration.total_seconds():g}s"
    if isinstance(event, ChildWorkflowStarted):
        return "child", f"{event.workflow_type} {event.workflow_id}"
    if isinstance(event, UpdateAccepted):
        return "update", event.name
    if isinstance(event, ExternalSignalSent):
        return "signal-out", f"signal {event.signal_name} to {event.workflow_id}"
    return None


def _mark_kind(event: Event) -> tuple[str, str] | None:
    if isinstance(event, SignalReceived):
        return "signal", event.signal_name
    if isinstance(event, WorkflowTaskFailed):
        return "task-failed", f"{event.failure.type}: {event.failure.message}"
    if isinstance(event, CancelRequested):
        return "cancel", "cancel requested"
    if isinstance(event, EventEmitted):
        return "emitted", f"event #{event.seq}"
    if isinstance(event, MarkerRecorded):
        return "marker", event.name
    return None


def _outcome(event: Event) -> str:
    """``ActivityTimedOut`` -> ``timed_out``, ``TimerFired`` -> ``fired``..."""
    name = type(event).__name__
    for prefix in ("Activity", "Timer", "ChildWorkflow", "Update", "ExternalSignal"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    out = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
    return out or name.lower()


def build_timeline(events: Sequence[Event], *, now: datetime | None = None) -> Timeline:
    """The timeline of ``events``; open bars run to ``now`` (default: the last event)."""
    if not events:
        moment = now or datetime.fromtimestamp(0)
        return Timeline(moment, moment, [], [])
    start = events[0].time
    end = max(events[-1].time, now) if now is not None else events[-1].time
    opened: dict[int, tuple[Event, str, str]] = {}
    closed: dict[int, Event] = {}
    marks: list[tuple[Event, str, str]] = []
    for event in events:
        bar = _bar_kind(event)
        if bar is not None:
            opened[event.event_id] = (event, *bar)
            continue
        for field in _REFERENCES:
            ref = getattr(event, field, None)
            if isinstance(ref, int) and ref in opened and ref not in closed:
                closed[ref] = event
                break
        else:
            mark = _mark_kind(event)
            if mark is not None:
                marks.append((event, *mark))
    span = max((end - start).total_seconds(), 1e-9)

    def pos(moment: datetime) -> float:
        return round(100.0 * (moment - start).total_seconds() / span, 3)

    bars = []
    for event_id, (event, kind, label) in opened.items():
        closing = closed.get(event_id)
        finish = closing.time if closing is not None else end
        left = pos(event.time)
        bars.append(Bar(kind, label, event_id, event.time, finish,
                        _outcome(closing) if closing is not None else "open",
                        closing.event_id if closing is not None else None,
                        left, max(round(pos(finish) - left, 3), 0.0)))
    return Timeline(start, end, bars,
                    [Mark(kind, label, e.event_id, e.time, pos(e.time))
                     for e, kind, label in marks])
