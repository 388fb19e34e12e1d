"""The activation cycle (replay/_instance.py): signals, queries, updates and handlers.

Every scenario is recorded with the WorkflowDriver and replayed by the
Replayer, which must reproduce the commands, the result and the queries.
"""

from __future__ import annotations

import logging
from typing import Any

import attrs
import pytest

from replay.exceptions import (
    QueryFailedError,
    ReadOnlyContextError,
    UnknownQueryError,
)
from replay.history import (
    ActivityCompleted,
    ActivityScheduled,
    ChildWorkflowStarted,
    SignalReceived,
    UpdateAccepted,
    UpdateCompleted,
    WorkflowCompleted,
    WorkflowStarted,
)
from replay.testing import WorkflowDriver
from replay.worker import Replayer

from .support import assert_replays, kinds, record
from .workflows.greeting import (
    ApproveInput,
    AsyncGreetingWorkflow,
    GetLanguagesInput,
    GreetingWorkflow,
    Language,
)
from .workflows.handlers import (
    CatalogWorkflow,
    DynamicHandlersWorkflow,
    DynamicWorkflow,
    LateHandlerWorkflow,
    LockedUpdatesWorkflow,
    Note,
    ReadOnlyWorkflow,
    UnfinishedWorkflow,
)

ALL_LANGUAGES = [lang.value for lang in Language]


# --- the seed sample -------------------------------------------------------------------


def greeting_scenario(d: WorkflowDriver) -> dict[str, Any]:
    """The guide's walk-through: queries, an accepted and a rejected update, approval."""
    seen: dict[str, Any] = {}
    d.step()
    seen["supported"] = d.query("get_languages", GetLanguagesInput(False))
    seen["all"] = d.query("get_languages", GetLanguagesInput(True))
    seen["chinese"] = d.update("set_language", Language.Chinese)
    seen["french"] = d.update("set_language", Language.French)
    d.step()
    seen["after_update"] = d.query("get_language")
    d.signal("approve", ApproveInput("Ann"))
    d.step()
    return seen


async def test_greeting_queries_updates_signal_and_result() -> None:
    d, seen = record(GreetingWorkflow, greeting_scenario)

    assert seen["supported"] == [Language.English.value, Language.Chinese.value]
    assert seen["all"] == ALL_LANGUAGES
    assert seen["after_update"] == Language.Chinese.value
    accepted = d.update_outcomes[seen["chinese"]]
    rejected = d.update_outcomes[seen["french"]]
    assert accepted.accepted and accepted.failure is None
    assert not rejected.accepted
    assert rejected.failure is not None
    assert rejected.failure.message == "French is not supported"
    assert rejected.failure.type == "ValueError"
    assert kinds(d.events) == [
        "WorkflowStarted", "WorkflowTaskCompleted",
        "UpdateAccepted", "UpdateCompleted", "WorkflowTaskCompleted",
        "SignalReceived", "WorkflowCompleted",
    ]
    # the rejected update left no trace: only the Chinese one is in the history
    updates = [e for e in d.events if isinstance(e, UpdateAccepted | UpdateCompleted)]
    assert {e.update_id for e in updates} == {seen["chinese"]}
    assert d.events[2] == UpdateAccepted(event_id=3, time=d.events[2].time,
                                         update_id=seen["chinese"], name="set_language",
                                         args=[Language.Chinese.value])
    completed = d.events[3]
    assert isinstance(completed, UpdateCompleted)
    assert completed.result == Language.English.value and completed.accepted_event_id == 3
    assert d.events[-1] == WorkflowCompleted(event_id=7, time=d.events[-1].time,
                                             result="你好,世界")


async def test_greeting_recording_is_reproducible_and_replays() -> None:
    d, _ = record(GreetingWorkflow, greeting_scenario)
    again, _ = record(GreetingWorkflow, greeting_scenario)
    assert again.events == d.events

    result = await Replayer(workflows=[GreetingWorkflow]).replay_workflow(d.history())
    assert result.replay_failure is None
    assert result.status == "completed"
    assert result.result == "你好,世界" == d.instance.result_payload
    for args in ((GetLanguagesInput(False),), (GetLanguagesInput(True),), ()):
        name = "get_language" if not args else "get_languages"
        assert result.query(name, *args) == d.query(name, *args)
    assert result.query("get_language") == Language.Chinese.value
    assert result.query("get_languages", GetLanguagesInput(True)) == ALL_LANGUAGES


