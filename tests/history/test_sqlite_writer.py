"""history/_sqlite.py's writer connection: run heads kept between commits, and wake-ups
that tell another connection's commits from this store's own by ``data_version``."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from replay.history import (
    Append,
    AppendConflictError,
    Deliver,
    RunClosedError,
    SqliteStore,
    Start,
    WorkflowCompleted,
)
from replay.history._sqlite import CALM_COMMITS
from tests.history.samples import SECOND, signal, started, task_done
from tests.strategies import T0


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "writer.db"


@pytest.fixture(params=["wary", "trusting"])
def store(path: Path, request: pytest.FixtureRequest) -> Iterator[SqliteStore]:
    """A store with runs "a" and "b"; "trusting": it has seen no other connection commit
    for a while, so its commits check the data version after planning (and plan again
    if another connection did commit), not before."""
    s = SqliteStore(path)
    s.commit([Start("a", started("wf-a")), Start("b", started("wf-b"))])
    if request.param == "trusting":
        for _ in range(CALM_COMMITS):
            s.register_worker("q", "me", T0, [], [])
    yield s
    s.close()


def _foreign_commit(path: Path) -> None:
    """A commit by a connection that is not the store's (as another process makes)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', 'x')")
    finally:
        conn.close()


def _traced(store: SqliteStore) -> list[str]:
    seen: list[str] = []
    store._writer.set_trace_callback(seen.append)
    return seen


# --- run heads kept between commits ------------------------------------------------------------


def test_a_commit_after_one_of_its_own_does_not_read_the_run_head_again(
        store: SqliteStore) -> None:
    store.commit([Deliver("a", signal())])
    seen = _traced(store)
    store.commit([Deliver("a", signal())])
    assert not any(s.startswith("SELECT") for s in seen)
    assert [e.event_id for e in store.read("a")] == [1, 2, 3]


def test_a_head_changed_by_another_connection_is_read_again(
        store: SqliteStore, path: Path) -> None:
    store.commit([Deliver("a", signal())])  # the head of "a" is kept: last event 2
    with SqliteStore(path) as other:
        other.append("a", [signal(3, "from elsewhere")], 2)
    seen = _traced(store)
    with pytest.raises(AppendConflictError) as err:
        store.append("a", [signal(3, "late")], 2)
    assert str(err.value) == str(AppendConflictError("a", 2, 3))
    assert any(s.startswith("SELECT r.workflow_id") for s in seen)  # read, not trusted
    assert [e.event_id for e in store.read("a")] == [1, 2, 3]
    store.append("a", [signal(4, "now")], 3)
    assert store.last_event_id("a") == 4


def test_an_input_planned_on_a_head_another_connection_moved_lands_after_its_events(
        store: SqliteStore, path: Path) -> None:
    store.commit([Deliver("a", signal())])  # the head of "a" is kept: last event 2
    with SqliteStore(path) as other:
        other.append("a", [signal(3, "from elsewhere")], 2)
    trusting = store._calm >= CALM_COMMITS
    seen = _traced(store)
    store.commit([Deliver("a", signal(3, "here"))])
    assert [e.event_id for e in store.read("a")] == [1, 2, 3, 4]
    assert store.read("a", 2)[0] == signal(3, "from elsewhere")
    assert any(s.startswith("SELECT r.workflow_id") for s in seen)  # read, not trusted
    # trusting the kept head, it wrote event 3 first: that attempt was rolled back
    assert ("ROLLBACK" in seen) == trusting


def test_a_run_closed_by_another_connection_refuses_the_next_input(
        store: SqliteStore, path: Path) -> None:
    store.commit([Deliver("a", signal())])
    with SqliteStore(path) as other:
        other.append("a", [task_done(3), WorkflowCompleted(event_id=4, time=T0 + SECOND,
                                                           result=None)], 2)
    with pytest.raises(RunClosedError):
        store.commit([Deliver("a", signal())])
    assert store.last_event_id("a") == 4


