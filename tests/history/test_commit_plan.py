"""history/_commit_plan.py: a step's batch written with few statements, to the same effect."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import attrs

from replay.history import (
    ActivityCompleted,
    Append,
    AppendConflictError,
    Deliver,
    LeaseActivity,
    SqliteStore,
    StaleResultError,
    Start,
    Store,
    WorkflowCompleted,
    WorkflowTaskCompleted,
)
from replay.history._changes import (
    AddEvents,
    Change,
    DeleteActivityTask,
    DropIdleWorkflowTask,
    FinishWorkflowTask,
    InsertActivityTask,
    LeaseActivityTask,
    NeedWorkflowTask,
    RemoveRunWork,
)
from replay.history._commit_plan import coalesce
from replay.history._sqlite import CALM_COMMITS
from tests.history.samples import SECOND, activity, started, task_done
from tests.strategies import T0

NOW = T0 + 5 * SECOND


def _scheduled(store: Store) -> None:
    """Run "a" waits on activity 3, leased by "me" (as after a worker's step)."""
    store.commit([Start("a", started("wf-a")), Append("a", [task_done(2)], 1)])
    store.commit([Append("a", [attrs.evolve(activity(3), start_to_close_timeout=SECOND),
                               task_done(4)], 2),
                  LeaseActivity("a", 3, "me", T0, timedelta(minutes=1))])


def _step(run_id: str = "a") -> list[Deliver | Append | LeaseActivity]:
    """The worker's step: activity 3's result, the activation scheduling activity 6."""
    done = ActivityCompleted(event_id=5, time=NOW, scheduled_event_id=3, result=9)
    return [Deliver(run_id, done),
            Append(run_id, [attrs.evolve(activity(6), start_to_close_timeout=2 * SECOND),
                            WorkflowTaskCompleted(event_id=7, time=NOW)], 5),
            LeaseActivity(run_id, 6, "me", NOW, timedelta(minutes=1))]


def test_a_step_batch_leaves_the_indexes_as_its_operations_would(store: Store) -> None:
    _scheduled(store)
    assert [len(r) for r in store.commit_each([_step()]) if isinstance(r, list)] == [3]
    assert [type(e).__name__ for e in store.read("a", after_event_id=4)] == [
        "ActivityCompleted", "ActivityScheduled", "WorkflowTaskCompleted"]
    # no workflow task: the result's need and the activation's finish cancelled out
    assert store.lease_workflow_tasks("q", "other", NOW, SECOND, 10) == []
    # the new activity was inserted leased, for its own timeout plus a second
    assert store.lease_activity_tasks("aq", "other", NOW, SECOND, 10) == []
    [pending] = store.pending_activities("a")
    assert (pending.scheduled_event_id, pending.attempt, pending.lease_owner,
            pending.lease_expires_at) == (6, 1, "me", NOW + 3 * SECOND)


def test_a_requested_update_keeps_the_workflow_task_through_a_step(store: Store) -> None:
    _scheduled(store)
    store.request_update("a", "u1", "set", [1], NOW)
    store.lease_workflow_tasks("q", "me", NOW, SECOND, 10)  # leased, as a worker would
    assert all(isinstance(r, list) for r in store.commit_each([_step()]))
    # the update still waits for a worker: the task is kept, with its lease released
    assert [t.run_id for t in store.lease_workflow_tasks("q", "other", NOW, SECOND, 10)] \
        == ["a"]


def test_a_stale_result_fails_its_batch_and_writes_nothing(store: Store) -> None:
    _scheduled(store)
    store.commit([_step()[0]])  # the result was recorded by someone else
    before = store.read("a")
    # alone, it is stale (found as its task is deleted, after its event was added)...
    [alone] = store.commit_each([[_step()[0]]])
    assert isinstance(alone, StaleResultError)
    assert "ActivityCompleted for command event 3 of run 'a'" in str(alone)
    # ...and with the activation that expected the run where it was, a conflict
    [step] = store.commit_each([_step()])
    assert isinstance(step, AppendConflictError)
    assert store.read("a") == before
    assert [p.scheduled_event_id for p in store.pending_activities("a")] == []


def test_a_stale_result_fails_the_step_that_schedules_the_next_activity(
        store: Store) -> None:
    _scheduled(store)
    store.commit([_step()[0]])  # the result was recorded: activity 3's task is gone
    before, pending = store.read("a"), store.pending_activities("a")
    again = ActivityCompleted(event_id=0, time=NOW, scheduled_event_id=3, result=9)
    [step] = store.commit_each([[
        Deliver("a", again),
        Append("a", [activity(7), WorkflowTaskCompleted(event_id=8, time=NOW)], 6)]])
    assert isinstance(step, StaleResultError)
    assert "ActivityCompleted for command event 3 of run 'a'" in str(step)
    assert store.read("a") == before and store.pending_activities("a") == pending


def test_a_stale_result_fails_the_step_that_ends_the_run(store: Store) -> None:
    _scheduled(store)
    store.commit([_step()[0]])
    before = store.read("a")
    again = ActivityCompleted(event_id=0, time=NOW, scheduled_event_id=3, result=9)
    [step] = store.commit_each([[
        Deliver("a", again),
        Append("a", [WorkflowTaskCompleted(event_id=7, time=NOW),
                     WorkflowCompleted(event_id=8, time=NOW, result=None)], 6)]])
    assert isinstance(step, StaleResultError)
    assert store.read("a") == before
    info = store.get_run("a")
    assert info is not None and info.status == "running"


def test_a_run_ends_with_its_finished_activity_task_and_nothing_left_behind(
        store: Store) -> None:
    _scheduled(store)
    [done] = store.commit_each([[
        Deliver("a", ActivityCompleted(event_id=0, time=NOW, scheduled_event_id=3, result=9)),
        Append("a", [WorkflowTaskCompleted(event_id=6, time=NOW),
                     WorkflowCompleted(event_id=7, time=NOW, result=None)], 5)]])
    assert isinstance(done, list) and [e.event_id for e in done] == [5, 6, 7]
    info = store.get_run("a")
    assert info is not None and info.status == "completed"
    assert store.pending_activities("a") == []
    assert store.lease_workflow_tasks("q", "other", NOW, SECOND, 10) == []


def test_every_store_says_whether_a_leased_task_has_a_requested_update(
        store: Store) -> None:
    store.commit([Start("a", started("wf-a")), Start("b", started("wf-b"))])
    store.request_update("b", "u1", "set", [1], NOW)
    tasks = store.lease_workflow_tasks("q", "me", NOW, SECOND, 10)
    assert {t.run_id: t.updates_pending for t in tasks} == {"a": False, "b": True}


def _traced_step(store: SqliteStore) -> list[str]:
    seen: list[str] = []
    conn: sqlite3.Connection = store._writer
    conn.set_trace_callback(seen.append)
    try:
        store.commit_each([_step()])
    finally:
        conn.set_trace_callback(None)
    # statements SQLite runs inside one of ours (traced as "-- ...") are not round trips
    return [s for s in seen if not s.startswith("--")]


def _step_shape(seen: list[str]) -> None:
    assert seen[0] == "BEGIN IMMEDIATE" and seen[-1] == "COMMIT"
    assert not any(s.startswith("SELECT") for s in seen)  # the run's head was kept
    assert sum(s.startswith("INSERT INTO events") for s in seen) == 3  # one executemany
    assert sum("workflow_tasks" in s and not s.startswith("SELECT") for s in seen) == 0
    # the finished task's row becomes the next one (checking that it was open)
    assert sum(s.startswith("UPDATE activity_tasks") for s in seen) == 1
    assert not any(s.startswith(("INSERT INTO activity_tasks", "DELETE FROM activity_tasks"))
                   for s in seen)
    assert sum("SAVEPOINT" in s for s in seen) == 0


def test_sqlite_writes_a_step_with_one_statement_per_changed_row(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    try:
        _scheduled(store)
        for _ in range(CALM_COMMITS):  # writes that see no other connection's commit
            store.register_worker("q", "me", T0, [], [])
        seen = _traced_step(store)
        assert [e.event_id for e in store.read("a", after_event_id=4)] == [5, 6, 7]
        [pending] = store.pending_activities("a")
        assert (pending.scheduled_event_id, pending.attempt, pending.lease_owner) == (6, 1, "me")
    finally:
        store.close()
    _step_shape(seen)
    # the data version (did another connection commit?) comes back with the row's update
    [update] = [s for s in seen if s.startswith("UPDATE activity_tasks")]
    assert "pragma_data_version" in update
    assert not any(s.startswith("PRAGMA") for s in seen)
    # BEGIN, 3 event rows, the task row's update, COMMIT
    assert len(seen) == 6


def test_sqlite_reads_the_data_version_first_after_another_connection_wrote(
        tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    try:
        _scheduled(store)
        with SqliteStore(tmp_path / "s.db") as other:
            other.register_worker("q", "them", T0, [], [])
        store.register_worker("q", "me", T0, [], [])  # sees the other connection's commit
        seen = _traced_step(store)
    finally:
        store.close()
    assert seen[1] == "PRAGMA data_version"
    _step_shape(seen)
    assert len(seen) == 7


def test_coalesce_merges_events_and_cancels_a_need_finished_in_the_batch() -> None:
    e1, e2 = task_done(2), task_done(3)
    changes: list[Change] = [AddEvents("a", (e1,)), NeedWorkflowTask("a", "q", True, new_row=True),
               DeleteActivityTask("a", 1), AddEvents("a", (e2,)), FinishWorkflowTask("a")]
    assert coalesce(changes) == [AddEvents("a", (e1, e2)), DeleteActivityTask("a", 1)]


def test_coalesce_drops_a_new_task_row_the_end_of_the_run_removes() -> None:
    created: list[Change] = [NeedWorkflowTask("a", "q", True, new_row=True),
                             DeleteActivityTask("a", 1), RemoveRunWork("a")]
    # ...and the removal knows the run has no task row to delete
    assert coalesce(created) == [DeleteActivityTask("a", 1), RemoveRunWork("a", task_row=False)]
    finished: list[Change] = [NeedWorkflowTask("a", "q", True, new_row=True),
                              FinishWorkflowTask("a"), RemoveRunWork("a", timers=False)]
    assert coalesce(finished) == [RemoveRunWork("a", task_row=False, timers=False)]
    existed: list[Change] = [NeedWorkflowTask("a", "q", True), RemoveRunWork("a")]
    assert coalesce(existed) == existed
    other_run: list[Change] = [NeedWorkflowTask("b", "q", True, new_row=True),
                               RemoveRunWork("a")]
    assert coalesce(other_run) == other_run


def test_coalesce_keeps_the_finish_when_the_row_existed_or_something_else_touched_it() -> None:
    existed: list[Change] = [NeedWorkflowTask("a", "q", True), FinishWorkflowTask("a")]
    assert coalesce(existed) == [FinishWorkflowTask("a")]
    touched: list[Change] = [NeedWorkflowTask("a", "q", True, new_row=True),
                             DropIdleWorkflowTask("a"), FinishWorkflowTask("a")]
    assert coalesce(touched) == touched
    other_run: list[Change] = [NeedWorkflowTask("a", "q", True, new_row=True),
                               FinishWorkflowTask("b")]
    assert coalesce(other_run) == other_run


def test_coalesce_inserts_a_leased_activity_row_once() -> None:
    from replay.history._changes import ActivityRow

    row = ActivityRow(run_id="a", scheduled_event_id=3, workflow_id="wf", task_queue="aq",
                      activity_type="t", activity_id="3", args=[], scheduled_time=T0,
                      available_at=T0, attempt_timeout=2.0)
    lease = LeaseActivityTask("a", 3, "me", NOW, timedelta(minutes=1))
    [only] = coalesce([InsertActivityTask(row), lease])
    assert isinstance(only, InsertActivityTask)
    assert (only.row.attempt, only.row.lease_owner, only.row.lease_expires_at) == (
        1, "me", NOW + 3 * SECOND)
    elsewhere = LeaseActivityTask("a", 4, "me", NOW, timedelta(minutes=1))
    assert coalesce([InsertActivityTask(row), elsewhere]) == [InsertActivityTask(row), elsewhere]