def test_unknown_and_failing_queries() -> None:
    d = WorkflowDriver(GreetingWorkflow)
    d.step()
    with pytest.raises(UnknownQueryError) as err:
        d.query("languages")
    assert str(err.value) == (
        "[RPL-Q01] workflow 'GreetingWorkflow' has no query 'languages' (known queries: "
        "get_language, get_languages). Check the name, or add a @workflow.query handler."
    )
    with pytest.raises(QueryFailedError) as failed:
        d.query("get_languages")  # its required argument is missing
    assert str(failed.value).startswith("[RPL-Q02] query 'get_languages' failed: TypeError:")
    assert "__stack_trace" not in str(err.value)
    assert "task workflow-run:" in d.query("__stack_trace")


# --- async handlers ----------------------------------------------------------------------


def async_greeting_scenario(d: WorkflowDriver) -> None:
    d.step()
    d.update("set_language", Language.French)
    d.step()
    d.signal("approve", ApproveInput("Ann"))
    d.step()
    d.complete_activity(d.open_activities()[0], "Bonjour, monde")
    d.step()


async def test_async_update_runs_an_activity_and_run_waits_for_it() -> None:
    d, _ = record(AsyncGreetingWorkflow, async_greeting_scenario)
    assert kinds(d.events) == [
        "WorkflowStarted", "WorkflowTaskCompleted",
        "UpdateAccepted", "ActivityScheduled", "WorkflowTaskCompleted",
        # approved, but the update handler still runs: wait_condition(all_handlers_finished)
        "SignalReceived", "WorkflowTaskCompleted",
        "ActivityCompleted", "UpdateCompleted", "WorkflowCompleted",
    ]
    scheduled = d.events[3]
    assert isinstance(scheduled, ActivityScheduled)
    assert scheduled.activity_type == "call_greeting_service"
    assert scheduled.args == [Language.French.value]
    assert d.instance.result_payload == "Bonjour, monde"
    assert_replays(d, queries=[("get_language",)])


async def test_async_update_failure_is_recorded_in_update_completed() -> None:
    d = WorkflowDriver(AsyncGreetingWorkflow)
    d.step()
    uid = d.update("set_language", Language.Spanish)
    d.step()
    d.complete_activity(d.open_activities()[0], None)  # the service knows no Spanish
    d.step()
    completed = d.events[-2]
    assert isinstance(completed, UpdateCompleted) and completed.update_id == uid
    assert completed.failure is not None
    assert completed.failure.message == "Greeting service does not support Spanish"
    assert completed.failure.type == "ApplicationError"
    assert d.query("get_language") == Language.English.value
    assert_replays(d, queries=[("get_language",)])


async def test_lock_serialises_two_concurrent_updates() -> None:
    d = WorkflowDriver(LockedUpdatesWorkflow)
    d.step()
    first = d.update("fetch", "a")
    second = d.update("fetch", "b")
    d.step()
    # both accepted, but only the lock holder reached its activity
    assert kinds(d.events[2:]) == [
        "UpdateAccepted", "UpdateAccepted", "ActivityScheduled", "WorkflowTaskCompleted"]
    assert [a.args for a in d.open_activities()] == [["a"]]
    d.signal("finish")
    d.step()
    assert not d.instance.closed  # run waits for all_handlers_finished
    d.complete_activity(d.open_activities()[0], "A")
    d.step()
    assert [a.args for a in d.open_activities()] == [["b"]]
    assert d.query("entries") == ["a:start", "a:end", "b:start"]
    d.complete_activity(d.open_activities()[0], "B")
    d.step()
    assert d.instance.closed
    assert d.instance.result_payload == ["a:start", "a:end", "b:start", "b:end"]
    results = {e.update_id: e.result for e in d.events if isinstance(e, UpdateCompleted)}
    assert results == {first: "A", second: "B"}
    assert_replays(d, queries=[("entries",)])


# --- dynamic handlers ----------------------------------------------------------------------


