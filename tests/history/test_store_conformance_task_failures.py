"""The Store conformance suite, part 3: failing workflow tasks and open activities.

A failed workflow task is recorded as a WorkflowTaskFailed event when it first
fails and when its cause changes; repeats only move the runs index's attempt
count and retry time. The task is not leased again before its retry time; a
completed task or the run's end clears the failing state. Against every store.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from replay.history import (
    Append,
    Deliver,
    Failure,
    RecordTaskFailure,
    Start,
    Store,
    WorkflowCompleted,
    WorkflowTaskFailed,
)
from tests.history.samples import SECOND, activity, signal, started, task_done
from tests.strategies import T0

LEASE = timedelta(seconds=30)


def failed(attempt: int, at: datetime, message: str = "boom",
           retry_in: timedelta = SECOND) -> WorkflowTaskFailed:
    return WorkflowTaskFailed(event_id=0, time=at, failure=Failure(message=message,
                                                                   type="TypeError"),
                              attempt=attempt, next_retry_time=at + retry_in,
                              code="", location="wf.py:3", identity="w")


def kinds(store: Store, run_id: str = "r1") -> list[str]:
    return [type(e).__name__ for e in store.read(run_id)]


def test_a_failure_is_recorded_once_per_cause(store: Store) -> None:
    store.commit([Start("r1", started())])
    [task] = store.lease_workflow_tasks("q", "w", T0, LEASE, 10)
    store.commit([RecordTaskFailure("r1", failed(1, T0))])
    assert kinds(store) == ["WorkflowStarted", "WorkflowTaskFailed"]
    run = store.get_run("r1")
    assert run is not None and run.task_failing
    assert (run.task_attempt, run.task_retry_at) == (1, T0 + SECOND)
    assert run.task_failure is not None and run.task_failure.event_id == 2
    # the same cause again: no event, the attempt count and retry time move on
    store.commit([RecordTaskFailure("r1", failed(2, T0 + SECOND, retry_in=2 * SECOND))])
    assert kinds(store) == ["WorkflowStarted", "WorkflowTaskFailed"]
    run = store.get_run("r1")
    assert run is not None and (run.task_attempt, run.task_retry_at) == (2, T0 + 3 * SECOND)
    assert run.task_failure is not None and run.task_failure.event_id == 2
    # another cause: recorded
    store.commit([RecordTaskFailure("r1", failed(3, T0 + 3 * SECOND, "other"))])
    assert kinds(store) == ["WorkflowStarted", "WorkflowTaskFailed", "WorkflowTaskFailed"]
    run = store.get_run("r1")
    assert run is not None and run.task_attempt == 3
    assert run.task_failure is not None and run.task_failure.failure.message == "other"
    assert run.task_failure.event_id == 3 and task.run_id == "r1"


def test_a_failing_task_is_retried_at_its_retry_time(store: Store) -> None:
    store.commit([Start("r1", started())])
    store.lease_workflow_tasks("q", "w", T0, LEASE, 10)
    store.commit([RecordTaskFailure("r1", failed(1, T0, retry_in=5 * SECOND))])
    assert store.next_timer_at() == T0 + 5 * SECOND
    assert store.lease_workflow_tasks("q", "w2", T0 + 4 * SECOND, LEASE, 10) == []
    store.commit([Deliver("r1", signal())])  # a new input does not cut the wait short
    assert store.lease_workflow_tasks("q", "w2", T0 + 4 * SECOND, LEASE, 10) == []
    [task] = store.lease_workflow_tasks("q", "w2", T0 + 5 * SECOND, LEASE, 10)
    assert task.run_id == "r1"


def test_freeing_a_dead_workers_leases_retries_at_once(store: Store) -> None:
    store.commit([Start("r1", started())])
    store.lease_workflow_tasks("q", "w", T0, LEASE, 10)
    store.commit([RecordTaskFailure("r1", failed(1, T0, retry_in=5 * SECOND))])
    assert store.release_leases("w") == 1  # a new worker (new code, say) tries now
    assert [t.run_id for t in store.lease_workflow_tasks("q", "w2", T0, LEASE, 10)] == ["r1"]


def test_failing_runs_are_listed_and_a_completed_task_clears_them(store: Store) -> None:
    store.commit([Start("r1", started()), Start("r2", started("wf-2"))])
    store.commit([RecordTaskFailure("r2", failed(1, T0))])
    assert [r.run_id for r in store.list_runs(task_failing=True)] == ["r2"]
    assert [r.run_id for r in store.list_runs(task_failing=False)] == ["r1"]
    assert [r.run_id for r in store.list_runs(task_failing=True, workflow_type="Nope")] == []
    store.commit([Append("r2", [activity(3), task_done(4)], 2)])
    run = store.get_run("r2")
    assert run is not None and (run.task_attempt, run.task_failure, run.task_retry_at) == (
        0, None, None)
    assert store.list_runs(task_failing=True) == []
    assert store.next_timer_at() is None


def test_the_end_of_the_run_clears_it_and_a_late_failure_is_ignored(store: Store) -> None:
    store.commit([Start("r1", started())])
    store.commit([RecordTaskFailure("r1", failed(1, T0))])
    store.commit([Append("r1", [WorkflowCompleted(event_id=3, time=T0 + SECOND)], 2)])
    run = store.get_run("r1")
    assert run is not None and (run.status, run.task_attempt) == ("completed", 0)
    assert store.commit([RecordTaskFailure("r1", failed(2, T0 + SECOND))]) == []
    assert store.commit([RecordTaskFailure("nope", failed(1, T0))]) == []
    assert kinds(store) == ["WorkflowStarted", "WorkflowTaskFailed", "WorkflowCompleted"]


def test_a_rebuild_keeps_the_attempt_count_of_repeats(store: Store) -> None:
    store.commit([Start("r1", started())])
    store.commit([RecordTaskFailure("r1", failed(1, T0))])
    store.commit([RecordTaskFailure("r1", failed(4, T0 + SECOND, retry_in=8 * SECOND))])
    before = store.dump_indexes()  # type: ignore[attr-defined]
    store.rebuild_indexes()
    assert store.dump_indexes() == before  # type: ignore[attr-defined]
    run = store.get_run("r1")
    assert run is not None and (run.task_attempt, run.task_retry_at) == (4, T0 + 9 * SECOND)


def test_an_imported_failure_is_derived_from_the_events(store: Store) -> None:
    recorded = attrs.evolve(failed(3, T0), event_id=2)
    store.commit([Start("r1", started()), Append("r1", [recorded], 1)])
    run = store.get_run("r1")
    assert run is not None and (run.task_attempt, run.task_retry_at) == (3, T0 + SECOND)
    assert run.task_failure == recorded


def test_pending_activities_show_attempts_failures_and_heartbeats(store: Store) -> None:
    store.commit([Start("r1", started()), Append("r1", [activity(2), task_done(3)], 1)])
    [pending] = store.pending_activities("r1")
    assert (pending.activity_id, pending.activity_type, pending.attempt, pending.state) == (
        "2", "charge", 0, "scheduled")
    store.lease_activity_tasks("aq", "w", T0 + SECOND, LEASE, 1)
    store.heartbeat_activity("r1", 2, "w", ["half"], T0 + 2 * SECOND, LEASE)
    [pending] = store.pending_activities("r1")
    assert (pending.attempt, pending.state, pending.lease_owner) == (1, "started", "w")
    assert (pending.last_heartbeat_time, pending.heartbeat_details) == (T0 + 2 * SECOND,
                                                                        ["half"])
    store.retry_activity("r1", 2, "w", T0 + 4 * SECOND, Failure(message="down", type="IOError"))
    [pending] = store.pending_activities("r1")
    assert (pending.attempt, pending.state, pending.next_attempt_time) == (
        1, "backing_off", T0 + 4 * SECOND)
    assert pending.last_failure == Failure(message="down", type="IOError")
    store.lease_activity_tasks("aq", "w", T0 + 4 * SECOND, LEASE, 1)
    [pending] = store.pending_activities("r1")
    assert (pending.attempt, pending.last_failure) == (2, Failure(message="down",
                                                                  type="IOError"))
    assert store.pending_activities("other") == []
