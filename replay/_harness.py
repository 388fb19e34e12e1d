"""The determinism harness: run generated schedules live, replayed and crashed, and compare.

For each schedule (see :mod:`replay._strategies`) :func:`check_determinism`
1. runs it live with a :class:`WorkflowDriver`, recording the history and the
   answers of the query probes;
2. replays that history: replay must succeed (every recorded command
   reissued) and end with the same result, failure and status; each probe is
   asked again of an instance rebuilt from the history prefix at its point;
3. runs it again, killing the run at every ``Crash`` step (the instance is
   dropped and rebuilt by replaying what was recorded) and continuing live:
   the history must come out identical, so no input is lost or applied twice.
A violation is shrunk by hypothesis; its message prints the schedule and the
path of a saved history file that reproduces it.
"""

from __future__ import annotations

import asyncio
import enum
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyFailure

from history import (
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
    History,
    ReplayError,
    WorkflowStarted,
)

from ._activity_defn import ActivityDefinition
from ._definition import WorkflowDefinition, _signature_types
from ._driver import UpdateOutcome, WorkflowDriver
from ._exceptions import ApplicationError
from ._instance import WorkflowInstance
from ._replayer import Replayer, WorkflowRegistry, new_instance, replay_events
from ._sandbox_hooks import guard_for
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
    format_schedule,
    schedules,
)

_RESULT_REFS = ("scheduled_event_id", "initiated_event_id")
_INPUTS = frozenset(INPUT_KINDS)


class DeterminismViolation(AssertionError):
    """A schedule under which replay or crash recovery did not reproduce the live run.

    ``schedule`` is the (shrunk) schedule and ``history_path`` a saved history
    that reproduces the problem with ``replay check`` or a Replayer.
    """

    def __init__(self, what: str, *, workflow_type: str, schedule: Sequence[Step],
                 history_path: Path | None) -> None:
        saved = f"\nSaved history: {history_path}" if history_path is not None else ""
        super().__init__(
            f"[RPL-T01] determinism check of workflow {workflow_type!r} failed: {what}\n"
            f"Schedule:\n{format_schedule(schedule)}{saved}"
        )
        self.what = what
        self.schedule = list(schedule)
        self.history_path = history_path


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


@attrs.frozen(kw_only=True)
class DeterminismReport:
    """What :func:`check_determinism` ran: how many schedules and how long they took."""

    workflow_type: str
    examples: int
    seconds: float

    @property
    def seconds_per_example(self) -> float:
        return self.seconds / self.examples if self.examples else 0.0


ActivityDoubles = Mapping[str, Callable[..., Any]] | Sequence[Callable[..., Any]]


class _Doubles:
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
            cmd = driver.instance._open.get(event_id)
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


def _open(events: Sequence[Event], kind: type[Event]) -> list[Any]:
    done = {getattr(e, ref) for e in events if type(e) in _INPUTS
            for ref in _RESULT_REFS if hasattr(e, ref)}
    return [e for e in events if isinstance(e, kind) and e.event_id not in done]


class _Run:
    """Applies one schedule to a fresh driver."""

    def __init__(self, workflow: type, args: Sequence[Any], workflows: Sequence[type],
                 doubles: _Doubles, crash: bool) -> None:
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
                                         _ask(d.instance, step.name, step.args)))
        elif isinstance(step, Crash):
            if self.crash:
                self._rebuild()
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
            self._activity(step.kind)
        elif isinstance(step, ChildOutcome):
            self._child(step.kind)
        elif isinstance(step, ExternalSignalOutcome):
            self._external(step.kind)

    def _activity(self, kind: str) -> None:
        d = self.driver
        open_ = _open(d.events, ActivityScheduled)
        if kind == "canceled":
            asked = {e.scheduled_event_id for e in d.events
                     if isinstance(e, ActivityCancelRequested)}
            targets = [a for a in open_ if a.event_id in asked]
            if targets:
                d._input(ActivityCanceled, scheduled_event_id=targets[0].event_id)
            return
        if not open_:
            return
        act: ActivityScheduled = open_[0]
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

    def _child(self, kind: str) -> None:
        d = self.driver
        open_ = _open(d.events, ChildWorkflowStarted)
        if not open_:
            return
        child: ChildWorkflowStarted = open_[0]
        if kind == "complete":
            ok, value = self.doubles.outcome(d, child.event_id, child.workflow_type, child.args)
            if ok:
                d.complete_child(child, value)
                return
            kind = "fail"
        if kind == "fail":
            d._input(ChildWorkflowFailed, initiated_event_id=child.event_id,
                     failure=Failure(message="child failed", type="ApplicationError"))
        else:
            d._input(ChildWorkflowCanceled, initiated_event_id=child.event_id)

    def _external(self, kind: str) -> None:
        d = self.driver
        open_ = _open(d.events, ExternalSignalSent)
        if not open_:
            return
        if kind == "delivered":
            d._input(ExternalSignalDelivered, initiated_event_id=open_[0].event_id)
        else:
            d._input(ExternalSignalFailed, initiated_event_id=open_[0].event_id,
                     failure=Failure(message="no such workflow", type="NotFound"))

    def _rebuild(self) -> None:
        """Drop the instance; replay the recorded history into a new one (a crash)."""
        d = self.driver
        inst = _fresh(d.registry, d.events, d.converter, self.guard)
        tail = replay_events(inst, d.events)
        d.instance = inst
        d._pending = list(tail.pending)