async def test_dynamic_signal_query_and_update_handlers() -> None:
    d = WorkflowDriver(DynamicHandlersWorkflow)
    d.signal("apples", 3)
    d.signal("pears")
    d.step()
    ok = d.update("double", 21)
    refused = d.update("bad-one", 1)
    d.step()
    assert d.update_outcomes[ok].accepted
    failure = d.update_outcomes[refused].failure
    assert failure is not None and failure.message == "update bad-one is refused"
    assert d.query("apples") == 3
    assert d.query("double") == 42
    assert d.query("signals") == ["apples", "pears"]
    d.signal("stop")
    d.step()
    assert d.instance.result_payload == {"apples": 3, "double": 42}
    result = assert_replays(d, queries=[("apples",), ("double",), ("signals",)])
    assert result.query("nothing") is None


async def test_dynamic_workflow_runs_any_unregistered_type() -> None:
    d = WorkflowDriver(DynamicWorkflow, "Ann")
    d.step()
    assert d.open_activities()[0].args == ["Ann"]
    d.complete_activity(d.open_activities()[0], "Hello, Ann")
    d.step()
    assert d.instance.result_payload == "DynamicWorkflow: Hello, Ann"
    assert_replays(d)

    # the same history under a type name nobody registered replays through it too,
    # as long as the result names that type (it reads workflow.info())
    h = d.history()
    started = h.events[0]
    completed = h.events[-1]
    assert isinstance(started, WorkflowStarted) and isinstance(completed, WorkflowCompleted)
    renamed = [attrs.evolve(started, workflow_type="Anything"), *h.events[1:-1],
               attrs.evolve(completed, result="Anything: Hello, Ann")]
    from replay.history import History

    replayed = await Replayer(workflows=[DynamicWorkflow]).replay_workflow(
        History(h.run_id, renamed))
    assert replayed.replay_failure is None and replayed.result == "Anything: Hello, Ann"


async def test_signals_before_a_handler_exists_are_buffered() -> None:
    d = WorkflowDriver(LateHandlerWorkflow)
    d.signal("note", Note("first", 1))
    d.signal("ping")
    d.step()
    assert d.query("seen") == []  # no handler yet: both wait in the buffer
    d.signal("note", Note("second", 2))
    d.signal("open")
    d.step()
    # set_signal_handler delivered the buffered notes in arrival order, decoded as Note
    assert d.query("seen") == ["first@1", "second@2", "ping"]
    d.signal("note", Note("third", 3))
    d.step()
    assert d.instance.result_payload == ["first@1", "second@2", "third@3", "ping"]
    assert_replays(d, queries=[("seen",)])


# --- read-only contexts -----------------------------------------------------------------


READ_ONLY_TAIL = (
    "s are read-only and must not issue commands (activities, timers, signals, emits...). "
    "Move it into a signal or update handler."
)


@pytest.mark.parametrize(("query", "what"), [
    ("sneaky_activity", "workflow.start_activity()"),
    ("sneaky_execute_activity", "creating an asyncio task"),
    ("sneaky_sleep", "starting a durable timer"),
    ("sneaky_emit", "workflow.emit()"),
    ("sneaky_child", "workflow.start_child_workflow()"),
])
async def test_query_that_issues_a_command_fails_and_changes_nothing(
        query: str, what: str) -> None:
    d = WorkflowDriver(ReadOnlyWorkflow)
    d.step()
    with pytest.raises(ReadOnlyContextError) as err:
        d.query(query)
    assert str(err.value) == (
        f"[RPL-RO01] {what} is not allowed in a query handler: query handler"
        + READ_ONLY_TAIL
    )
    # the failed query left no trace: the next activation records exactly what a run
    # without the query records, and the history replays
    d.signal("start")
    d.step()
    clean = WorkflowDriver(ReadOnlyWorkflow)
    clean.step()
    clean.signal("start")
    clean.step()
    assert d.events == clean.events
    assert [type(e) for e in d.events[-3:-1]] == [ChildWorkflowStarted] * 2
    assert_replays(d)


@pytest.mark.parametrize(("how", "what"), [
    ("activity", "workflow.start_activity()"),
    ("sleep", "creating an asyncio task"),
    ("emit", "workflow.emit()"),
])
async def test_validator_that_issues_a_command_rejects_the_update(how: str, what: str) -> None:
    d = WorkflowDriver(ReadOnlyWorkflow)
    d.step()
    uid = d.update("bump", how)
    ok = d.update("bump", "plainly")
    d.step()
    failure = d.update_outcomes[uid].failure
    assert failure is not None and failure.type == "ReadOnlyContextError"
    assert failure.message == (
        f"[RPL-RO01] {what} is not allowed in a update validator: update validator"
        + READ_ONLY_TAIL
    )
    assert d.update_outcomes[ok].accepted
    assert d.query("count_value") == 1
    assert kinds(d.events[2:]) == ["UpdateAccepted", "UpdateCompleted", "WorkflowTaskCompleted"]
    assert_replays(d, queries=[("count_value",)])


