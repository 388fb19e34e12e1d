"""What is particular to PostgresStore: its schema, triggers, URLs, wake-ups across
connections, worker heartbeats and the missing driver. (What every store must do is
in the conformance suite, which runs against it too.)"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import subprocess
import sys
import time
import typing
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from replay.history import (
    ActivityCancelRequested,
    Append,
    Deliver,
    HandlerSignature,
    LeaseActivity,
    PostgresStore,
    Start,
    StoreError,
    WorkerHeartbeats,
    WorkflowCompleted,
    WorkflowSignature,
    store_from_url,
)
from replay.history._changes import Change
from replay.history._postgres_changes import handled_changes
from replay.history._postgres_conn import parse_target
from replay.history._postgres_schema import SCHEMA_VERSION
from tests.history.samples import activity, signal, started, task_done
from tests.strategies import T0


@pytest.fixture
def pg(postgres_url: str, postgres_schemas: Callable[[], str]) -> Iterator[
        Callable[..., PostgresStore]]:
    """Open PostgresStores: a new schema, or (``schema=``) another handle on one."""
    made: list[PostgresStore] = []

    def open_store(schema: str | None = None) -> PostgresStore:
        made.append(PostgresStore(postgres_url, schema=schema or postgres_schemas()))
        return made[-1]

    yield open_store
    for store in made:
        store.close()


def raw(url: str, schema: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=True, options=f"-c search_path={schema}")


def test_every_change_kind_has_sql() -> None:
    assert handled_changes() == set(typing.get_args(Change))


def test_url_parameters_and_masked_password() -> None:
    target = parse_target("postgresql://app:s3cret@db.example:5433/prod?schema=wf&pool_size=3"
                          "&sslmode=require")
    assert (target.schema, target.pool_size, target.pipeline, target.checked) == (
        "wf", 3, False, True)
    assert target.conninfo == "postgresql://app:s3cret@db.example:5433/prod?sslmode=require"
    assert "s3cret" not in target.shown and ":***@" in target.shown
    assert parse_target("postgres://h/db", schema="x").schema == "x"
    with pytest.raises(ValueError, match="schema name 'Bad-Name' is not allowed"):
        parse_target("postgresql://h/db?schema=Bad-Name")
    assert parse_target("postgresql://h/db?pipeline=on").pipeline is True
    assert parse_target("postgresql://h/db?pipeline=on", pipeline=False).pipeline is False
    with pytest.raises(ValueError, match="pipeline must be on or off, got 'maybe'"):
        parse_target("postgresql://h/db?pipeline=maybe")
    assert parse_target("postgresql://h/db?checked=off").checked is False
    assert "checked" not in parse_target("postgresql://h/db?checked=off").conninfo
    with pytest.raises(ValueError, match="checked must be on or off, got 'no way'"):
        parse_target("postgresql://h/db?checked=no+way")


def test_events_are_append_only_even_for_raw_sql(pg: Any, postgres_url: str) -> None:
    store = pg()
    store.commit([Start("r1", started())])
    with raw(postgres_url, store.schema) as conn:
        conn.execute("INSERT INTO pruned_runs (run_id, workflow_id, workflow_type, status, "
                     "start_time, event_count, pruning_xid) VALUES ('x', 'w', 't', 'completed', "
                     "now(), 1, 0)")
        for sql in ("UPDATE events SET data = '{}'", "DELETE FROM events",
                    "TRUNCATE events", "DELETE FROM pruned_runs", "UPDATE pruned_runs SET "
                    "status = 'failed'", "TRUNCATE pruned_runs"):
            with pytest.raises(psycopg.errors.RaiseException, match=r"append-only.*RPL-S01"):
                conn.execute(sql)
    assert [e.event_id for e in store.read("r1")] == [1]


def test_a_deleted_trigger_is_refused_on_open(pg: Any, postgres_url: str) -> None:
    store = pg()
    with raw(postgres_url, store.schema) as conn:
        conn.execute("DROP TRIGGER events_no_delete ON events")
    with pytest.raises(StoreError, match=r"lacks trigger events_no_delete \(on events\).*"
                       "append-only"):
        pg(store.schema)


def test_a_foreign_schema_and_a_newer_version_are_refused(pg: Any, postgres_url: str,
                                                          postgres_schemas: Any) -> None:
    foreign = postgres_schemas()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {foreign}")
        conn.execute(f"CREATE TABLE {foreign}.orders (id int)")
    with pytest.raises(StoreError, match=r"schema '.*' is not a replay store .*orders"):
        pg(foreign)
    store = pg()
    with raw(postgres_url, store.schema) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version '99', newer than"):
        pg(store.schema)


def test_a_version_3_schema_gains_search_attributes_on_open(pg: Any,
                                                            postgres_url: str) -> None:
    """Version 3 had no search attributes: the step to 4 adds the runs column (empty for
    the runs already there) and the index table, and queries work on the upgraded store."""
    store = pg()
    store.commit([Start("old", started("wf-old"))])
    with raw(postgres_url, store.schema) as conn:
        _as_version(conn, 3)
    upgraded = pg(store.schema)
    with raw(postgres_url, store.schema) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        assert row is not None and row[0] == str(SCHEMA_VERSION)
    old = upgraded.get_run("old")
    assert old is not None and old.search_attributes == {}
    upgraded.commit([Start("new", started("wf-new", search_attributes={
        "Customer": {"type": "Keyword", "value": "acme"}}))])
    assert [r.run_id for r in upgraded.query_runs("Customer = 'acme'")] == ["new"]
    assert upgraded.count_query("ExecutionStatus = 'Running'") == 2


def test_a_version_1_store_gains_the_worker_registry(pg: Any, postgres_url: str) -> None:
    store = pg()
    store.commit([Start("r1", started())])
    store.close()
    with raw(postgres_url, store.schema) as conn:
        _as_version(conn, 1)
    upgraded = pg(store.schema)
    with raw(postgres_url, store.schema) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        tables = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (store.schema,))}
    assert row == (str(SCHEMA_VERSION),)
    assert {"registrations", "query_requests", "query_pollers", "search_attributes"} <= tables
    sig = WorkflowSignature(workflow_type="Greeter", run=HandlerSignature(name="run"))
    upgraded.register_worker("q", "w", T0, [sig], [])
    assert [r.signature for r in upgraded.registered_workflows("q")] == [sig]
    assert [e.event_id for e in upgraded.read("r1")] == [1]


_ADDED_BY_VERSION: dict[int, tuple[str, ...]] = {
    2: ("DROP TABLE registrations",),
    3: ("DROP TABLE query_requests", "DROP TABLE query_pollers"),
    4: ("DROP TABLE search_attributes", "ALTER TABLE runs DROP COLUMN search_attributes"),
    5: ("ALTER TABLE update_requests DROP COLUMN headers",),
    6: ("DROP FUNCTION commit_checked", "DROP FUNCTION apply_changes"),
}
"""What each migration step added, as the statements that take it away again."""


def _as_version(conn: Any, version: int) -> None:
    """Leave the schema as ``version`` left it: undo every later step, newest first."""
    for step in sorted(_ADDED_BY_VERSION, reverse=True):
        if step > version:
            for sql in _ADDED_BY_VERSION[step]:
                conn.execute(sql)
    conn.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (str(version),))


def test_a_version_2_store_gains_the_query_channel_and_update_headers(
        pg: Any, postgres_url: str) -> None:
    store = pg()
    store.commit([Start("r1", started())])
    store.request_update("r1", "u1", "set", [1], T0)
    store.close()
    with raw(postgres_url, store.schema) as conn:
        _as_version(conn, 2)
    upgraded = pg(store.schema)
    with raw(postgres_url, store.schema) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert row == (str(SCHEMA_VERSION),)
    old = upgraded.get_update("r1", "u1")
    assert old is not None and old.headers == {}
    new = upgraded.request_update("r1", "u2", "set", [2], T0, {"trace": "t"})
    assert new.headers == {"trace": "t"} == (upgraded.get_update("r1", "u2") or new).headers
    assert upgraded.query_pollers("q", 60) == []
    upgraded.pending_queries("q", "w1")
    assert upgraded.query_pollers("q", 60) == ["w1"]


def test_open_by_url_and_a_bad_server() -> None:
    with pytest.raises(StoreError, match=r"postgresql://u:\*\*\*@127.0.0.1:1/x.*cannot open"):
        PostgresStore("postgresql://u:pw@127.0.0.1:1/x", connect_timeout=2)
    assert store_from_url("mysql://x") is None


async def _settled(store: PostgresStore, before: int) -> None:
    """Wait until ``store``'s listener has received another process's commit, then let any
    wake-up it caused run (one is delivered within a loop turn)."""
    while store.change_token() == before:
        await asyncio.sleep(0.001)
    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_commit_on_another_connection_wakes_waiters_of_its_run_only(pg: Any) -> None:
    one = pg()
    other = pg(one.schema)  # as another process (or host) would
    one.commit([Start("a", started("wf-a")), Start("b", started("wf-b"))])
    token = one.change_token()
    waiting = asyncio.ensure_future(one.wait_changed(10, since=token, run_id="a"))
    await asyncio.sleep(0)  # the waiter registers in its first step
    other.commit([Deliver("b", signal())])

    async def notified(before: int) -> None:  # one's listener has received a commit
        while one.change_token() == before:
            await asyncio.sleep(0.001)
    await asyncio.wait_for(notified(token), 60)
    for _ in range(3):  # a wake-up, had it been sent, is delivered within a loop turn
        await asyncio.sleep(0)
    assert not waiting.done()
    other.commit([Deliver("a", signal())])
    assert await asyncio.wait_for(waiting, 60) is True
    # a waiter on run a's end sleeps through its steps on another host, not its end
    token = one.change_token()
    ending = asyncio.ensure_future(one.wait_closed("a", 10, since=token))
    await asyncio.sleep(0)
    other.commit([Deliver("a", signal())])
    await _settled(one, token)
    assert not ending.done()
    other.commit([Append("a", [WorkflowCompleted(event_id=4, time=T0)], 3)])
    assert await asyncio.wait_for(ending, 60) is True
    queue = asyncio.ensure_future(one.wait_changed(10, since=one.change_token(),
                                                   task_queue="q"))
    await asyncio.sleep(0)
    other.commit([Start("c", started("wf-c"))])  # on queue q: a new workflow task
    assert await asyncio.wait_for(queue, 60) is True


async def test_a_worker_store_wakes_for_its_queues_not_for_every_commit(pg: Any) -> None:
    """An unscoped wait on a store whose workers lease from queue ``aq`` sleeps through
    another host's commits to other queues, and wakes for the commit that asks one of its
    activities (of a run on another queue) to cancel, and for new work on its queue."""
    worker = pg()
    other = pg(worker.schema)  # as another host would
    other.commit([Start("a", started("wf-a")), Append("a", [task_done(2), activity(3)], 1)])
    other.commit([Start("b", started("wf-b", task_queue="bq"))])
    assert worker.lease_activity_tasks("aq", "w1", T0 + timedelta(seconds=2),
                                       timedelta(minutes=1), 1)
    token = worker.change_token()
    waiting = asyncio.ensure_future(worker.wait_changed(30, since=token))
    await asyncio.sleep(0)
    other.commit([Deliver("b", signal())])  # run b's queue bq gets a workflow task
    await _settled(worker, token)
    assert not waiting.done()
    # run a is on queue q; its activity (event 3) on aq, leased here, is asked to cancel
    other.commit([Append("a", [ActivityCancelRequested(event_id=4, time=T0,
                                                       scheduled_event_id=3)], 3)])
    assert await asyncio.wait_for(waiting, 60) is True
    assert worker.cancel_requested_activities("w1") == [("a", 3)]
    # the worker retires: its store's unscoped waits wake for any commit again
    worker.retire_worker("w1")
    waiting = asyncio.ensure_future(worker.wait_changed(30, since=worker.change_token()))
    await asyncio.sleep(0)
    other.commit([Deliver("b", signal())])
    assert await asyncio.wait_for(waiting, 60) is True


async def test_a_step_that_leaves_no_task_wakes_no_worker_of_another_host(pg: Any) -> None:
    """A worker's usual step (its workflow task finished, the activity it schedules leased
    to itself in the same commit) leaves no work another worker could take: it names no
    task queue, so the workers of other hosts sleep through it; an activity scheduled
    unleased does name its queue, and wakes them."""
    worker = pg()
    other = pg(worker.schema)  # as another host would
    token = worker.change_token()
    other.commit([Start("a", started("wf-a"))])  # names queue q: a new workflow task
    await _settled(worker, token)  # its note has reached this host
    token = worker.change_token()
    on_q = asyncio.ensure_future(worker.wait_changed(30, since=token, task_queue="q"))
    on_aq = asyncio.ensure_future(worker.wait_changed(30, since=token, task_queue="aq"))
    await asyncio.sleep(0)
    other.commit([Append("a", [task_done(2), activity(3)], 1),
                  LeaseActivity("a", 3, "w9", T0, timedelta(minutes=1))])
    await _settled(worker, token)
    assert not on_q.done() and not on_aq.done()
    assert worker.lease_activity_tasks("aq", "w1", T0 + timedelta(seconds=2),
                                       timedelta(minutes=1), 1) == []
    other.commit([Append("a", [activity(4)], 3)])  # scheduled, and left for any worker
    assert await asyncio.wait_for(on_aq, 60) is True
    assert not on_q.done()
    on_q.cancel()
    leased = worker.lease_activity_tasks("aq", "w1", T0 + timedelta(seconds=2),
                                         timedelta(minutes=1), 1)
    assert [t.scheduled_event_id for t in leased] == [4]


def test_workflow_tasks_are_shared_among_the_workers_polling_the_queue(pg: Any) -> None:
    """A worker leases its share of the free workflow tasks (of the workers that polled
    the queue in the last seconds), not all of them, so that runs started together spread
    over the workers; alone, it takes every one it asks for."""
    store = pg()
    store.commit([Start(f"r{i}", started(f"wf-{i}")) for i in range(4)])
    now, lease = T0 + timedelta(seconds=5), timedelta(minutes=1)
    for worker in ("w1", "w2"):  # both poll queue q (a worker looks for queries too)
        assert store.pending_queries("q", worker) == []
    first = store.lease_workflow_tasks("q", "w1", now, lease, 64)
    assert len(first) == 2
    second = store.lease_workflow_tasks("q", "w2", now, lease, 64)
    assert len(second) == 1  # half of the two left
    store.retire_query_poller("w2")
    rest = store.lease_workflow_tasks("q", "w1", now, lease, 64)
    assert len(rest) == 1
    assert sorted(t.run_id for t in first + second + rest) == ["r0", "r1", "r2", "r3"]


async def test_tail_across_connections_and_a_lost_listener(pg: Any, postgres_url: str) -> None:
    reader = pg()
    writer = pg(reader.schema)
    writer.commit([Start("r1", started())])
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        # the listener's connection dies: waiters are woken and it listens again
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE query LIKE 'LISTEN%%' AND pid <> pg_backend_pid()")

    async def write() -> None:
        for i in range(3):
            await asyncio.sleep(0.05)
            writer.commit([Deliver("r1", signal(0, f"s{i}"))])
        writer.append("r1", [WorkflowCompleted(event_id=5, time=T0)], 4)

    task = asyncio.ensure_future(write())
    async with asyncio.timeout(10):
        seen = [e.event_id async for e in reader.tail("r1", 1)]
    await task
    assert seen == [2, 3, 4, 5]


def test_worker_heartbeats_find_a_dead_worker_by_the_server_clock(pg: Any) -> None:
    store = pg()
    assert isinstance(store, WorkerHeartbeats)
    store.beat_worker("host-a/1", timedelta(seconds=0.2))
    store.beat_worker("host-b/1", timedelta(seconds=30))
    assert store.dead_workers() == set()
    deadline = time.monotonic() + 60
    while store.dead_workers() != {"host-a/1"}:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    store.beat_worker("host-a/1", timedelta(seconds=30))  # it came back
    assert store.dead_workers() == set()
    store.retire_worker("host-a/1")
    store.retire_worker("host-b/1")
    assert store.dead_workers() == set()


def test_without_the_driver_the_error_names_the_extra() -> None:
    code = ("import sys; sys.modules['psycopg'] = None; sys.modules['psycopg_pool'] = None\n"
            "from replay.history import PostgresStore, StoreError\n"
            "try:\n    PostgresStore('postgresql://u@h/db')\n"
            "except StoreError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert "pip install 'replay-engine[postgres]'" in out.stdout
    assert out.stdout.startswith("[RPL-S01] postgresql://u@h/db: a PostgreSQL store needs")


def test_prune_run_is_the_one_audited_way_to_delete(pg: Any, postgres_url: str) -> None:
    store = pg()
    store.commit([Start("open", started("wf-open")), Start("done", started("wf-done"))])
    store.append("done", [WorkflowCompleted(event_id=2, time=T0)], 1)
    with raw(postgres_url, store.schema) as conn:
        with pytest.raises(psycopg.errors.RaiseException, match="run open is running"):
            conn.execute("SELECT prune_run('open', NULL)")
        assert conn.execute("SELECT prune_run('done', '/exports')").fetchone() == (2,)
        audit = conn.execute("SELECT run_id, status, event_count, exported_to FROM "
                             "pruned_runs").fetchall()
        assert audit == [("done", "completed", 2, "/exports")]
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("DELETE FROM events WHERE run_id = 'open'")
    assert store.get_run("done") is None and store.last_event_id("done") == 0
    assert store.last_event_id("open") == 1


def test_a_session_stopped_inside_a_transaction_does_not_hold_the_run_for_ever(
        pg: Any, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A host stopped or cut off mid-commit keeps its row locks until the server ends its
    session: every store connection sets idle_in_transaction_session_timeout, so another
    host's commit to the same run waits for that, not for the stopped host."""
    from replay.history import _postgres_conn

    monkeypatch.setattr(_postgres_conn, "IDLE_IN_TRANSACTION_TIMEOUT_MS", 1_000)
    store = pg()
    store.commit([Start("r1", started())])
    target = parse_target(f"{postgres_url}?schema={store.schema}")
    stalled = psycopg.connect(target.conninfo, **_postgres_conn.connect_kwargs(target))
    stalled.autocommit = False
    stalled.execute("SELECT * FROM runs WHERE run_id = 'r1' FOR UPDATE")  # then goes quiet
    other = pg(store.schema)  # opened after the setting changed, like any other host
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # blocks until the server ends
        pool.submit(other.commit, [Deliver("r1", signal())]).result(timeout=120)  # the other
    assert [e.event_id for e in other.read("r1")] == [1, 2]
    with pytest.raises(psycopg.Error, match="idle-in-transaction timeout") as ended:
        stalled.execute("SELECT 1")  # its session was ended by the server
    stalled.close()
    from replay.history._postgres_faults import transient_reason
    assert transient_reason(ended.value) == "idle_in_transaction_session_timeout"