def _fresh(registry: WorkflowRegistry, events: Sequence[Event], converter: Any,
           guard: Any) -> WorkflowInstance:
    started = events[0]
    assert isinstance(started, WorkflowStarted)
    return new_instance(registry, "run-1", started, converter, guard)


def _ask(inst: WorkflowInstance, name: str, args: Sequence[Any]) -> tuple[str, Any]:
    try:
        return ("answer", inst.query(name, inst.converter.to_payloads(args)))
    except Exception as exc:
        return ("error", type(exc).__name__)


# --- the checks -------------------------------------------------------------------------------


class _Checker:
    def __init__(self, workflow: type, args: Sequence[Any], workflows: Sequence[type],
                 activities: ActivityDoubles | None, allow_task_errors: bool) -> None:
        self.allow_task_errors = allow_task_errors
        self.workflow = workflow
        self.args = tuple(args)
        self.workflows = [w for w in workflows if w is not workflow]
        self.activities = activities
        self.registry = WorkflowRegistry([workflow, *self.workflows])
        self.type_name = WorkflowDefinition.of(workflow).name or workflow.__name__
        self.examples = 0

    def check(self, schedule: Sequence[Step]) -> None:
        self.examples += 1
        doubles = _Doubles(self.activities)
        live = _Run(self.workflow, self.args, self.workflows, doubles, crash=False
                    ).run(schedule)
        if live.task_error is not None and not self.allow_task_errors:
            self._fail(f"the workflow task failed at step {live.task_error[0]} (a bug in the "
                       f"workflow code, or inputs it cannot take; pass allow_task_errors=True "
                       f"to only check replay up to it): {live.task_error_text}",
                       schedule, live.events)
        self._check_replay(schedule, live)
        if any(isinstance(s, Crash) for s in schedule):
            crashed = _Run(self.workflow, self.args, self.workflows, doubles, crash=True
                           ).run(schedule)
            self._check_crash(schedule, live, crashed)

    def _fail(self, what: str, schedule: Sequence[Step], events: Sequence[Event]) -> None:
        path: Path | None = None
        try:
            path = Path(tempfile.mkdtemp(prefix="replay-determinism-")) / \
                f"{self.type_name}.json"
            History("run-1", list(events)).save(path)
        except (OSError, ReplayError):
            path = None
        raise DeterminismViolation(what, workflow_type=self.type_name, schedule=schedule,
                                   history_path=path)

    def _check_replay(self, schedule: Sequence[Step], live: RunOutcome) -> None:
        history = History("run-1", list(live.events))
        replayed = Replayer(workflows=[self.workflow, *self.workflows],
                            guard=guard_for("strict")).replay_sync(
            history, raise_on_replay_failure=False)
        if replayed.replay_failure is not None:
            self._fail(f"replaying the live history failed: {replayed.replay_failure}",
                       schedule, live.events)
        inst = replayed.instance
        assert inst is not None
        lv = live.instance
        if live.task_error is None and (inst.closed, inst.result_payload, inst.failure) != (
                lv.closed, lv.result_payload, lv.failure):
            self._fail(f"replay ended with closed={inst.closed} result={inst.result_payload!r} "
                       f"failure={inst.failure!r}, the live run with closed={lv.closed} "
                       f"result={lv.result_payload!r} failure={lv.failure!r}",
                       schedule, live.events)
        for probe in live.probes:
            again = _fresh(self.registry, live.events, lv.converter, guard_for("strict"))
            try:
                replay_events(again, live.events[:probe.prefix])
            except ReplayError as exc:
                self._fail(f"replaying the first {probe.prefix} events for the query at step "
                           f"{probe.step} failed: {exc}", schedule, live.events)
            answer = _ask(again, probe.name, probe.args)
            if answer != probe.answer:
                self._fail(f"query {probe.name!r} at step {probe.step} (after event "
                           f"{probe.prefix}) answered {probe.answer!r} live but {answer!r} "
                           "on replay", schedule, live.events)

    def _check_crash(self, schedule: Sequence[Step], live: RunOutcome, crashed: RunOutcome
                     ) -> None:
        a, b = live.events, crashed.events
        if a != b:
            i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                     min(len(a), len(b)))
            first = f"live {a[i]!r}" if i < len(a) else "live: (end of history)"
            second = f"after crashes {b[i]!r}" if i < len(b) else \
                "after crashes: (end of history)"
            self._fail(f"a run killed at its Crash steps and recovered recorded a different "
                       f"history from event {i + 1}: {first}; {second}", schedule, b)
        if live.task_error != crashed.task_error:
            self._fail(f"workflow task errors differ: live {live.task_error}, after crashes "
                       f"{crashed.task_error}", schedule, b)
        if live.updates != crashed.updates:
            self._fail(f"update outcomes differ: live {live.updates}, after crashes "
                       f"{crashed.updates}", schedule, b)
        if [p.answer for p in live.probes] != [p.answer for p in crashed.probes]:
            self._fail("query answers differ between the live run and the crashed one",
                       schedule, b)


