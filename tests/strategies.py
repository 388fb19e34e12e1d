"""Hypothesis strategies for events, histories and store workloads.

Built from the attrs classes themselves (:func:`events_of` reads each kind's
fields), so a new event kind or field is covered without touching this file.
Shared by the history, replay and property tests.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from hypothesis import strategies as st

from replay.history import (
    EVENT_KINDS,
    TERMINAL_KINDS,
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
    Failure,
    History,
    MarkerRecorded,
    RetryPolicyData,
    SearchAttributesUpserted,
    SignalReceived,
    TimerCanceled,
    TimerFired,
    TimerStarted,
    UpdateAccepted,
    UpdateCompleted,
    WorkflowContinuedAsNew,
    WorkflowStarted,
    WorkflowTaskCompleted,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)

# --- leaves -----------------------------------------------------------------------------------

utc_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650))
short_text = st.text(max_size=12)
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | short_text
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(short_text, children, max_size=4),
    max_leaves=10,
)
"""Any JSON-able value (what payload fields of events hold)."""

failures: st.SearchStrategy[Failure] = st.recursive(
    st.builds(Failure, message=short_text, type=names, non_retryable=st.booleans(),
              details=st.lists(json_values, max_size=2), stack_trace=short_text),
    lambda causes: st.builds(Failure, message=short_text, type=names, cause=causes),
    max_leaves=3,
)
retry_policies = st.builds(
    RetryPolicyData,
    initial_interval=durations,
    backoff_coefficient=st.floats(min_value=1, max_value=10),
    maximum_interval=st.none() | durations,
    maximum_attempts=st.integers(min_value=0, max_value=100),
    non_retryable_error_types=st.lists(names, max_size=3),
)

_BY_TYPE: dict[Any, st.SearchStrategy[Any]] = {
    int: st.integers(min_value=0, max_value=10**6),
    str: short_text,
    bool: st.booleans(),
    float: st.floats(allow_nan=False, allow_infinity=False),
    datetime: utc_datetimes,
    timedelta: durations,
    Any: json_values,
    Failure: failures,
    RetryPolicyData: retry_policies,
}


def strategy_for(hint: Any) -> st.SearchStrategy[Any]:
    """A strategy for values of an event field's type."""
    if hint in _BY_TYPE:
        return _BY_TYPE[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return st.one_of(*(st.none() if a is type(None) else strategy_for(a) for a in args))
    if origin is list:
        return st.lists(strategy_for(args[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(short_text, strategy_for(args[1]), max_size=3)
    raise TypeError(f"no strategy for field type {hint!r}; add one to tests/strategies.py")


_SA_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
_SA_NAMES = st.sampled_from(["Customer", "Amount", "Tags", "Due", "_x1"])
_SA_VALUES: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.builds(lambda v: {"type": "Keyword", "value": v}, _SA_TEXT),
    st.builds(lambda v: {"type": "Text", "value": v}, _SA_TEXT),
    st.builds(lambda v: {"type": "Int", "value": v}, st.integers(-(2**63), 2**63 - 1)),
    st.builds(lambda v: {"type": "Float", "value": v},
              st.floats(allow_nan=False, allow_infinity=False)),
    st.builds(lambda v: {"type": "Bool", "value": v}, st.booleans()),
    st.builds(lambda v: {"type": "Datetime",
                         "value": v.isoformat(timespec="microseconds")}, utc_datetimes),
    st.builds(lambda v: {"type": "KeywordList", "value": v}, st.lists(_SA_TEXT, max_size=3)),
)
"""Stored search attribute values (what a history records), of every type."""


def search_attribute_maps(*, unset: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """Valid ``search_attributes`` fields (with ``unset``: names may map to None)."""
    values = st.one_of(st.none(), _SA_VALUES) if unset else _SA_VALUES
    return st.dictionaries(_SA_NAMES, values, max_size=3)


def _field_strategies(cls: type[Event]) -> dict[str, st.SearchStrategy[Any]]:
    hints = typing.get_type_hints(cls)
    found = {f.name: strategy_for(hints[f.name]) for f in attrs.fields(cls)}
    if "search_attributes" in found:
        found["search_attributes"] = search_attribute_maps(
            unset=cls is SearchAttributesUpserted)
    return found


def events_of(cls: type[Event], **fixed: Any) -> st.SearchStrategy[Event]:
    """Events of one kind with every field drawn, except those given in ``fixed``."""
    fields = _field_strategies(cls)
    fields["event_id"] = st.integers(min_value=1, max_value=10**6)
    fields.update({k: st.just(v) for k, v in fixed.items()})
    return st.fixed_dictionaries(fields).map(lambda kw: cls(**kw))


any_event: st.SearchStrategy[Event] = st.sampled_from(sorted(EVENT_KINDS)).flatmap(
    lambda kind: events_of(EVENT_KINDS[kind]))
"""One event of any kind, fields unconstrained (for codec tests)."""


# --- valid histories --------------------------------------------------------------------------

_COMMANDS: tuple[type[Event], ...] = (
    ActivityScheduled, TimerStarted, ChildWorkflowStarted, ExternalSignalSent, MarkerRecorded,
    UpdateAccepted, EventEmitted, SearchAttributesUpserted,
)
_RESULTS: dict[type[Event], tuple[type[Event], ...]] = {
    ActivityScheduled: (ActivityCompleted, ActivityFailed, ActivityTimedOut, ActivityCanceled),
    TimerStarted: (TimerFired, TimerCanceled),
    ChildWorkflowStarted: (ChildWorkflowCompleted, ChildWorkflowFailed, ChildWorkflowCanceled),
    ExternalSignalSent: (ExternalSignalDelivered, ExternalSignalFailed),
    UpdateAccepted: (UpdateCompleted,),
}
_REF_FIELD = {
    ActivityScheduled: "scheduled_event_id", TimerStarted: "started_event_id",
    ChildWorkflowStarted: "initiated_event_id", ExternalSignalSent: "initiated_event_id",
    UpdateAccepted: "accepted_event_id",
}


class _Builder:
    """Grows a valid history one event at a time, tracking which commands are open."""

    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any], workflow_id: str) -> None:
        self.draw = draw
        self.time = draw(utc_datetimes)
        self.events: list[Event] = []
        self.open: dict[int, Event] = {}
        self.add(WorkflowStarted, workflow_id=workflow_id, task_queue="q")

    def add(self, cls: type[Event], **fixed: Any) -> Event:
        self.time += self.draw(st.timedeltas(min_value=timedelta(0),
                                             max_value=timedelta(hours=1)))
        event: Event = self.draw(events_of(cls, event_id=len(self.events) + 1,
                                           time=self.time, **fixed))
        self.events.append(event)
        return event

    def command(self) -> None:
        cls = self.draw(st.sampled_from(_COMMANDS))
        fixed: dict[str, Any] = {}
        if cls is ActivityScheduled:
            fixed["task_queue"] = self.draw(st.sampled_from(["aq", "bq"]))
        if cls is TimerStarted:
            duration = self.draw(st.timedeltas(min_value=timedelta(0),
                                               max_value=timedelta(days=2)))
            fixed.update(duration=duration, fire_at=self.time + duration)
        if cls is UpdateAccepted:
            fixed["update_id"] = f"u{len(self.events) + 1}"
        event = self.add(cls, **fixed)
        if cls in _RESULTS:
            self.open[event.event_id] = event

    def result(self) -> None:
        command_id = self.draw(st.sampled_from(sorted(self.open)))
        command = self.open[command_id]
        if isinstance(command, ActivityScheduled) and self.draw(st.booleans()):
            self.add(ActivityCancelRequested, scheduled_event_id=command_id)
            return
        cls = self.draw(st.sampled_from(_RESULTS[type(command)]))
        fixed: dict[str, Any] = {_REF_FIELD[type(command)]: command_id}
        if isinstance(command, UpdateAccepted):
            fixed["update_id"] = command.update_id
        self.add(cls, **fixed)
        del self.open[command_id]


@st.composite
def histories(draw: st.DrawFn, *, max_steps: int = 20, closed: bool | None = None,
              run_id: str = "run-1", workflow_id: str = "wf-1") -> History:
    """A valid history: commands, inputs, results of open commands, task boundaries.

    ``closed`` forces a terminal event at the end (True) or none (False).
    """
    b = _Builder(draw, workflow_id)
    for _ in range(draw(st.integers(min_value=0, max_value=max_steps))):
        step = draw(st.sampled_from(["command", "input", "result", "task"]))
        if step == "result" and b.open:
            b.result()
        elif step == "input":
            b.add(draw(st.sampled_from([SignalReceived, CancelRequested])))
        elif step == "task":
            b.add(WorkflowTaskCompleted)
        else:
            b.command()
    if closed if closed is not None else draw(st.booleans()):
        terminal = draw(st.sampled_from(TERMINAL_KINDS))
        fixed = {"new_run_id": f"{run_id}-next"} if terminal is WorkflowContinuedAsNew else {}
        b.add(terminal, **fixed)
    return History(run_id, b.events)


# --- broken histories -------------------------------------------------------------------------


@attrs.frozen
class Broken:
    """An invalid event sequence and the rule, event id and message part it must fail with."""

    events: list[Event]
    rule: str
    event_id: int
    message: str


def _renumber(events: list[Event], start: int) -> list[Event]:
    return [attrs.evolve(e, event_id=start + i) for i, e in enumerate(events)]


@st.composite
def broken_histories(draw: st.DrawFn) -> Broken:
    """A valid history with one rule broken (each rule of History validation)."""
    events = list(draw(histories(closed=False, max_steps=8)))
    n = len(events)
    rule = draw(st.sampled_from(["gap", "duplicate", "first", "second-start", "after-terminal",
                                 "unknown-command", "wrong-command"]))
    if rule == "gap" or (rule == "duplicate" and n < 2):
        extra = draw(st.integers(min_value=1, max_value=5))
        events.append(draw(events_of(SignalReceived, event_id=n + 1 + extra)))
        return Broken(events, "contiguous-ids", n + 1 + extra,
                      f"gap in event ids: expected id {n + 1}, found {n + 1 + extra}")
    if rule == "duplicate":
        events.append(draw(events_of(SignalReceived, event_id=n)))
        return Broken(events, "contiguous-ids", n,
                      f"duplicate event ids: expected id {n + 1}, found {n}")
    if rule == "first":
        first = draw(events_of(SignalReceived, event_id=1))
        return Broken([first, *events[1:]], "first-started", 1,
                      "the first event must be WorkflowStarted, found SignalReceived")
    if rule == "second-start":
        at = draw(st.integers(min_value=1, max_value=n))
        again = attrs.evolve(events[0], event_id=at + 1)
        return Broken([*events[:at], again, *_renumber(events[at:], at + 2)], "first-started",
                      at + 1, "WorkflowStarted may only be the first event")
    if rule == "after-terminal":
        terminal = draw(events_of(draw(st.sampled_from(
            [t for t in TERMINAL_KINDS if t is not WorkflowContinuedAsNew])), event_id=n + 1))
        late = draw(events_of(SignalReceived, event_id=n + 2))
        return Broken([*events, terminal, late], "after-terminal", n + 2,
                      f"SignalReceived comes after terminal event {n + 1}; nothing may follow")
    target = n + 1 + draw(st.integers(min_value=0, max_value=3)) if rule == "unknown-command" \
        else 1
    result = draw(events_of(ActivityCompleted, event_id=n + 1, scheduled_event_id=target))
    found = "no earlier event" if rule == "unknown-command" else "a WorkflowStarted"
    return Broken([*events, result], "unknown-command", n + 1,
                  f"ActivityCompleted.scheduled_event_id={target} must name an earlier "
                  f"ActivityScheduled, but that id is {found}")


# --- race programs (tests/replay/workflows/races.py: ProgramWorkflow) -------------------------

_race_leaves: st.SearchStrategy[list[Any]] = st.one_of(
    st.tuples(st.just("sleep"), st.integers(min_value=1, max_value=4)).map(list),
    st.tuples(st.just("fail"), st.integers(min_value=1, max_value=4)).map(list),
    st.just(["activity"]),
)
race_programs: st.SearchStrategy[list[Any]] = st.recursive(
    _race_leaves,
    lambda children: st.tuples(st.sampled_from(["group", "race", "loop", "spawn"]),
                               st.lists(children, min_size=1, max_size=4)).map(list),
    max_leaves=12,
)
"""Programs of TaskGroups (a failing child cancels the others), asyncio.wait races that
cancel the pending set, and tasks that create tasks, as ``ProgramWorkflow`` runs them."""


# --- store workloads (they live in the public store test kit) ---------------------------------

from replay.testing.store_conformance import (  # noqa: E402  (re-exported for the tests)
    STEP_KINDS as STEP_KINDS,
)
from replay.testing.store_conformance import Step as Step  # noqa: E402
from replay.testing.store_conformance import workload_steps as workload_steps  # noqa: E402
from replay.testing.store_conformance import workloads as workloads  # noqa: E402
