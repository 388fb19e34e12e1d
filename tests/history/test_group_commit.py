"""Group commit and batch leasing, on every store: commit_each, lease_*_tasks, LeaseActivity."""

from __future__ import annotations

from datetime import timedelta

import attrs

from replay.history import (
    ActivityCompleted,
    Append,
    AppendConflictError,
    Deliver,
    LeaseActivity,
    RunClosedError,
    SqliteStore,
    Start,
    Store,
    WorkflowCompleted,
)
from tests.history.samples import SECOND, activity, signal, started, task_done
from tests.strategies import T0


def _open(store: Store, run_id: str, workflow_id: str) -> None:
    store.commit([Start(run_id, started(workflow_id)), Append(run_id, [task_done(2)], 1)])


def test_commit_each_keeps_good_batches_and_reports_the_bad_ones(store: Store) -> None:
    _open(store, "a", "wf-a")
    _open(store, "b", "wf-b")
    results = store.commit_each([
        [Deliver("a", signal())],
        [Append("b", [task_done(3)], 99)],  # wrong expected id: this batch alone fails
        [Start("c", started("wf-c"))],
    ])
    assert [type(r).__name__ for r in results] == ["list", "AppendConflictError", "list"]
    conflict = results[1]
    assert isinstance(conflict, AppendConflictError)
    assert str(conflict).startswith("[RPL-S02] append to run 'b' expected last event id 99")
    assert store.last_event_id("a") == 3 and store.last_event_id("b") == 2
    assert store.get_run("c") is not None


def test_a_failed_batch_leaves_nothing_behind_even_partly(store: Store) -> None:
    _open(store, "a", "wf-a")
    store.commit([Append("a", [WorkflowCompleted(event_id=3, time=T0 + SECOND)], 2)])
    before = store.read("a")
    results = store.commit_each([[Start("n", started("wf-n")), Deliver("a", signal())]])
    assert isinstance(results[0], RunClosedError)
    assert "the run is completed" in str(results[0])
    assert store.get_run("n") is None and store.read("a") == before


def test_lease_activity_tasks_leases_many_for_their_own_timeouts(store: Store) -> None:
    _open(store, "a", "wf-a")
    first = attrs.evolve(activity(3), start_to_close_timeout=timedelta(seconds=5))
    second = attrs.evolve(activity(4), start_to_close_timeout=None)
    store.commit([Append("a", [first, second, task_done(5)], 2)])
    now = T0 + 2 * SECOND
    leased = store.lease_activity_tasks("aq", "me", now, timedelta(minutes=3), 10)
    assert [(t.scheduled_event_id, t.attempt) for t in leased] == [(3, 1), (4, 1)]
    by_id = {t.scheduled_event_id: t for t in leased}
    assert by_id[3].lease_expires_at == now + timedelta(seconds=6)  # timeout + 1 s
    assert by_id[4].lease_expires_at == now + timedelta(minutes=3)  # no timeout: default
    assert store.lease_activity_tasks("aq", "other", now, SECOND, 10) == []


def test_lease_workflow_tasks_leases_up_to_the_limit_oldest_first(store: Store) -> None:
    for i in range(3):
        store.commit([Start(f"r{i}", started(f"wf-{i}"))])
    leased = store.lease_workflow_tasks("q", "me", T0, SECOND, 2)
    assert [t.run_id for t in leased] == ["r0", "r1"]
    rest = store.lease_workflow_tasks("q", "other", T0, SECOND, 5)
    assert [t.run_id for t in rest] == ["r2"]