def _first_violation(group: BaseExceptionGroup[BaseException]) -> DeterminismViolation | None:
    for exc in group.exceptions:
        if isinstance(exc, DeterminismViolation):
            return exc
        if isinstance(exc, BaseExceptionGroup):
            found = _first_violation(exc)
            if found is not None:
                return found
    return None


def check_determinism(
    workflow: type,
    *,
    args: Sequence[Any] = (),
    inputs: st.SearchStrategy[list[Step]] | None = None,
    activities: ActivityDoubles | None = None,
    payloads: Mapping[str, st.SearchStrategy[tuple[Any, ...]]] | None = None,
    max_examples: int | None = None,
    workflows: Sequence[type] = (),
    hypothesis_settings: settings | None = None,
    allow_task_errors: bool = False,
) -> DeterminismReport:
    """Hammer ``workflow`` with generated schedules; raise DeterminismViolation on a mismatch.

    ``inputs`` is a strategy of schedules (default: :func:`replay.testing.schedules`
    from the workflow's declared signals, updates and queries, with arguments
    drawn from their annotations or from ``payloads[handler_name]``).
    ``activities`` gives activity results: test doubles (functions declared with
    ``activity.defn``) or a mapping from activity (or child workflow) type name
    to a callable; it is called with the decoded arguments, its return value is
    the result and an exception it raises is the failure. Without one an
    activity succeeds with None. ``workflows`` are other classes the run needs
    (children are never run, their outcomes are generated). A workflow task
    failure (an exception out of workflow code) under a schedule is reported
    too, unless ``allow_task_errors``.
    Hypothesis shrinks a failing schedule; the error prints it and the path of
    a saved history that reproduces it. Runs in memory, no store or worker.
    """
    checker = _Checker(workflow, args, workflows, activities, allow_task_errors)
    strategy = inputs if inputs is not None else schedules(workflow, payloads=payloads)
    base = hypothesis_settings if hypothesis_settings is not None else settings()
    chosen = settings(base, deadline=None, report_multiple_bugs=False,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                      max_examples=max_examples if max_examples is not None
                      else base.max_examples)

    @chosen
    @given(strategy)
    def run(schedule: list[Step]) -> None:
        checker.check(schedule)

    began = time.perf_counter()
    try:
        run()
    except FlakyFailure as flaky:
        found = _first_violation(flaky)
        if found is None:
            raise
        raise DeterminismViolation(
            f"{found.what} (hypothesis saw this schedule fail only some of the times it "
            "ran it: the workflow keeps state outside the run, e.g. in a module global)",
            workflow_type=checker.type_name, schedule=found.schedule,
            history_path=found.history_path) from flaky
    return DeterminismReport(workflow_type=checker.type_name, examples=checker.examples,
                             seconds=time.perf_counter() - began)
