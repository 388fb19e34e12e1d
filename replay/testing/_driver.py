"""WorkflowDriver: run one workflow in memory, deliver inputs by hand, record its history.

No store, no worker, no threads: the test supplies every input (signals,
updates, activity outcomes, timer firings, cancellation) and the driver runs
the same activation cycle the worker runs, so what it records is a real
history that the Replayer must reproduce.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import attrs

from replay.history import (
    ActivityCanceled,
    ActivityCompleted,
    ActivityFailed,
    ActivityScheduled,
    ActivityTimedOut,
    CancelRequested,
    ChildWorkflowCompleted,
    ChildWorkflowFailed,
    ChildWorkflowStarted,
    Event,
    ExternalSignalDelivered,
    ExternalSignalSent,
    Failure,
    History,
    PayloadConverter,
    RunClosedError,
    SignalReceived,
    TimerFired,
    TimerStarted,
    WorkflowStarted,
)

from .._core._data_converter import DataConverter
from .._core._failure import to_failure
from .._core._guard import GuardHooks
from .._core._instance import UpdateDelivery, WorkflowInstance
from .._replay._replayer import WorkflowRegistry, new_instance, replay_events

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@attrs.frozen
class UpdateOutcome:
    """What happened to an update sent through the driver."""

    update_id: str
    accepted: bool
    failure: Failure | None = None


class WorkflowDriver:
    """Drives one run of a workflow class by hand and records its history."""

    def __init__(self, workflow: type, *args: Any, workflows: Sequence[type] = (),
                 run_id: str = "run-1", workflow_id: str = "wf-1", seed: int = 7,
                 start: datetime = EPOCH, converter: PayloadConverter | None = None,
                 guard: GuardHooks | None = None) -> None:
        self.converter = converter or DataConverter.default.payload_converter
        self.registry = WorkflowRegistry([workflow, *workflows])
        self.run_id = run_id
        self.now = start
        self._guard = guard
        self.events: list[Event] = []
        self._pending: list[Event] = []
        self._updates: list[UpdateDelivery] = []
        # open commands by kind, kept as events are added (a scan per call would make
        # driving a long run quadratic)
        self._open_commands: dict[type[Event], dict[int, Event]] = {k: {} for k in _OPENED}
        self.update_outcomes: dict[str, UpdateOutcome] = {}
        definition = self.registry.get(_type_name(workflow))
        started = WorkflowStarted(
            event_id=1, time=start, workflow_type=definition.name or workflow.__name__,
            workflow_id=workflow_id, task_queue="default",
            args=self.converter.to_payloads(args), random_seed=seed,
            first_execution_run_id=run_id,
        )
        self.instance = WorkflowInstance(definition, run_id=run_id, started=started,
                                         converter=self.converter, guard=guard)
        self._pending.append(started)
        self.events.append(started)

    def _add(self, event: Event) -> None:
        self.events.append(event)
        opened = self._open_commands.get(type(event))
        if opened is not None:
            opened[event.event_id] = event
            return
        for ref in _CLOSING_REFS:
            target = getattr(event, ref, None)
            if target is not None:
                for opened in self._open_commands.values():
                    opened.pop(target, None)

    # --- inputs -------------------------------------------------------------------------

    def deliver(self, event_cls: type[Event], **fields: Any) -> None:
        """Record an input event of any kind, given its fields; the next step delivers it.

        For inputs without a shortcut below (e.g. ``ChildWorkflowCanceled``).
        Raises RunClosedError once the run is closed.
        """
        if self.instance.closed:
            raise RunClosedError(self.run_id, "closed", event_cls.__name__)
        event = event_cls(event_id=len(self.events) + 1, time=self.now, **fields)
        self._add(event)
        self._pending.append(event)


    def signal(self, name: str, *args: Any) -> None:
        self.deliver(SignalReceived, signal_name=name, args=self.converter.to_payloads(args))

    def cancel(self, reason: str = "") -> None:
        self.deliver(CancelRequested, reason=reason)

    def update(self, name: str, *args: Any, update_id: str | None = None) -> str:
        uid = update_id or str(uuid.UUID(int=len(self.events) * 1000 + len(self._updates)))
        self._updates.append(UpdateDelivery(uid, name, self.converter.to_payloads(args)))
        return uid

    def open_activities(self) -> list[ActivityScheduled]:
        return self._open(ActivityScheduled, "scheduled_event_id")

    def open_timers(self) -> list[TimerStarted]:
        return self._open(TimerStarted, "started_event_id")

    def open_children(self) -> list[ChildWorkflowStarted]:
        return self._open(ChildWorkflowStarted, "initiated_event_id")

    def _open(self, kind: type[Any], ref: str) -> list[Any]:
        return list(self._open_commands[kind].values())

    def complete_activity(self, scheduled: ActivityScheduled, result: Any = None,
                          attempt: int = 1) -> None:
        self.deliver(ActivityCompleted, scheduled_event_id=scheduled.event_id,
                    result=self.converter.to_payload(result), attempt=attempt)

    def fail_activity(self, scheduled: ActivityScheduled, error: BaseException,
                      attempt: int = 1) -> None:
        self.deliver(ActivityFailed, scheduled_event_id=scheduled.event_id,
                    failure=to_failure(error, self.converter), attempt=attempt)

    def time_out_activity(self, scheduled: ActivityScheduled, kind: str = "start_to_close"
                          ) -> None:
        self.deliver(ActivityTimedOut, scheduled_event_id=scheduled.event_id, timeout_type=kind)

    def cancel_activity(self, scheduled: ActivityScheduled) -> None:
        """The activity acknowledged a cancellation request (ActivityCanceled)."""
        self.deliver(ActivityCanceled, scheduled_event_id=scheduled.event_id)

    def complete_child(self, started: ChildWorkflowStarted, result: Any = None) -> None:
        self.deliver(ChildWorkflowCompleted, initiated_event_id=started.event_id,
                    result=self.converter.to_payload(result))

    def fail_child(self, started: ChildWorkflowStarted, error: BaseException) -> None:
        self.deliver(ChildWorkflowFailed, initiated_event_id=started.event_id,
                    failure=to_failure(error, self.converter))

    def deliver_external_signals(self) -> None:
        for e in self._open(ExternalSignalSent, "initiated_event_id"):
            self.deliver(ExternalSignalDelivered, initiated_event_id=e.event_id)

    def fire_next_timer(self) -> bool:
        """Advance time to the earliest open timer and fire it; False if none is open."""
        timers = self.open_timers()
        if not timers:
            return False
        first = min(timers, key=lambda t: (t.fire_at, t.event_id))
        self.now = max(self.now, first.fire_at)
        self.deliver(TimerFired, started_event_id=first.event_id)
        return True

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    # --- running --------------------------------------------------------------------------

    def step(self) -> list[Event]:
        """One activation with everything delivered since the last; returns new events."""
        if self.instance.closed or (not self._pending and not self._updates):
            return []
        inputs, self._pending = self._pending, []
        updates, self._updates = self._updates, []
        result = self.instance.activate(inputs, updates, self.now)
        # commands follow every recorded event, a WorkflowTaskFailed after the inputs too
        self.instance.last_event_id = max(self.instance.last_event_id, len(self.events))
        rejected = dict(result.rejected_updates)
        for u in updates:
            failure = rejected.get(u.update_id)
            self.update_outcomes[u.update_id] = UpdateOutcome(u.update_id, failure is None,
                                                              failure)
        if not inputs and not result.commands:
            return []
        new = self.instance.commit_live(result, self.now)
        for event in new:
            self._add(event)
        return new

    def run_timers(self, limit: int = 10_000) -> None:
        """Step, then fire timers one by one until the run ends or none is open."""
        self.step()
        for _ in range(limit):
            if self.instance.closed or not self.fire_next_timer():
                return
            self.step()

    def query(self, name: str, *args: Any) -> Any:
        return self.instance.query(name, self.converter.to_payloads(args))

    def history(self) -> History:
        return History(self.run_id, self.events)

    def recover(self) -> None:
        """Simulate a crash: drop the instance, rebuild it by replaying the recorded history.

        Inputs recorded after the last activation stay pending, and updates sent
        but not yet stepped stay queued, as a worker recovering the run would
        find them. Raises a ReplayError if the history does not replay.
        """
        started = self.events[0]
        assert isinstance(started, WorkflowStarted)
        inst = new_instance(self.registry, self.run_id, started, self.converter, self._guard)
        tail = replay_events(inst, self.events)
        crashed, self.instance = self.instance, inst
        crashed.discard()
        self._pending = list(tail.pending)

    def close(self) -> None:
        """Done with the run: cancel its tasks and run their cleanup now, as ``asyncio.run``
        does, so that nothing is left for the garbage collector to report later ("coroutine
        ignored GeneratorExit"). Nothing it does is recorded; the driver cannot step
        afterwards. ``with WorkflowDriver(...) as d:`` closes at the block's end."""
        self.instance.discard()

    def __enter__(self) -> WorkflowDriver:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


_OPENED = (ActivityScheduled, TimerStarted, ChildWorkflowStarted, ExternalSignalSent)
"""Command kinds that stay open until an event refers back to them."""

_CLOSING_REFS = ("scheduled_event_id", "started_event_id", "initiated_event_id")
"""Fields by which an event refers to (and closes) an open command."""


def _type_name(workflow: type) -> str:
    from .._core._definition import WorkflowDefinition

    return WorkflowDefinition.of(workflow).name or "__dynamic__"
