"""Small event factories shared by the history tests (fixed times, minimal fields)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from replay.history import (
    ActivityScheduled,
    SignalReceived,
    TimerStarted,
    WorkflowStarted,
    WorkflowTaskCompleted,
)
from tests.strategies import T0

SECOND = timedelta(seconds=1)


def started(workflow_id: str = "wf-1", event_id: int = 1, **kw: Any) -> WorkflowStarted:
    """Event 1 of a run on task queue ``q``."""
    fields: dict[str, Any] = {"workflow_type": "Greeter", "task_queue": "q", "time": T0}
    fields.update(kw)
    return WorkflowStarted(event_id=event_id, workflow_id=workflow_id, **fields)


def signal(event_id: int = 0, name: str = "sig", *args: Any) -> SignalReceived:
    """A signal (event id 0: to be assigned by Deliver)."""
    return SignalReceived(event_id=event_id, time=T0 + SECOND, signal_name=name,
                          args=list(args))


def task_done(event_id: int) -> WorkflowTaskCompleted:
    """A workflow task boundary."""
    return WorkflowTaskCompleted(event_id=event_id, time=T0 + SECOND)


def activity(event_id: int, queue: str = "aq") -> ActivityScheduled:
    """An activity scheduled on ``queue``."""
    return ActivityScheduled(event_id=event_id, time=T0 + SECOND, seq=event_id,
                             activity_type="charge", activity_id=str(event_id),
                             task_queue=queue, args=[event_id])


def timer(event_id: int, seconds: int = 10) -> TimerStarted:
    """A timer firing ``seconds`` after T0 + 1 s."""
    return TimerStarted(event_id=event_id, time=T0 + SECOND, seq=event_id,
                        duration=seconds * SECOND, fire_at=T0 + SECOND + seconds * SECOND)