# --- unfinished handlers ------------------------------------------------------------------


def finish_with_update_running(update: str) -> WorkflowDriver:
    d = WorkflowDriver(UnfinishedWorkflow)
    d.step()
    d.update(update)
    d.step()
    d.signal("finish")
    d.step()
    assert d.instance.closed
    return d


async def test_unfinished_update_handler_logs_a_warning(caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    with caplog.at_level(logging.WARNING, logger="replay.workflow"):
        d = finish_with_update_running("slow")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].getMessage() == (
        "workflow 'UnfinishedWorkflow' run run-1 finished while handlers were still running: "
        "update 'slow'. Their updates fail for callers. Wait for them with "
        "`await workflow.wait_condition(workflow.all_handlers_finished)` before returning, "
        "or declare them with unfinished_policy=ABANDON."
    )
    assert not any(isinstance(e, UpdateCompleted) for e in d.events)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="replay.workflow"):
        assert_replays(d)
    assert caplog.records == []  # replay does not warn again


async def test_unfinished_handler_with_abandon_policy_is_silent(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="replay"):
        d = finish_with_update_running("slow_abandon")
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert isinstance(d.events[-1], WorkflowCompleted)
    assert_replays(d)


def test_update_to_unknown_name_is_rejected_without_trace() -> None:
    d = WorkflowDriver(GreetingWorkflow)
    d.step()
    uid = d.update("set_colour", "red")
    assert d.step() == []
    failure = d.update_outcomes[uid].failure
    assert failure is not None
    assert failure.message == ("unknown update 'set_colour' for workflow 'GreetingWorkflow' "
                               "(known updates: set_language)")
    assert kinds(d.events) == ["WorkflowStarted", "WorkflowTaskCompleted"]


def test_update_with_undecodable_argument_is_rejected() -> None:
    d = WorkflowDriver(GreetingWorkflow)
    d.step()
    uid = d.update("set_language", "Klingon")
    d.step()
    failure = d.update_outcomes[uid].failure
    assert failure is not None and failure.type == "PayloadError"
    assert "cannot decode payload 'Klingon' as Language" in failure.message
    assert kinds(d.events) == ["WorkflowStarted", "WorkflowTaskCompleted"]


def test_activity_result_reaches_only_its_own_command() -> None:
    d = WorkflowDriver(LockedUpdatesWorkflow)
    d.step()
    d.update("fetch", "k")
    d.step()
    [scheduled] = d.open_activities()
    d.complete_activity(scheduled, "V")
    d.step()
    completed = [e for e in d.events if isinstance(e, ActivityCompleted)]
    assert [c.scheduled_event_id for c in completed] == [scheduled.event_id]
    assert [e for e in d.events if isinstance(e, SignalReceived)] == []


def test_application_error_in_signal_handler_fails_the_run() -> None:
    from .workflows.api_samples import FailingSignalWorkflow

    d = WorkflowDriver(FailingSignalWorkflow)
    d.step()
    d.signal("explode", "boom")
    d.step()
    assert d.instance.closed and d.instance.failure is not None
    assert d.instance.failure.message == "boom"
    assert d.instance.failure.type == "ApplicationError"
    assert_replays(d)


@pytest.mark.parametrize("batched", [False, True])
def test_validator_sees_signals_delivered_before_its_update(batched: bool) -> None:
    """Whether a signal and a later update share an activation is timing, not meaning:
    the validator must see the signal's effect either way (as handlers run in order)."""
    d = WorkflowDriver(CatalogWorkflow)
    d.step()
    d.signal("add_language", "fr")
    if not batched:
        d.step()
    uid = d.update("set_language", "fr")
    d.step()
    assert d.update_outcomes[uid].accepted, d.update_outcomes[uid].failure
    d.signal("finish")
    d.step()
    assert d.instance.result_payload == "fr"
    assert_replays(d)
