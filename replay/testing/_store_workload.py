"""Abstract store workloads (``workloads``) and their runner against any Store.

Each step resolves its ``pick`` against what exists at that moment (runs, open
activities, pending updates...), so one workload drives every store through
the same operations; the outcomes (values or errors) are logged to compare.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from hypothesis import strategies as st

from replay.history import (
    ActivityCanceled,
    ActivityCancelRequested,
    ActivityCompleted,
    ActivityFailed,
    ActivityScheduled,
    ActivityTimedOut,
    Append,
    Deliver,
    Event,
    Failure,
    MarkerRecorded,
    ReplayError,
    SignalReceived,
    Start,
    Store,
    TimerCanceled,
    TimerFired,
    TimerStarted,
    UpdateAccepted,
    UpdateCompleted,
    WorkflowContinuedAsNew,
    WorkflowStarted,
    WorkflowTaskCompleted,
    WorkflowTerminated,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
"""When every workload starts (workflow time)."""

STEP_KINDS = (
    "start", "signal", "worker", "worker", "worker", "activity_result", "timer_fired",
    "stale_result", "request_update", "reject_update", "lease_activity", "heartbeat",
    "retry_activity", "release_activity", "lease_workflow_task", "release_workflow_task",
    "terminate", "continue_as_new", "cancel_activity",
)


@attrs.frozen
class Step:
    """One abstract workload step; ``pick`` chooses among whatever exists when it runs."""

    kind: str
    pick: int
    size: int


workload_steps = st.builds(
    Step,
    kind=st.sampled_from(STEP_KINDS),
    pick=st.integers(min_value=0, max_value=1000),
    size=st.integers(min_value=0, max_value=3),
)
workloads = st.lists(workload_steps, min_size=10, max_size=50)
"""A sequence of store operations to run with :class:`WorkloadRunner`."""

_RESOLVES = {
    ActivityCompleted: "scheduled_event_id", ActivityFailed: "scheduled_event_id",
    ActivityTimedOut: "scheduled_event_id", ActivityCanceled: "scheduled_event_id",
    TimerFired: "started_event_id", TimerCanceled: "started_event_id",
    UpdateCompleted: "accepted_event_id",
}


def open_commands(events: list[Event]) -> dict[int, Event]:
    """Activities, timers and accepted updates of a history that have no result yet."""
    found: dict[int, Event] = {}
    for e in events:
        if isinstance(e, ActivityScheduled | TimerStarted | UpdateAccepted):
            found[e.event_id] = e
        field = _RESOLVES.get(type(e))
        if field is not None:
            found.pop(getattr(e, field), None)
    return found


class WorkloadRunner:
    """Applies steps to one store and logs what each returned or raised."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.runs: list[str] = []
        self.log: list[tuple[str, Any]] = []
        self.now = T0

    def run(self, steps: list[Step]) -> list[tuple[str, Any]]:
        """Start two runs, then apply the steps; returns the log of outcomes."""
        for prelude in (Step("start", 0, 0), Step("start", 1, 0)):
            self._start(prelude)
        for step in steps:
            self.now += timedelta(seconds=1)
            try:
                outcome = getattr(self, f"_{step.kind}")(step)
            except ReplayError as exc:
                outcome = ("error", type(exc).__name__, str(exc))
            self.log.append((step.kind, outcome))
        return self.log

    # --- helpers ------------------------------------------------------------------------------

    def _run(self, step: Step) -> str:
        return self.runs[step.pick % len(self.runs)] if self.runs else "run-none"

    def _open(self, run_id: str, cls: type[Event]) -> list[Event]:
        try:
            events = self.store.read(run_id)
        except ReplayError:
            return []
        return [e for e in open_commands(events).values() if isinstance(e, cls)]

    def _started(self, run_id: str, workflow_id: str) -> WorkflowStarted:
        return WorkflowStarted(event_id=1, time=self.now, workflow_type="Wf",
                               workflow_id=workflow_id, task_queue="q",
                               run_timeout=timedelta(hours=1))

    def _deliver(self, run_id: str, event: Event, missing_ok: bool = False) -> list[Event]:
        return self.store.commit([Deliver(run_id, event, missing_ok)])

    # --- steps --------------------------------------------------------------------------------

    def _start(self, step: Step) -> Any:
        run_id = f"run-{len(self.runs) + 1}"
        self.runs.append(run_id)
        return self.store.commit([Start(run_id, self._started(run_id, f"wf-{step.pick % 3}"))])

    def _signal(self, step: Step) -> Any:
        return self._deliver(self._run(step), SignalReceived(
            event_id=0, time=self.now, signal_name="sig", args=[step.pick]))

    def _command(self, run_id: str, choice: int, event_id: int) -> Event | None:
        t = self.now
        if choice == 0:
            return ActivityScheduled(event_id=event_id, time=t, seq=event_id, activity_type="a",
                                     activity_id=str(event_id), task_queue="aq", args=[choice])
        if choice == 1:
            return TimerStarted(event_id=event_id, time=t, seq=event_id,
                                duration=timedelta(seconds=5), fire_at=t + timedelta(seconds=5))
        if choice == 2:
            timers = self._open(run_id, TimerStarted)
            return (timers and TimerCanceled(event_id=event_id, time=t,
                                            started_event_id=timers[0].event_id)) or None
        if choice == 3:
            acts = self._open(run_id, ActivityScheduled)
            return (acts and ActivityCancelRequested(
                event_id=event_id, time=t, scheduled_event_id=acts[-1].event_id)) or None
        if choice == 4:
            pending = self.store.pending_updates(run_id)
            return (pending and UpdateAccepted(
                event_id=event_id, time=t, update_id=pending[0].update_id, name=pending[0].name,
                args=pending[0].args)) or None
        accepted = [e for e in self._open(run_id, UpdateAccepted) if isinstance(e, UpdateAccepted)]
        if choice == 5 and accepted:
            return UpdateCompleted(event_id=event_id, time=t, update_id=accepted[0].update_id,
                                   accepted_event_id=accepted[0].event_id, result=event_id)
        return MarkerRecorded(event_id=event_id, time=t, name="m", marker_id=str(event_id))

    def _worker(self, step: Step) -> Any:
        run_id = self._run(step)
        last = self.store.last_event_id(run_id)
        events: list[Event] = []
        for i in range(step.size + 1):
            command = self._command(run_id, (step.pick + i) % 7, last + len(events) + 1)
            if command is not None:
                events.append(command)
        events.append(WorkflowTaskCompleted(event_id=last + len(events) + 1, time=self.now))
        self.store.commit([Append(run_id, events, last)])
        return last

    def _activity_result(self, step: Step) -> Any:
        run_id = self._run(step)
        acts = self._open(run_id, ActivityScheduled)
        if not acts:
            return None
        sid = acts[step.pick % len(acts)].event_id
        kind = step.size
        event: Event = [
            ActivityCompleted(event_id=0, time=self.now, scheduled_event_id=sid, result=kind),
            ActivityFailed(event_id=0, time=self.now, scheduled_event_id=sid,
                           failure=Failure(message="boom")),
            ActivityTimedOut(event_id=0, time=self.now, scheduled_event_id=sid,
                             timeout_type="start_to_close"),
            ActivityCanceled(event_id=0, time=self.now, scheduled_event_id=sid),
        ][kind]
        return self._deliver(run_id, event)

    def _timer_fired(self, step: Step) -> Any:
        run_id = self._run(step)
        timers = self._open(run_id, TimerStarted)
        sid = timers[step.pick % len(timers)].event_id if timers else 2
        return self._deliver(run_id, TimerFired(event_id=0, time=self.now, started_event_id=sid),
                             missing_ok=step.size % 2 == 0)

    def _stale_result(self, step: Step) -> Any:
        return self._deliver(self._run(step), ActivityCompleted(
            event_id=0, time=self.now, scheduled_event_id=1 + step.size), step.pick % 2 == 0)

    def _request_update(self, step: Step) -> Any:
        return self.store.request_update(self._run(step), f"u{step.pick % 5}", "upd",
                                         [step.size], self.now)

    def _reject_update(self, step: Step) -> Any:
        run_id = self._run(step)
        pending = self.store.pending_updates(run_id) if self.runs else []
        if pending:
            update = pending[step.pick % len(pending)]
            self.store.reject_update(run_id, update.update_id, Failure(message="no"))
        return len(pending)

    def _lease_activity(self, step: Step) -> Any:
        return self.store.lease_activity_task("aq", f"w{step.size % 2}", self.now,
                                              timedelta(seconds=10))

    def _activity_owned(self, step: Step) -> tuple[str, int, str]:
        run_id = self._run(step)
        acts = self._open(run_id, ActivityScheduled)
        sid = acts[step.pick % len(acts)].event_id if acts else 0
        return run_id, sid, f"w{step.size % 2}"

    def _heartbeat(self, step: Step) -> Any:
        run_id, sid, owner = self._activity_owned(step)
        return self.store.heartbeat_activity(run_id, sid, owner, [step.pick], self.now,
                                             timedelta(seconds=10))

    def _retry_activity(self, step: Step) -> Any:
        run_id, sid, owner = self._activity_owned(step)
        self.store.retry_activity(run_id, sid, owner, self.now + timedelta(seconds=step.size))

    def _release_activity(self, step: Step) -> Any:
        self.store.release_activity_task(*self._activity_owned(step))

    def _cancel_activity(self, step: Step) -> Any:
        run_id, sid, _ = self._activity_owned(step)
        last = self.store.last_event_id(run_id)
        event = ActivityCancelRequested(event_id=last + 1, time=self.now, scheduled_event_id=sid)
        self.store.append(run_id, [event], last)

    def _lease_workflow_task(self, step: Step) -> Any:
        return self.store.lease_workflow_task("q", f"w{step.size % 2}", self.now,
                                              timedelta(seconds=5))

    def _release_workflow_task(self, step: Step) -> Any:
        self.store.release_workflow_task(self._run(step), f"w{step.size % 2}")

    def _terminate(self, step: Step) -> Any:
        return self._deliver(self._run(step), WorkflowTerminated(event_id=0, time=self.now,
                                                                 reason="test"))

    def _continue_as_new(self, step: Step) -> Any:
        run_id = self._run(step)
        info = self.store.get_run(run_id)
        new_id = f"run-{len(self.runs) + 1}"
        self.runs.append(new_id)
        last = self.store.last_event_id(run_id)
        can = WorkflowContinuedAsNew(event_id=last + 1, time=self.now, new_run_id=new_id,
                                     workflow_type="Wf", task_queue="q")
        workflow_id = info.workflow_id if info else "wf-x"
        return self.store.commit([Append(run_id, [can], last),
                                  Start(new_id, self._started(new_id, workflow_id))])
