"""The Store conformance suite, part 2: the indexes derived from events.

Runs index, workflow tasks, activity tasks, timers, update requests and their
rebuild from the events; against every store.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from replay.history import (
    ActivityCancelRequested,
    ActivityCompleted,
    Append,
    Deliver,
    Event,
    Failure,
    MemoryStore,
    RunClosedError,
    RunNotFoundError,
    Start,
    Store,
    TimerFired,
    UpdateAccepted,
    UpdateCompleted,
    WorkflowCanceled,
    WorkflowCompleted,
    WorkflowContinuedAsNew,
    WorkflowFailed,
    WorkflowTerminated,
    WorkflowTimedOut,
)
from replay.testing.store_conformance import Step, WorkloadRunner, workloads
from tests.history.samples import SECOND, activity, signal, started, task_done, timer
from tests.strategies import T0, histories

LEASE = timedelta(seconds=30)


def start(store: Store, run_id: str = "r1", workflow_id: str = "wf-1", **kw: Any) -> None:
    store.commit([Start(run_id, started(workflow_id, **kw))])


# --- runs index ---------------------------------------------------------------------------------


def test_start_creates_a_running_run_with_its_deadline(store: Store) -> None:
    start(store, execution_timeout=timedelta(hours=2), run_timeout=timedelta(hours=1),
          memo={"k": [1]})
    info = store.get_run("r1")
    assert info is not None
    assert (info.status, info.workflow_type, info.task_queue, info.start_time) == (
        "running", "Greeter", "q", T0)
    assert info.deadline == T0 + timedelta(hours=1)
    assert (info.first_execution_run_id, info.memo, info.close_time) == ("r1", {"k": [1]}, None)


TERMINALS: list[tuple[Event, str]] = [
    (WorkflowCompleted(event_id=2, time=T0 + SECOND, result=1), "completed"),
    (WorkflowFailed(event_id=2, time=T0 + SECOND, failure=Failure(message="x")), "failed"),
    (WorkflowCanceled(event_id=2, time=T0 + SECOND), "canceled"),
    (WorkflowTerminated(event_id=2, time=T0 + SECOND), "terminated"),
    (WorkflowContinuedAsNew(event_id=2, time=T0 + SECOND, new_run_id="r2",
                            workflow_type="Greeter", task_queue="q"), "continued_as_new"),
    (WorkflowTimedOut(event_id=2, time=T0 + SECOND), "timed_out"),
]


@pytest.mark.parametrize(("terminal", "status"), TERMINALS, ids=[s for _, s in TERMINALS])
def test_terminal_event_closes_the_run_and_drops_its_work(
    store: Store, terminal: Event, status: str
) -> None:
    start(store)
    store.append("r1", [activity(2), timer(3)], 1)
    store.request_update("r1", "u1", "set", [1], T0)
    store.append("r1", [attrs.evolve(terminal, event_id=4)], 3)
    info = store.get_run("r1")
    assert info is not None
    assert (info.status, info.close_time, info.last_event_id) == (status, T0 + SECOND, 4)
    assert info.next_run_id == ("r2" if status == "continued_as_new" else None)
    assert store.lease_workflow_task("q", "w", T0, LEASE) is None
    assert store.lease_activity_task("aq", "w", T0 + SECOND, LEASE) is None
    assert store.due_timers(T0 + timedelta(days=1)) == [] and store.next_timer_at() is None
    update = store.get_update("r1", "u1")
    assert update is not None and update.status == "aborted"
    assert update.failure is not None
    assert update.failure.message == (
        f"update aborted: run 'r1' ended ({status}, event 4) before the update completed")


def test_list_and_count_runs_filter_and_sort_newest_first(store: Store) -> None:
    start(store, "r1", "a")
    store.append("r1", [WorkflowCompleted(event_id=2, time=T0)], 1)
    start(store, "r2", "a")
    store.commit([Start("r3", started("b", workflow_type="Other"))])
    assert [r.run_id for r in store.list_runs()] == ["r3", "r2", "r1"]
    assert [r.run_id for r in store.list_runs(status="running")] == ["r3", "r2"]
    assert [r.run_id for r in store.list_runs(workflow_id="a", limit=1)] == ["r2"]
    assert [r.run_id for r in store.list_runs(workflow_type="Other")] == ["r3"]
    assert store.count_runs() == 3 and store.count_runs(status="completed") == 1
    assert store.count_runs(workflow_type="Greeter", status="running") == 1
    assert store.latest_run("a") == store.get_run("r2") and store.latest_run("zz") is None


# --- workflow tasks -----------------------------------------------------------------------------


def test_workflow_task_lifecycle(store: Store) -> None:
    start(store)
    task = store.lease_workflow_task("q", "w1", T0, LEASE)
    assert task is not None and (task.run_id, task.lease_owner) == ("r1", "w1")
    assert task.lease_expires_at == T0 + LEASE
    assert store.lease_workflow_task("q", "w2", T0, LEASE) is None  # leased
    assert store.lease_workflow_task("other", "w2", T0, LEASE) is None  # other queue
    expired = store.lease_workflow_task("q", "w2", T0 + LEASE, LEASE)
    assert expired is not None and expired.lease_owner == "w2"
    store.append("r1", [task_done(2)], 1)
    assert store.lease_workflow_task("q", "w3", T0 + 2 * LEASE, LEASE) is None  # done
    store.commit([Deliver("r1", signal())])
    again = store.lease_workflow_task("q", "w3", T0, LEASE)
    assert again is not None and again.run_id == "r1"
    store.release_workflow_task("r1", "someone-else")
    assert store.lease_workflow_task("q", "w4", T0, LEASE) is None
    store.release_workflow_task("r1", "w3")
    assert store.lease_workflow_task("q", "w4", T0, LEASE) is not None


def test_task_completion_keeps_the_task_for_requested_updates(store: Store) -> None:
    start(store)
    store.lease_workflow_task("q", "w1", T0, LEASE)
    store.request_update("r1", "u1", "set", [1], T0)
    store.append("r1", [task_done(2)], 1)
    task = store.lease_workflow_task("q", "w2", T0, LEASE)  # the old lease was cleared
    assert task is not None and task.run_id == "r1"


def test_rejecting_the_last_update_drops_an_idle_task(store: Store) -> None:
    start(store)
    store.append("r1", [task_done(2)], 1)
    store.request_update("r1", "u1", "set", [1], T0)
    store.reject_update("r1", "u1", Failure(message="invalid"))
    update = store.get_update("r1", "u1")
    assert update is not None and update.status == "rejected"
    assert update.failure == Failure(message="invalid")
    assert store.lease_workflow_task("q", "w", T0, LEASE) is None
    assert store.last_event_id("r1") == 2  # a rejection leaves no trace in the history


def test_rejecting_an_update_keeps_a_task_with_inputs(store: Store) -> None:
    start(store)
    store.request_update("r1", "u1", "set", [1], T0)
    store.reject_update("r1", "u1", Failure(message="invalid"))
    assert store.lease_workflow_task("q", "w", T0, LEASE) is not None


def test_an_input_after_an_update_request_is_not_lost_by_a_rejection(store: Store) -> None:
    start(store)
    store.append("r1", [task_done(2)], 1)
    store.request_update("r1", "u1", "set", [1], T0)  # a task with no inputs
    store.commit([Deliver("r1", signal())])  # now it has one
    store.reject_update("r1", "u1", Failure(message="invalid"))
    task = store.lease_workflow_task("q", "w", T0, LEASE)
    assert task is not None and task.run_id == "r1"


# --- activity tasks -----------------------------------------------------------------------------


def test_activity_task_lifecycle(store: Store) -> None:
    start(store)
    store.append("r1", [activity(2), task_done(3)], 1)
    assert store.lease_activity_task("aq", "w", T0, LEASE) is None  # not yet available
    task = store.lease_activity_task("aq", "w", T0 + SECOND, LEASE)
    assert task is not None
    assert (task.run_id, task.workflow_id, task.scheduled_event_id, task.attempt) == (
        "r1", "wf-1", 2, 1)
    assert (task.activity_type, task.args, task.scheduled_time) == ("charge", [2], T0 + SECOND)
    assert store.heartbeat_activity("r1", 2, "w", ["half"], T0, LEASE) is True
    assert store.heartbeat_activity("r1", 2, "intruder", [], T0, LEASE) is False
    store.retry_activity("r1", 2, "w", T0 + 10 * SECOND)
    assert store.lease_activity_task("aq", "w", T0 + 9 * SECOND, LEASE) is None
    retried = store.lease_activity_task("aq", "w2", T0 + 10 * SECOND, LEASE)
    assert retried is not None and retried.attempt == 2
    assert retried.heartbeat_details == ["half"]
    store.release_activity_task("r1", 2, "w2")
    again = store.lease_activity_task("aq", "w3", T0 + 10 * SECOND, LEASE)
    assert again is not None and again.attempt == 2  # a release does not count an attempt
    store.commit([Deliver("r1", ActivityCompleted(event_id=0, time=T0, scheduled_event_id=2))])
    assert store.heartbeat_activity("r1", 2, "w3", [], T0, LEASE) is False
    assert store.lease_activity_task("aq", "w", T0 + LEASE * 10, LEASE) is None


def test_activity_cancel_request_is_flagged(store: Store) -> None:
    start(store)
    store.append("r1", [activity(2), task_done(3)], 1)
    store.lease_activity_task("aq", "w", T0 + SECOND, LEASE)
    store.append("r1", [ActivityCancelRequested(event_id=4, time=T0, scheduled_event_id=2)], 3)
    task = store.get_activity_task("r1", 2)  # type: ignore[attr-defined]
    assert task is not None and task.cancel_requested is True


# --- timers -------------------------------------------------------------------------------------


def test_due_timers_in_fire_order(store: Store) -> None:
    start(store)
    store.append("r1", [timer(2, seconds=30), timer(3, seconds=10), task_done(4)], 1)
    assert store.next_timer_at() == T0 + 11 * SECOND
    assert store.due_timers(T0 + 10 * SECOND) == []
    due = store.due_timers(T0 + 60 * SECOND)
    assert [(t.started_event_id, t.task_queue) for t in due] == [(3, "q"), (2, "q")]
    assert [t.started_event_id for t in store.due_timers(T0 + 60 * SECOND, limit=1)] == [3]
    store.commit([Deliver("r1", TimerFired(event_id=0, time=T0, started_event_id=3))])
    assert [t.started_event_id for t in store.due_timers(T0 + 60 * SECOND)] == [2]


# --- update requests ------------------------------------------------------------------------------


def test_update_requests_follow_the_events(store: Store) -> None:
    start(store)
    first = store.request_update("r1", "u1", "set", [1], T0)
    assert store.request_update("r1", "u1", "other", [2], T0 + SECOND) == first  # idempotent
    store.request_update("r1", "u2", "set", [2], T0 + SECOND)
    assert [u.update_id for u in store.pending_updates("r1")] == ["u1", "u2"]
    store.append("r1", [UpdateAccepted(event_id=2, time=T0, update_id="u1", name="set",
                                       args=[1])], 1)
    accepted = store.get_update("r1", "u1")
    assert accepted is not None and accepted.status == "accepted"
    assert [u.update_id for u in store.pending_updates("r1")] == ["u2"]
    store.append("r1", [UpdateCompleted(event_id=3, time=T0, update_id="u1",
                                        accepted_event_id=2, result={"ok": True})], 2)
    done = store.get_update("r1", "u1")
    assert done is not None and (done.status, done.result) == ("completed", {"ok": True})
    assert store.get_update("r1", "nope") is None


def test_update_requests_to_missing_or_closed_runs_fail(store: Store) -> None:
    with pytest.raises(RunNotFoundError, match="no run with id 'zz'"):
        store.request_update("zz", "u", "set", [], T0)
    start(store)
    store.append("r1", [WorkflowCompleted(event_id=2, time=T0)], 1)
    with pytest.raises(RunClosedError) as err:
        store.request_update("r1", "u", "set", [], T0)
    assert str(err.value).startswith(
        "[RPL-S04] cannot deliver update 'set' to run 'r1': the run is completed.")
    assert store.pending_updates("r1") == [] and store.get_update("r1", "u") is None


# --- rebuild ------------------------------------------------------------------------------------


def test_rebuild_of_imported_histories_matches_live_indexes(store: Store) -> None:
    start(store)
    store.append("r1", [activity(2), timer(3), task_done(4), signal(5)], 1)
    store.lease_activity_task("aq", "w", T0 + SECOND, LEASE)
    store.heartbeat_activity("r1", 2, "w", [{"done": 3}], T0 + SECOND, LEASE)
    store.lease_workflow_task("q", "w", T0, LEASE)
    store.request_update("r1", "u1", "set", [1], T0)
    before = store.dump_indexes()  # type: ignore[attr-defined]
    store.rebuild_indexes()
    assert store.dump_indexes() == before  # type: ignore[attr-defined]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=workloads)
def test_random_workload_same_on_every_store_and_rebuild_changes_nothing(
    make_store: Any, steps: list[Step]
) -> None:
    memory, sqlite = MemoryStore(), make_store("sqlite")
    try:
        log = WorkloadRunner(memory).run(steps)
        assert WorkloadRunner(sqlite).run(steps) == log
        live = memory.dump_indexes()
        assert sqlite.dump_indexes() == live
        for s in (memory, sqlite):
            s.rebuild_indexes()
            assert s.dump_indexes() == live
    finally:
        sqlite.close()


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories(max_steps=15))
def test_imported_history_indexes_survive_a_rebuild(make_store: Any, history: Any) -> None:
    for kind in ("memory", "sqlite"):
        s = make_store(kind)
        try:
            s.commit([Append(history.run_id, list(history), 0)])
            assert s.history(history.run_id) == history
            before = s.dump_indexes()
            s.rebuild_indexes()
            assert s.dump_indexes() == before
        finally:
            s.close()


def test_an_update_accepted_after_the_last_task_survives_a_rebuild(store: Store) -> None:
    """An imported history whose update is accepted after the last completed workflow task
    (found by the property above): the rebuild must not see the accepted update as still
    waiting at that earlier task, which would keep a workflow task row the commit did not
    keep."""
    accepted = UpdateAccepted(event_id=3, time=T0 + SECOND, update_id="u1", name="set",
                              args=[1])
    store.commit([Append("r1", [started(), task_done(2), accepted], 0)])
    before = store.dump_indexes()  # type: ignore[attr-defined]
    store.rebuild_indexes()
    assert store.dump_indexes() == before  # type: ignore[attr-defined]
    update = store.get_update("r1", "u1")
    assert update is not None and update.status == "accepted"
