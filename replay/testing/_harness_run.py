"""Running one schedule of the determinism harness against a WorkflowDriver.

:class:`ScheduleRun` applies each step of a schedule (see :mod:`replay._strategies`)
through the driver's public inputs, answering activities and child runs with
test doubles (:class:`Doubles`), recording query probes and, for a crash run,
rebuilding the instance from the recorded history at every ``Crash`` step.
The checks that compare runs are in :mod:`replay._harness`.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import attrs

from replay.history import (
    INPUT_KINDS,
    ActivityCanceled,
    ActivityCancelRequested,
    ActivityScheduled,
    ChildWorkflowCanceled,
    ChildWorkflowFailed,
    ChildWorkflowStarted,
    Event,
    ExternalSignalDelivered,
    ExternalSignalFailed,
    ExternalSignalSent,
    Failure,
    ReplayError,
    WorkflowStarted,
)

from .._core._activity_defn import ActivityDefinition
from .._core._definition import _signature_types
from .._core._exceptions import ApplicationError
from .._core._instance import WorkflowInstance
from .._replay._replayer import WorkflowRegistry, new_instance
from .._replay._sandbox_hooks import guard_for
from ._driver import UpdateOutcome, WorkflowDriver
from ._strategies import (
    Activate,
    ActivityOutcome,
    Cancel,
    ChildOutcome,
    Crash,
    ExternalSignalOutcome,
    FireTimer,
    Query,
    Signal,
    SkipTime,
    Step,
    Update,
)

_RESULT_REFS = ("scheduled_event_id", "initiated_event_id")
_INPUTS = frozenset(INPUT_KINDS)


@attrs.frozen
class Probe:
    """A query asked during the live run: how much history existed, what it answered."""

    step: int
    prefix: int
    name: str
    args: tuple[Any, ...]
    answer: tuple[str, Any]


@attrs.define
class RunOutcome:
    """Everything one run of a schedule produced."""

    events: list[Event]
    instance: WorkflowInstance
    probes: list[Probe] = attrs.field(factory=list)
    updates: dict[str, UpdateOutcome] = attrs.field(factory=dict)
    task_error: tuple[int, str] | None = None
    task_error_text: str = ""


ActivityDoubles = Mapping[str, Callable[..., Any]] | Sequence[Callable[..., Any]]


class Doubles:
    """Outcomes of activities (and child runs) by type name; each computed once per command."""

    def __init__(self, doubles: ActivityDoubles | None) -> None:
        self._fns: dict[str, Callable[..., Any]] = {}
        if isinstance(doubles, Mapping):
            self._fns.update(doubles)
        elif doubles is not None:
            for fn in doubles:
                name = ActivityDefinition.of(fn).name
                if name is not None:
                    self._fns[name] = fn
        self._cache: dict[tuple[int, str], tuple[bool, Any]] = {}

    def outcome(self, driver: WorkflowDriver, event_id: int, type_name: str,
                payloads: Sequence[Any]) -> tuple[bool, Any]:
        """(True, value) or (False, exception) for the command at ``event_id``."""
        key = (event_id, type_name)
        if key not in self._cache:
            cmd = driver.instance.open_command(event_id)
            result_type = getattr(cmd, "result_type", None)
            self._cache[key] = self._call(driver, type_name, payloads, result_type)
        return self._cache[key]

    def _call(self, driver: WorkflowDriver, type_name: str, payloads: Sequence[Any],
              result_type: Any) -> tuple[bool, Any]:
        fn = self._fns.get(type_name)
        if fn is None:
            return True, _zero(result_type)
        try:
            types: Sequence[Any] = ActivityDefinition.of(fn).arg_types
        except ReplayError:  # a plain callable: decode by its own annotations
            types = _signature_types(fn, skip=0)[0]
        args = [driver.converter.from_payload(p, t) if i < len(types) else p
                for i, (p, t) in enumerate(zip(payloads, [*types, *[Any] * len(payloads)],
                                                strict=False))]
        try:
            return True, _run_to_end(fn(*args))
        except Exception as exc:
            return False, exc


def _zero(t: Any) -> Any:
    """A plain value of type ``t`` for an activity without a double (None if unsure)."""
    if t in (None, Any, type(None)) or not isinstance(t, type):
        return None
    if issubclass(t, enum.Enum):
        return next(iter(t), None)
    if issubclass(t, (bool, int, float, str, bytes, list, dict, tuple, set)):
        return t()
    return None


def _run_to_end(value: Any) -> Any:
    """The result of a test double: plain, or a coroutine that must not really wait."""
    if not asyncio.iscoroutine(value):
        return value
    try:
        value.send(None)
    except StopIteration as stop:
        return stop.value
    value.close()
    raise RuntimeError("an activity double used by check_determinism awaited real I/O; "
                       "make it return at once")


def _unresolved(events: Sequence[Event], kind: type[Event]) -> list[Any]:
    """Commands of ``kind`` in ``events`` that no input has resolved yet."""
    done = {getattr(e, ref) for e in events if type(e) in _INPUTS
            for ref in _RESULT_REFS if hasattr(e, ref)}
    return [e for e in events if isinstance(e, kind) and e.event_id not in done]


class ScheduleRun:
    """Applies one schedule to a fresh driver."""

    def __init__(self, workflow: type, args: Sequence[Any], workflows: Sequence[type],
                 doubles: Doubles, crash: bool) -> None:
        self.guard = guard_for("strict")
        self.driver = WorkflowDriver(workflow, *args, workflows=workflows, guard=self.guard)
        self.doubles = doubles
        self.crash = crash
        self.out = RunOutcome(events=self.driver.events, instance=self.driver.instance)

    def run(self, schedule: Sequence[Step]) -> RunOutcome:
        for i, step in enumerate([*schedule, Activate()]):
            if not self._apply(i, step):
                break
        self.out.instance = self.driver.instance
        self.out.updates = dict(self.driver.update_outcomes)
        return self.out

    def _apply(self, i: int, step: Step) -> bool:
        d = self.driver
        if isinstance(step, Activate):
            try:
                d.step()
            except ReplayError as exc:
                self.out.task_error = (i, type(exc).__name__)
                self.out.task_error_text = str(exc)
                return False
            return True
        if isinstance(step, Query):
            self.out.probes.append(Probe(i, len(d.events), step.name, step.args,
                                         ask(d.instance, step.name, step.args)))
        elif isinstance(step, Crash):
            if self.crash:  # drop the instance; replay the recorded history into a new one
                d.recover()
        elif isinstance(step, SkipTime):
            d.advance(timedelta(seconds=step.seconds))
        elif not d.instance.closed:
            self._input(step)
        return True

    def _input(self, step: Step) -> None:
        d = self.driver
        if isinstance(step, Signal):
            d.signal(step.name, *step.args)
        elif isinstance(step, Update):
            d.update(step.name, *step.args)
        elif isinstance(step, Cancel):
            d.cancel("cancelled by the schedule")
        elif isinstance(step, FireTimer):
            d.fire_next_timer()
        elif isinstance(step, ActivityOutcome):
            self._activity(step.kind, step.index)
        elif isinstance(step, ChildOutcome):
            self._child(step.kind, step.index)
        elif isinstance(step, ExternalSignalOutcome):
            self._external(step.kind)

    def _activity(self, kind: str, index: int) -> None:
        d = self.driver
        open_ = _unresolved(d.events, ActivityScheduled)
        if kind == "canceled":
            asked = {e.scheduled_event_id for e in d.events
                     if isinstance(e, ActivityCancelRequested)}
            targets = [a for a in open_ if a.event_id in asked]
            if targets:
                d.deliver(ActivityCanceled,
                          scheduled_event_id=targets[index % len(targets)].event_id)
            return
        if not open_:
            return
        act: ActivityScheduled = open_[index % len(open_)]
        if kind in ("success", "retried_success"):
            ok, value = self.doubles.outcome(d, act.event_id, act.activity_type, act.args)
            if ok:
                d.complete_activity(act, value, attempt=3 if kind == "retried_success" else 1)
            else:
                d.fail_activity(act, value)
        elif kind == "retryable_failure":
            d.fail_activity(act, ApplicationError("activity failed; retries exhausted"),
                            attempt=3)
        elif kind == "non_retryable_failure":
            d.fail_activity(act, ApplicationError("activity failed for good",
                                                  non_retryable=True))
        else:
            d.time_out_activity(act)

    def _child(self, kind: str, index: int) -> None:
        d = self.driver
        open_ = _unresolved(d.events, ChildWorkflowStarted)
        if not open_:
            return
        child: ChildWorkflowStarted = open_[index % len(open_)]
        if kind == "complete":
            ok, value = self.doubles.outcome(d, child.event_id, child.workflow_type, child.args)
            if ok:
                d.complete_child(child, value)
                return
            kind = "fail"
        if kind == "fail":
            d.deliver(ChildWorkflowFailed, initiated_event_id=child.event_id,
                      failure=Failure(message="child failed", type="ApplicationError"))
        else:
            d.deliver(ChildWorkflowCanceled, initiated_event_id=child.event_id)

    def _external(self, kind: str) -> None:
        d = self.driver
        open_ = _unresolved(d.events, ExternalSignalSent)
        if not open_:
            return
        if kind == "delivered":
            d.deliver(ExternalSignalDelivered, initiated_event_id=open_[0].event_id)
        else:
            d.deliver(ExternalSignalFailed, initiated_event_id=open_[0].event_id,
                      failure=Failure(message="no such workflow", type="NotFound"))


def fresh_instance(registry: WorkflowRegistry, events: Sequence[Event], converter: Any,
                   guard: Any) -> WorkflowInstance:
    """A new instance for the run that ``events`` record, before any of them is replayed."""
    started = events[0]
    assert isinstance(started, WorkflowStarted)
    return new_instance(registry, "run-1", started, converter, guard)


def ask(inst: WorkflowInstance, name: str, args: Sequence[Any]) -> tuple[str, Any]:
    """A query's answer, or the name of the error it raised, to compare between runs."""
    try:
        return ("answer", inst.query(name, inst.converter.to_payloads(args)))
    except Exception as exc:
        return ("error", type(exc).__name__)