def test_lease_activity_op_dispatches_eagerly_in_the_scheduling_commit(store: Store) -> None:
    _open(store, "a", "wf-a")
    scheduled = attrs.evolve(activity(3), start_to_close_timeout=timedelta(seconds=2))
    now = T0 + 2 * SECOND
    store.commit([Append("a", [scheduled, task_done(4)], 2),
                  LeaseActivity("a", 3, "me", now, timedelta(minutes=1))])
    assert store.lease_activity_task("aq", "other", now, SECOND) is None
    store.commit([Deliver("a", ActivityCompleted(event_id=0, time=now, scheduled_event_id=3))])
    assert type(store.read("a")[-1]).__name__ == "ActivityCompleted"
    expired = now + timedelta(seconds=3)  # a dead eager owner: the lease ends, retried
    store.commit([Append("a", [attrs.evolve(activity(6), start_to_close_timeout=SECOND),
                               task_done(7)], 5),
                  LeaseActivity("a", 6, "dead", now, timedelta(minutes=1))])
    retried = store.lease_activity_task("aq", "other", expired, SECOND)
    assert retried is not None and retried.scheduled_event_id == 6 and retried.attempt == 2


async def test_a_waiter_on_one_run_sleeps_through_commits_to_others(store: Store) -> None:
    import asyncio

    _open(store, "a", "wf-a")
    _open(store, "b", "wf-b")
    token = store.change_token()
    on_a = asyncio.ensure_future(store.wait_changed(30, since=token, run_id="a"))
    on_b = asyncio.ensure_future(store.wait_changed(30, since=token, run_id="b"))
    await asyncio.sleep(0)  # both are waiting now (on_a registered first)
    store.commit([Deliver("b", signal())])
    # Facts, not time: the commit's wake-ups are delivered in the waiters' order, so
    # once on_b has returned, on_a would have too had it been woken...
    assert await asyncio.wait_for(on_b, 10) is True
    # ...and a SQLite store's poller (which sees every commit to the file) has looked
    # at the file since, without taking this process's commit for another's.
    if isinstance(store, SqliteStore):
        notifier = store._notifier
        polls = notifier.polls

        async def polled_again() -> None:
            while notifier.polls <= polls:
                await asyncio.sleep(0.001)
        await asyncio.wait_for(polled_again(), 10)
    assert not on_a.done()  # a commit to run b does not wake a waiter on run a
    store.commit([Deliver("a", signal())])
    assert await asyncio.wait_for(on_a, 10) is True


def test_cancel_requested_activities_lists_only_the_owners(store: Store) -> None:
    from replay.history import ActivityCancelRequested

    _open(store, "a", "wf-a")
    store.commit([Append("a", [activity(3), activity(4), task_done(5)], 2)])
    now = T0 + 2 * SECOND
    store.lease_activity_tasks("aq", "me", now, timedelta(minutes=1), 1)
    store.lease_activity_tasks("aq", "you", now, timedelta(minutes=1), 1)
    store.commit([Append("a", [ActivityCancelRequested(event_id=6, time=now,
                                                       scheduled_event_id=3),
                               ActivityCancelRequested(event_id=7, time=now,
                                                       scheduled_event_id=4),
                               task_done(8)], 5)])
    assert store.cancel_requested_activities("me") == [("a", 3)]
    assert store.cancel_requested_activities("you") == [("a", 4)]


async def test_a_waiter_on_a_runs_end_sleeps_through_its_other_commits(store: Store) -> None:
    import asyncio

    from replay.history import RunCloseWaits

    assert isinstance(store, RunCloseWaits)
    _open(store, "a", "wf-a")
    token = store.change_token()
    waiting = asyncio.ensure_future(store.wait_closed("a", 30, since=token))
    store.commit([Deliver("a", signal())])  # before the wait starts: not an end either
    await asyncio.sleep(0)
    store.commit([Append("a", [task_done(4)], 3)])
    on_a = asyncio.ensure_future(store.wait_changed(30, since=token, run_id="a"))
    assert await asyncio.wait_for(on_a, 10) is True  # the commits were seen...
    assert not waiting.done()  # ...and did not end the wait on the run's end
    store.commit([Append("a", [WorkflowCompleted(event_id=5, time=T0 + SECOND)], 4)])
    assert await asyncio.wait_for(waiting, 10) is True
