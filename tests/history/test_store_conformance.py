"""The Store conformance suite, part 1: events, commit semantics, errors, wake-ups.

Every test runs against every store (the ``store`` fixture), SQLite on a real
file. Every error test quotes the message and checks that nothing was written.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from replay.history import (
    ActivityCompleted,
    Append,
    AppendConflictError,
    Deliver,
    Event,
    History,
    HistoryError,
    RunAlreadyExistsError,
    RunClosedError,
    RunNotFoundError,
    SignalReceived,
    StaleResultError,
    Start,
    Store,
    TimerCanceled,
    TimerFired,
    WorkflowCompleted,
    WorkflowStarted,
)
from tests.history.samples import SECOND, activity, signal, started, task_done, timer
from tests.strategies import T0


def snapshot(store: Any) -> tuple[Any, ...]:
    """Everything a store holds: derived rows and the events of every run."""
    dump = store.dump_indexes()
    return dump, {r.run_id: store.read(r.run_id) for r in dump["runs"]}


def start(store: Store, run_id: str = "r1", workflow_id: str = "wf-1") -> None:
    store.commit([Start(run_id, started(workflow_id))])


# --- start ------------------------------------------------------------------------------------


def test_start_writes_event_one_and_returns_it(store: Store) -> None:
    written = store.commit([Start("r1", started(event_id=7))])
    assert written == [started()]
    assert store.read("r1") == [started()]
    assert store.last_event_id("r1") == 1
    assert store.history("r1") == History("r1", [started()])


def test_start_same_run_id_fails_and_writes_nothing(store: Store) -> None:
    start(store)
    store.append("r1", [WorkflowCompleted(event_id=2, time=T0)], 1)
    before = snapshot(store)
    with pytest.raises(RunAlreadyExistsError) as err:
        start(store, "r1", "wf-other")
    assert str(err.value) == (
        "[RPL-S05] cannot start run 'r1' of workflow id 'wf-other': run 'r1' is open with "
        "that workflow id. Nothing was written.")
    assert (err.value.run_id, err.value.existing_run_id) == ("r1", "r1")
    assert snapshot(store) == before


def test_start_while_workflow_id_is_open_fails(store: Store) -> None:
    start(store, "r1", "wf-1")
    before = snapshot(store)
    with pytest.raises(RunAlreadyExistsError, match=r"run 'r1' is open with that workflow id"):
        start(store, "r2", "wf-1")
    assert snapshot(store) == before


def test_new_run_of_a_closed_workflow_id_is_allowed(store: Store) -> None:
    start(store, "r1", "wf-1")
    store.append("r1", [WorkflowCompleted(event_id=2, time=T0)], 1)
    start(store, "r2", "wf-1")
    latest = store.latest_run("wf-1")
    assert latest is not None and latest.run_id == "r2"


def test_append_with_expected_zero_can_start_a_run(store: Store) -> None:
    store.append("r1", [started(), signal(2)], 0)
    assert [e.event_id for e in store.read("r1")] == [1, 2]


# --- conditional append -----------------------------------------------------------------------


def test_append_conflict_fails_as_a_whole(store: Store) -> None:
    start(store)
    store.append("r1", [signal(2)], 1)
    before = snapshot(store)
    with pytest.raises(AppendConflictError) as err:
        store.append("r1", [signal(2), task_done(3)], 1)
    assert str(err.value) == (
        "[RPL-S02] append to run 'r1' expected last event id 1 but the run is at 2; another "
        "writer appended first. Nothing was written: re-read the run and retry.")
    assert (err.value.run_id, err.value.expected, err.value.actual) == ("r1", 1, 2)
    assert snapshot(store) == before


def test_append_to_missing_run_fails(store: Store) -> None:
    with pytest.raises(RunNotFoundError) as err:
        store.append("nope", [signal(2)], 1)
    assert str(err.value) == "[RPL-S03] no run with id 'nope' in this store"
    assert store.last_event_id("nope") == 0 and store.get_run("nope") is None
    with pytest.raises(RunNotFoundError, match="no run with id 'nope'"):
        store.read("nope")


BAD_BATCHES: list[tuple[str, list[Event], str, int, str]] = [
    ("gap", [signal(3)], "contiguous-ids", 3, "gap in event ids: expected id 2, found 3"),
    ("duplicate", [signal(1)], "contiguous-ids", 1,
     "duplicate event ids: expected id 2, found 1"),
    ("second start", [started(event_id=2)], "first-started", 2,
     "WorkflowStarted may only be the first event"),
    ("after terminal", [WorkflowCompleted(event_id=2, time=T0), signal(3)], "after-terminal",
     3, "SignalReceived comes after terminal event 2; nothing may follow the end of a run"),
    ("unknown command", [ActivityCompleted(event_id=2, time=T0, scheduled_event_id=9)],
     "unknown-command", 2, "ActivityCompleted.scheduled_event_id=9 must name an earlier "
     "ActivityScheduled, but that id is no earlier event"),
    ("wrong command", [TimerFired(event_id=2, time=T0, started_event_id=1)],
     "unknown-command", 2, "TimerFired.started_event_id=1 must name an earlier TimerStarted, "
     "but that id is a WorkflowStarted"),
]


@pytest.mark.parametrize(("case", "events", "rule", "event_id", "message"), BAD_BATCHES,
                         ids=[b[0] for b in BAD_BATCHES])
def test_append_breaking_a_history_rule_fails(
    store: Store, case: str, events: list[Event], rule: str, event_id: int, message: str
) -> None:
    start(store)
    before = snapshot(store)
    with pytest.raises(HistoryError) as err:
        store.append("r1", events, 1)
    assert str(err.value) == f"[RPL-H01] run 'r1': event {event_id}: {message}"
    assert (err.value.rule, err.value.event_id, err.value.source) == (rule, event_id, "run 'r1'")
    assert snapshot(store) == before


def test_append_after_the_run_closed_fails(store: Store) -> None:
    start(store)
    store.append("r1", [WorkflowCompleted(event_id=2, time=T0)], 1)
    with pytest.raises(HistoryError, match="SignalReceived comes after terminal event 2"):
        store.append("r1", [signal(3)], 2)


def test_results_may_refer_to_commands_of_earlier_appends(store: Store) -> None:
    start(store)
    store.append("r1", [activity(2), task_done(3)], 1)
    store.append("r1", [ActivityCompleted(event_id=4, time=T0, scheduled_event_id=2)], 3)
    assert store.last_event_id("r1") == 4


# --- commit: several operations, all or nothing -----------------------------------------------


def test_commit_is_all_or_nothing(store: Store) -> None:
    start(store)
    before = snapshot(store)
    with pytest.raises(RunNotFoundError):
        store.commit([Deliver("r1", signal()), Start("r2", started("wf-2")),
                      Deliver("missing", signal())])
    assert snapshot(store) == before


def test_later_operations_see_earlier_ones(store: Store) -> None:
    start(store)
    written = store.commit([
        Deliver("r1", signal()),
        Append("r1", [task_done(3)], 2),
        Append("r1", [WorkflowCompleted(event_id=4, time=T0)], 3),
        Start("r2", started("wf-1")),
    ])
    assert [(e.kind, e.event_id) for e in written] == [
        ("SignalReceived", 2), ("WorkflowTaskCompleted", 3), ("WorkflowCompleted", 4),
        ("WorkflowStarted", 1)]


# --- deliver ----------------------------------------------------------------------------------


def test_deliver_assigns_the_next_id(store: Store) -> None:
    start(store)
    first = store.commit([Deliver("r1", signal(99, "a"))])
    second = store.commit([Deliver("r1", signal(0, "b"))])
    assert [e.event_id for e in first + second] == [2, 3]
    assert store.read("r1", after_event_id=2) == second


def test_deliver_to_closed_run_fails_or_skips(store: Store) -> None:
    start(store)
    store.append("r1", [WorkflowCompleted(event_id=2, time=T0)], 1)
    before = snapshot(store)
    with pytest.raises(RunClosedError) as err:
        store.commit([Deliver("r1", signal())])
    assert str(err.value) == (
        "[RPL-S04] cannot deliver SignalReceived to run 'r1': the run is completed. Nothing "
        "was written; start a new run or address the newest run of the workflow id.")
    assert (err.value.run_id, err.value.status) == ("r1", "completed")
    assert store.commit([Deliver("r1", signal(), missing_ok=True)]) == []
    assert snapshot(store) == before


def test_deliver_to_missing_run_fails_or_skips(store: Store) -> None:
    with pytest.raises(RunNotFoundError, match=r"\[RPL-S03\] no run with id 'x'"):
        store.commit([Deliver("x", signal())])
    assert store.commit([Deliver("x", signal(), missing_ok=True)]) == []
    assert store.list_runs() == []


def test_second_activity_result_is_stale(store: Store) -> None:
    start(store)
    store.append("r1", [activity(2), task_done(3)], 1)
    done = ActivityCompleted(event_id=0, time=T0, scheduled_event_id=2, result="ok")
    store.commit([Deliver("r1", done)])
    before = snapshot(store)
    with pytest.raises(StaleResultError) as err:
        store.commit([Deliver("r1", done)])
    assert str(err.value) == (
        "[RPL-S06] ActivityCompleted for command event 2 of run 'r1' was not recorded: that "
        "command is not open (its result is already recorded, it was cancelled, or it never "
        "existed). Nothing was written.")
    assert (err.value.run_id, err.value.command_event_id) == ("r1", 2)
    assert store.commit([Deliver("r1", done, missing_ok=True)]) == []
    assert snapshot(store) == before


def test_timer_fired_after_cancel_is_stale(store: Store) -> None:
    start(store)
    store.append("r1", [timer(2), TimerCanceled(event_id=3, time=T0, started_event_id=2)], 1)
    with pytest.raises(StaleResultError, match="TimerFired for command event 2 of run 'r1'"):
        store.commit([Deliver("r1", TimerFired(event_id=0, time=T0, started_event_id=2))])
    assert store.last_event_id("r1") == 3


def test_deliver_of_a_start_is_refused(store: Store) -> None:
    start(store)
    with pytest.raises(HistoryError, match="WorkflowStarted may only be the first event"):
        store.commit([Deliver("r1", started())])


# --- reading and waking up --------------------------------------------------------------------


def test_read_after_an_id_returns_the_rest(store: Store) -> None:
    start(store)
    store.append("r1", [signal(2), signal(3), signal(4)], 1)
    assert [e.event_id for e in store.read("r1", 2)] == [3, 4]
    assert store.read("r1", 4) == []


async def test_wait_changed_times_out_without_commits(store: Store) -> None:
    assert await store.wait_changed(0.01) is False


async def test_a_commit_before_the_wait_is_not_missed(store: Store) -> None:
    start(store)
    token = store.change_token()
    store.commit([Deliver("r1", signal())])  # lands between a look and the wait
    assert await store.wait_changed(30, since=token) is True


async def test_wait_changed_wakes_on_a_commit_from_another_thread(store: Store) -> None:
    start(store)
    timer_thread = threading.Timer(0.05, lambda: store.commit([Deliver("r1", signal())]))
    timer_thread.start()
    try:
        assert await store.wait_changed(30) is True
    finally:
        timer_thread.join()


async def test_tail_yields_new_events_and_stops_at_the_end(store: Store) -> None:
    start(store)

    def writer() -> None:
        for i in range(5):
            store.commit([Deliver("r1", signal(0, f"s{i}"))])
        store.append("r1", [WorkflowCompleted(event_id=7, time=T0)], 6)

    seen: list[Event] = []
    thread = threading.Timer(0.02, writer)
    thread.start()
    try:
        async with asyncio.timeout(30):
            seen = [e async for e in store.tail("r1", after_event_id=1)]
    finally:
        thread.join()
    assert [e.event_id for e in seen] == [2, 3, 4, 5, 6, 7]
    assert isinstance(seen[-1], WorkflowCompleted)


async def test_tail_of_a_closed_run_ends_at_once(store: Store) -> None:
    start(store)
    store.append("r1", [WorkflowCompleted(event_id=2, time=T0)], 1)
    assert [e.event_id async for e in store.tail("r1", 2)] == []
    assert [e.event_id async for e in store.tail("r1")] == [1, 2]


def test_concurrent_writers_never_interleave(store: Store) -> None:
    start(store)
    outcomes: list[str] = []

    def writer(name: str) -> None:
        for _ in range(30):
            last = store.last_event_id("r1")
            try:
                store.append("r1", [SignalReceived(event_id=last + 1, time=T0 + SECOND,
                                                   signal_name=name)], last)
                outcomes.append("ok")
            except AppendConflictError:
                outcomes.append("conflict")

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    history = store.history("r1")  # validates: contiguous ids, no duplicates
    assert len(history) == 1 + outcomes.count("ok")
    assert isinstance(history[0], WorkflowStarted)
