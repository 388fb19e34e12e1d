"""Histories in Temporal's JSON export format, built event by event.

They record what a Temporal worker records for the template workflows
(``template.py``): the start, a workflow task (scheduled, started, completed)
per activation, ``TimerStarted``/``TimerFired`` or ``ActivityTaskScheduled``/
``Started``/``Completed`` per step, and the completion. Five events per timer
and six per activity, against our three for either. The first
``WorkflowTaskCompleted`` carries the SDK metadata a current worker writes
(core flags 1 and 3), which switches on the Replayer's id and type checks:
without it the core treats the history as pre-flag and skips them.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2024, 1, 1, tzinfo=UTC)
QUEUE = {"name": "bench", "kind": "TASK_QUEUE_KIND_NORMAL"}
SDK_METADATA = {"coreUsedFlags": [1, 3], "sdkName": "temporal-python", "sdkVersion": "1.35.0"}
WORKFLOW_TYPES = {"timers": "BenchTimers", "activities": "BenchActivities"}


def payloads(*values: object) -> dict[str, Any]:
    """``json/plain`` payloads, as Temporal's default converter writes them."""
    encoding = base64.b64encode(b"json/plain").decode()
    return {"payloads": [
        {"metadata": {"encoding": encoding},
         "data": base64.b64encode(json.dumps(v, separators=(",", ":")).encode()).decode()}
        for v in values]}


class _Builder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, attrs: dict[str, Any]) -> int:
        """Append an event of ``kind`` (e.g. ``TIMER_FIRED``); returns its id."""
        event_id = len(self.events) + 1
        key = "".join(w.capitalize() for w in kind.lower().split("_"))
        self.events.append({
            "eventId": str(event_id),
            "eventTime": (T0 + timedelta(milliseconds=event_id)).isoformat().replace(
                "+00:00", "Z"),
            "eventType": f"EVENT_TYPE_{kind}",
            f"{key[0].lower()}{key[1:]}EventAttributes": attrs,
        })
        return event_id

    def workflow_task(self) -> int:
        """Scheduled, started, completed; returns the completed event's id."""
        scheduled = self.add("WORKFLOW_TASK_SCHEDULED", {
            "taskQueue": QUEUE, "startToCloseTimeout": "10s", "attempt": 1})
        started = self.add("WORKFLOW_TASK_STARTED", {
            "scheduledEventId": str(scheduled), "identity": "bench",
            "requestId": f"wft-{scheduled}"})
        return self.add("WORKFLOW_TASK_COMPLETED", {
            "scheduledEventId": str(scheduled), "startedEventId": str(started),
            "identity": "bench"})


def _timer(b: _Builder, seq: int, completed: int) -> None:
    started = b.add("TIMER_STARTED", {
        "timerId": str(seq), "startToFireTimeout": "1s",
        "workflowTaskCompletedEventId": str(completed)})
    b.add("TIMER_FIRED", {"timerId": str(seq), "startedEventId": str(started)})


def _activity(b: _Builder, seq: int, completed: int, arg: int, result: int) -> None:
    scheduled = b.add("ACTIVITY_TASK_SCHEDULED", {
        "activityId": str(seq), "activityType": {"name": "step"}, "taskQueue": QUEUE,
        "input": payloads(arg), "scheduleToCloseTimeout": "0s",
        "scheduleToStartTimeout": "0s", "startToCloseTimeout": "10s", "heartbeatTimeout": "0s",
        "workflowTaskCompletedEventId": str(completed)})
    started = b.add("ACTIVITY_TASK_STARTED", {
        "scheduledEventId": str(scheduled), "identity": "bench",
        "requestId": f"act-{scheduled}", "attempt": 1})
    b.add("ACTIVITY_TASK_COMPLETED", {
        "result": payloads(result), "scheduledEventId": str(scheduled),
        "startedEventId": str(started), "identity": "bench"})


def history_json(kind: str, n: int, *, run_id: str = "bench-run") -> dict[str, Any]:
    """A completed run of the template's ``kind`` workflow (timers or activities) with ``n``."""
    b = _Builder()
    b.add("WORKFLOW_EXECUTION_STARTED", {
        "workflowType": {"name": WORKFLOW_TYPES[kind]}, "taskQueue": QUEUE,
        "input": payloads(n), "workflowExecutionTimeout": "0s", "workflowRunTimeout": "0s",
        "workflowTaskTimeout": "10s", "originalExecutionRunId": run_id,
        "firstExecutionRunId": run_id, "attempt": 1, "identity": "bench"})
    completed = b.workflow_task()
    b.events[-1]["workflowTaskCompletedEventAttributes"]["sdkMetadata"] = SDK_METADATA
    for i in range(n):
        if kind == "timers":
            _timer(b, i + 1, completed)
        else:
            _activity(b, i + 1, completed, i, 1)
        completed = b.workflow_task()
    b.add("WORKFLOW_EXECUTION_COMPLETED", {
        "result": payloads(n), "workflowTaskCompletedEventId": str(completed)})
    return {"events": b.events}
