"""One-line summaries of events, and histories as plain-text tables (CLI and demo)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from replay.history import (
    EVENT_KINDS,
    REFERENCES,
    TERMINAL_KINDS,
    Event,
    WorkflowTaskCompleted,
    WorkflowTaskFailed,
    envelope_summary,
    is_envelope,
)

from ._escape import visible

_CLOSING = frozenset(TERMINAL_KINDS)


def _task_failed(e: WorkflowTaskFailed) -> str:
    retry = (f", retry at {e.next_retry_time.strftime('%H:%M:%S')}"
             if e.next_retry_time is not None else "")
    where = f" at {e.location}" if e.location else ""
    return (f"TASK FAILED (attempt {e.attempt}{retry}): {e.failure.type}: "
            f"{e.failure.message}{where}")


def _j(value: Any, limit: int = 40) -> str:
    text = _payload_text(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _payload_text(value: Any) -> str:
    """JSON text of payload data; an encoded payload (one a codec wrote, which this
    reader did not decode) shows as ``<encoded ENCODING, N bytes>``."""
    if is_envelope(value):
        return envelope_summary(value)
    if isinstance(value, list) and any(is_envelope(v) for v in value):
        return "[" + ", ".join(_payload_text(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _of(event: Event) -> str:
    """``of event N``: the command a result event answers, by the field REFERENCES names."""
    field, _ = REFERENCES[type(event)]
    return f"of event {getattr(event, field)}"


_BY_KIND: dict[str, Callable[[Any], str]] = {
    "WorkflowStarted": lambda e: f"{e.workflow_type} id={e.workflow_id} args={_j(e.args)}",
    "WorkflowCompleted": lambda e: f"result={_j(e.result)}",
    "WorkflowFailed": lambda e: f"{e.failure.type}: {e.failure.message}",
    "WorkflowTerminated": lambda e: f"reason={e.reason!r}",
    "ActivityScheduled": lambda e: f"{e.activity_type} #{e.seq} args={_j(e.args)}",
    "ActivityCompleted": lambda e: f"{_of(e)}, attempt {e.attempt}, result={_j(e.result)}",
    "ActivityFailed": lambda e: f"{_of(e)}, attempt {e.attempt}: {e.failure.message}",
    "ActivityTimedOut": lambda e: f"{_of(e)}: {e.timeout_type}",
    "TimerStarted": lambda e: f"#{e.seq} {e.duration.total_seconds():g}s",
    "TimerFired": lambda e: f"timer {_of(e)}",
    "SignalReceived": lambda e: f"{e.signal_name} args={_j(e.args)}",
    "UpdateAccepted": lambda e: f"{e.name} id={e.update_id[:8]} args={_j(e.args)}",
    "UpdateCompleted": lambda e: f"id={e.update_id[:8]} "
                                 + (f"failed: {e.failure.message}" if e.failure
                                    else f"result={_j(e.result)}"),
    "ChildWorkflowStarted": lambda e: f"{e.workflow_type} id={e.workflow_id}",
    "ExternalSignalSent": lambda e: f"{e.signal_name} to {e.workflow_id}",
    "MarkerRecorded": lambda e: f"{e.name} {e.marker_id}"
                                + (" (deprecated)" if e.deprecated else ""),
    "EventEmitted": lambda e: f"#{e.seq} {_j(e.payload)}",
    "SearchAttributesUpserted": lambda e: " ".join(
        f"{name}=" + ("(unset)" if value is None else _j(value.get("value")))
        for name, value in e.search_attributes.items()),
    "WorkflowContinuedAsNew": lambda e: f"as run {e.new_run_id} args={_j(e.args)}",
    "WorkflowTimedOut": lambda e: f"{e.timeout_type} timeout",
    "CancelRequested": lambda e: f"reason={e.reason!r}" if e.reason else "",
    "WorkflowTaskCompleted": lambda e: f"by {e.identity}" if e.identity else "",
    "WorkflowTaskFailed": _task_failed,
    "ActivityCancelRequested": _of,
    "ActivityCanceled": _of,
    "TimerCanceled": lambda e: f"timer {_of(e)}",
    "ChildWorkflowCompleted": lambda e: f"{_of(e)}, result={_j(e.result)}",
    "ChildWorkflowFailed": lambda e: f"{_of(e)}: {e.failure.message}",
    "ChildWorkflowCanceled": _of,
    "ExternalSignalDelivered": lambda e: f"signal {_of(e)}",
    "ExternalSignalFailed": lambda e: f"signal {_of(e)}: {e.failure.message}",
}
"""Each kind's summary, by the kind's name in EVENT_KINDS (a kind not here has none)."""

_SUMMARIES = {EVENT_KINDS[kind]: summary for kind, summary in _BY_KIND.items()}


def summarize(event: Event) -> str:
    """A one-line description of an event's kind-specific fields, safe to print
    (names, messages and payloads come from the history: see visible())."""
    fn = _SUMMARIES.get(type(event))
    return visible(fn(event)) if fn is not None else ""


def event_row(event: Event) -> tuple[str, str, str, str]:
    """One table row: event id, time (UTC, milliseconds), kind, summary."""
    return (str(event.event_id), event.time.strftime("%H:%M:%S.%f")[:-3],
            type(event).__name__, summarize(event))


HEADER = ("id", "time", "kind", "summary")


def failing_note(events: Sequence[Event]) -> str | None:
    """A line saying that the run's workflow task is failing, if the history ends that way
    (a WorkflowTaskFailed after the last completed task, and the run still open)."""
    for event in reversed(events):
        if isinstance(event, WorkflowTaskFailed):
            return (f"the run's workflow task is failing (TASK FAILED at event {event.event_id}"
                    f"; attempts so far and the next retry: replay describe)")
        if isinstance(event, WorkflowTaskCompleted) or type(event) in _CLOSING:
            return None
    return None


def format_history(events: Iterable[Event]) -> str:
    """The events as a table: id, time, kind, summary."""
    rows = [event_row(e) for e in events]
    header = HEADER
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in rows]
    return "\n".join(lines)