def test_an_update_requested_elsewhere_keeps_the_task_a_kept_head_would_drop(
        store: SqliteStore, path: Path) -> None:
    # this store's head of "a" says: no workflow task row (the step finished it)
    store.commit([Deliver("a", signal()), Append("a", [task_done(3)], 2)])
    assert [t.run_id for t in store.lease_workflow_tasks("q", "me", T0, SECOND, 10)] == ["b"]
    with SqliteStore(path) as other:  # a client elsewhere asks for an update: a task row
        other.request_update("a", "u1", "set", [1], T0)
    # a signal and its activation: without reading the head again, the signal's need and
    # the activation's finish would cancel out and leave the update's task leased forever
    store.lease_workflow_tasks("q", "me", T0, SECOND, 10)
    store.commit([Deliver("a", signal()), Append("a", [task_done(5)], 4)])
    assert [t.run_id for t in store.lease_workflow_tasks("q", "other", T0, SECOND, 10)] \
        == ["a"]


def test_a_failed_commit_forgets_the_heads_it_planned(store: SqliteStore) -> None:
    with pytest.raises(AppendConflictError):
        store.commit([Deliver("a", signal()), Append("a", [task_done(9)], 7)])
    assert store.last_event_id("a") == 1  # nothing of the batch was written...
    store.commit([Deliver("a", signal())])  # ...and the head it planned is not believed
    assert [e.event_id for e in store.read("a")] == [1, 2]


# --- wake-ups -----------------------------------------------------------------------------------


async def test_a_foreign_commit_between_two_of_ours_wakes_a_waiter(
        store: SqliteStore, path: Path) -> None:
    store._notifier._interval = 3600  # the poller never gets to look: the commit must tell
    store.commit([Deliver("b", signal())])
    on_a = asyncio.ensure_future(store.wait_changed(30, run_id="a"))
    await asyncio.sleep(0)
    _foreign_commit(path)
    store.commit([Deliver("b", signal())])  # sees the other commit first: wakes everyone
    assert await asyncio.wait_for(on_a, 10) is True


async def test_a_token_taken_before_a_foreign_commit_sees_it(
        store: SqliteStore, path: Path) -> None:
    store._notifier._interval = 3600
    token = store.change_token()
    _foreign_commit(path)
    store.commit([Deliver("b", signal())])
    assert await store.wait_changed(0, since=token, run_id="a") is True


async def test_the_poller_wakes_on_foreign_commits_and_never_on_ours(
        store: SqliteStore, path: Path) -> None:
    notifier = store._notifier
    notifier._interval = 0.001
    on_a = asyncio.ensure_future(store.wait_changed(30, run_id="a"))
    await asyncio.sleep(0)
    for _ in range(20):
        store.commit([Deliver("b", signal())])
        await asyncio.sleep(0)
    polls = notifier.polls
    while notifier.polls < polls + 2:  # the poller looked twice since the last commit
        await asyncio.sleep(0.001)
    assert not on_a.done()
    _foreign_commit(path)  # nothing of ours commits after it: the poller must see it
    assert await asyncio.wait_for(on_a, 10) is True


async def test_a_foreign_commit_seen_by_a_failing_commit_still_wakes_a_waiter(
        store: SqliteStore, path: Path) -> None:
    store._notifier._interval = 3600
    store.commit([Deliver("b", signal())])
    on_a = asyncio.ensure_future(store.wait_changed(30, run_id="a"))
    await asyncio.sleep(0)
    _foreign_commit(path)
    with pytest.raises(AppendConflictError):  # sees the other commit, then fails
        store.append("b", [signal(9)], 8)
    assert await asyncio.wait_for(on_a, 10) is True


def test_a_commit_that_sees_a_foreign_one_moves_the_token_by_two(
        store: SqliteStore, path: Path) -> None:
    # the worker takes "the token moved by one" for "only my commit happened"
    store.commit([Deliver("b", signal())])
    token = store.change_token()
    store.commit([Deliver("b", signal())])
    assert store.change_token() == token + 1
    _foreign_commit(path)
    store.commit([Deliver("b", signal())])
    assert store.change_token() == token + 3
