"""Replay equivalence (DESIGN invariant 2), hammered with random interleavings.

Hypothesis delivers random sequences of signals, updates (accepted and
rejected by their validators), timer firings, time jumps, cancellations and
activity outcomes (success, failure, timeout) to sample workflows through the
WorkflowDriver, batching some into one activation. Then:

* replaying the recorded history succeeds (every command was reissued and
  matched) and ends with the same status, result, failure and query answers;
* the same inputs recorded again give the same history, event for event;
* an instance rebuilt by replay at any activation boundary, then run live on
  the rest of the recorded inputs, writes exactly the recorded events (what a
  worker does after a crash or an eviction).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from replay._core._instance import UpdateDelivery, WorkflowInstance
from replay._replay._replayer import split_activations
from replay.exceptions import ApplicationError
from replay.history import UpdateAccepted
from replay.testing import WorkflowDriver
from replay.worker import Replayer
from tests.replay.workflows.greeting import (
    ApproveInput,
    AsyncGreetingWorkflow,
    GetLanguagesInput,
    GreetingWorkflow,
    Language,
)
from tests.replay.workflows.handlers import LockedUpdatesWorkflow
from tests.replay.workflows.orders import FanOutWorkflow, Item, OrderWorkflow
from tests.replay.workflows.scheduler import BusyWorkflow

Action = Callable[[WorkflowDriver], object]


@attrs.frozen
class Spec:
    """A workflow and the inputs that make sense for it."""

    workflow: type
    args: tuple[Any, ...]
    signals: dict[str, st.SearchStrategy[tuple[Any, ...]]]
    updates: dict[str, st.SearchStrategy[tuple[Any, ...]]]
    results: dict[str, st.SearchStrategy[Any]]
    queries: list[tuple[Any, ...]]


languages = st.sampled_from(list(Language))
skus = st.sampled_from(["apple", "pear", "fig"])
NO_ARGS: st.SearchStrategy[tuple[Any, ...]] = st.just(())

SPECS = [
    Spec(GreetingWorkflow, (),
         signals={"approve": st.builds(ApproveInput, st.text(max_size=3)).map(lambda a: (a,))},
         updates={"set_language": languages.map(lambda x: (x,))},
         results={},
         queries=[("get_language",), ("get_languages", GetLanguagesInput(False)),
                  ("get_languages", GetLanguagesInput(True))]),
    Spec(AsyncGreetingWorkflow, (),
         signals={"approve": st.just((ApproveInput("x"),))},
         updates={"set_language": languages.map(lambda x: (x,))},
         results={"call_greeting_service": st.one_of(st.none(), st.sampled_from(["Hola"]))},
         queries=[("get_language",)]),
    Spec(LockedUpdatesWorkflow, (),
         signals={"finish": NO_ARGS},
         updates={"fetch": st.sampled_from(["a", "b", "c"]).map(lambda x: (x,))},
         results={"lookup": st.text(max_size=2)},
         queries=[("entries",)]),
    Spec(OrderWorkflow, ("o-1",),
         signals={"add_item": st.builds(Item, skus, st.integers(1, 3), st.integers(1, 9)).map(
                      lambda i: (i,)),
                  "checkout": NO_ARGS, "cancel_order": NO_ARGS},
         updates={"apply_coupon": st.sampled_from(["TEN", "HALF", "BOGUS"]).map(lambda c: (c,)),
                  "set_quantity": st.tuples(skus, st.integers(-1, 4))},
         results={"charge": st.sampled_from(["rcpt-1", "rcpt-2"]), "ship": st.just("trk"),
                  "check_coupon": st.booleans()},
         queries=[("summary",)]),
    Spec(FanOutWorkflow, (["j1", "j2", "j3"],),
         signals={"add_job": st.sampled_from(["j4", "j5"]).map(lambda j: (j,)),
                  "close": NO_ARGS},
         updates={"pause": NO_ARGS, "resume": st.integers(-5, 600).map(lambda s: (s,))},
         results={"job": st.integers(0, 9)},
         queries=[("state",)]),
    Spec(BusyWorkflow, (4,),
         signals={"poke": NO_ARGS}, updates={}, results={"work": st.integers(0, 99)},
         queries=[]),
]


def actions(spec: Spec, d: WorkflowDriver) -> st.SearchStrategy[Action]:
    """One input that could be delivered to ``d`` now."""

    def signal(name: str, args: tuple[Any, ...]) -> Action:
        return lambda drv: drv.signal(name, *args)

    def update(name: str, args: tuple[Any, ...]) -> Action:
        return lambda drv: drv.update(name, *args)

    def activity(index: int, outcome: str, value: Any) -> Action:
        def act(drv: WorkflowDriver) -> None:
            open_ = drv.open_activities()
            target = open_[index % len(open_)]
            if outcome == "complete":
                drv.complete_activity(target, value)
            elif outcome == "fail":
                drv.fail_activity(target, ApplicationError("no", non_retryable=True))
            else:
                drv.time_out_activity(target)
        return act

    def advance(seconds: int) -> Action:
        from datetime import timedelta

        return lambda drv: drv.advance(timedelta(seconds=seconds))

    signals = st.sampled_from(sorted(spec.signals)).flatmap(
        lambda n: spec.signals[n].map(lambda a: signal(n, a)))
    choices: list[st.SearchStrategy[Action]] = [signals, signals, st.integers(1, 4000).map(
        advance)]
    if spec.updates:
        choices.append(st.sampled_from(sorted(spec.updates)).flatmap(
            lambda n: spec.updates[n].map(lambda a: update(n, a))))
    if d.open_timers():
        choices.append(st.just(lambda drv: drv.fire_next_timer()))
    open_activities = d.open_activities()
    if open_activities:
        kind = open_activities[0].activity_type
        choices.append(st.builds(
            activity, st.integers(0, 9),
            st.sampled_from(["complete", "complete", "fail", "timeout"]),
            spec.results.get(kind, st.none())))
    return st.one_of(choices)


def cancel(d: WorkflowDriver) -> None:
    d.cancel("hypothesis")


def run_script(spec: Spec, script: list[tuple[Action, bool]]) -> WorkflowDriver:
    d = WorkflowDriver(spec.workflow, *spec.args)
    d.step()
    for action, step_after in script:
        if d.instance.closed:
            break
        action(d)
        if step_after:
            d.step()
    d.step()
    return d


def random_run(spec: Spec, data: st.DataObject) -> tuple[WorkflowDriver, list[Any]]:
    d = WorkflowDriver(spec.workflow, *spec.args)
    d.step()
    script: list[tuple[Action, bool]] = []
    # a cancellation ends most runs at once, so at most one, at a drawn point
    cancel_at = data.draw(st.none() | st.integers(0, 40), label="cancel_at")
    for i in range(data.draw(st.integers(0, 40), label="length")):
        if d.instance.closed:
            break
        action = cancel if i == cancel_at else data.draw(actions(spec, d))
        step_after = data.draw(st.booleans())
        action(d)
        if step_after:
            d.step()
        script.append((action, step_after))
    d.step()
    return d, script


spec_ids = [s.workflow.__name__ for s in SPECS]


@pytest.mark.parametrize("spec", SPECS, ids=spec_ids)
@given(data=st.data())
def test_replay_reproduces_commands_result_and_queries(spec: Spec, data: st.DataObject
                                                       ) -> None:
    d, script = random_run(spec, data)
    history = d.history()
    result = Replayer(workflows=[spec.workflow]).replay_sync(history)  # raises on mismatch
    live = d.instance
    assert result.replay_failure is None
    assert result.instance is not None
    assert result.instance.closed == live.closed
    assert result.instance.last_event_id == live.last_event_id
    assert (result.result, result.failure) == (live.result_payload, live.failure)
    for name, *args in spec.queries:
        assert result.query(name, *args) == d.query(name, *args)
    # the same inputs again: the same history, event for event
    assert run_script(spec, script).events == d.events


@pytest.mark.parametrize("spec", SPECS, ids=spec_ids)
@given(data=st.data())
def test_rebuilt_instance_continues_exactly_like_the_original(spec: Spec,
                                                               data: st.DataObject) -> None:
    d, _ = random_run(spec, data)
    history = d.history()
    acts = list(split_activations(history.events))
    cut = data.draw(st.integers(0, len(acts)), label="cut")
    definition = Replayer(workflows=[spec.workflow])._registry.get(history.workflow_type)
    inst = WorkflowInstance(definition, run_id=history.run_id, started=history.started)
    for act in acts[:cut]:
        result = inst.activate(act.inputs, act.updates, act.closing.time, replaying=True,
                               recorded=act.commands)
        inst.commit_replay(result, act.commands, act.closing)
    written = list(history.events[:acts[cut - 1].closing.event_id]) if cut else []
    for act in acts[cut:]:
        # live again: updates arrive as requests and are validated once more
        updates = [UpdateDelivery(e.update_id, e.name, list(e.args))
                   for e in act.commands if isinstance(e, UpdateAccepted)]
        result = inst.activate(act.inputs, updates, act.closing.time)
        assert result.rejected_updates == []
        written.extend(act.inputs)
        written.extend(inst.commit_live(result, act.closing.time))
    recorded = history.events[:len(written)]
    assert written == list(recorded)
    assert inst.result_payload == d.instance.result_payload
