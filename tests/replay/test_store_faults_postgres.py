"""A worker on PostgreSQL survives its sessions being killed, as one on SQLite survives a
held lock: PostgreSQL's errors are classified in one place (history/_postgres_faults.py),
so a lost connection is a passing fault (RPL-S07) that the worker backs off from.

The real throwaway server; another connection ends every session of the test's database
with ``pg_terminate_backend`` while the runs are under way, three times, each time once
the runs have reached a share of all the events they will write (facts, not time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from fixtures.workload.samples import StepsWorkflow, step
from replay.client import Client
from replay.history import PostgresStore, StoreError, StoreUnavailableError
from replay.history._postgres_faults import pg_fault, transient_reason
from replay.worker import Worker

from .workers.harness import bounded, check_history

RUNS = 16
STEPS = 6
EVENTS = RUNS * (2 + 3 * STEPS)  # started, task done, then per step: scheduled, result, task


class Fake(Exception):
    """A driver error as psycopg raises them: ``sqlstate`` says what happened."""

    def __init__(self, sqlstate: str | None, text: str = "boom") -> None:
        super().__init__(text)
        self.sqlstate = sqlstate


class OperationalError(Exception):
    """A lost connection: psycopg's OperationalError without a SQLSTATE."""


@pytest.mark.parametrize(("state", "reason"), [
    ("57P01", "admin_shutdown"), ("57P03", "cannot_connect_now"), ("08006", "connection_failure"),
    ("40001", "serialization_failure"), ("40P01", "deadlock_detected"),
    ("53300", "too_many_connections"), ("08P01", "sqlstate_08P01"),
])
def test_passing_faults_are_store_unavailable(state: str, reason: str) -> None:
    fault = pg_fault(Fake(state, "terminating connection\n due to administrator command"),
                     "a write failed", "postgresql://x/db")
    assert isinstance(fault, StoreUnavailableError) and fault.reason == reason
    assert str(fault) == (
        f"[RPL-S07] postgresql://x/db: a write failed: PostgreSQL error ({reason}): "
        "terminating connection due to administrator command. the connection to PostgreSQL "
        "was lost, refused or cut short, or the server was busy; nothing was written. It may "
        "clear by itself: retry (a worker does, with backoff).")


@pytest.mark.parametrize("state", ["42P01", "42501", "P0001", "23505", "22P02"])
def test_permanent_faults_stay_store_errors(state: str) -> None:
    fault = pg_fault(Fake(state, "relation missing"), "a query failed", "pg")
    assert type(fault) is StoreError
    assert str(fault) == "[RPL-S01] pg: a query failed: PostgreSQL error: relation missing"


def test_a_lost_connection_without_sqlstate_is_passing() -> None:
    assert transient_reason(OperationalError("server closed the connection")) == \
        "connection_lost"
    assert transient_reason(ValueError("x")) is None


@pytest.fixture
def pg_store(postgres_url: str, postgres_schemas: Callable[[], str]
             ) -> Iterator[tuple[PostgresStore, PostgresStore]]:
    """The worker's store, and an observer's on the same schema (its own pool)."""
    schema = postgres_schemas()
    worker_store = PostgresStore(postgres_url, schema=schema)
    observer = PostgresStore(postgres_url, schema=schema, pool_size=1)
    yield worker_store, observer
    worker_store.close()
    observer.close()


def _terminate_sessions(url: str) -> int:
    """End every other session of the database (the worker's pool and listener, the
    observer's): what an administrator or a failover does."""
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
            "current_database() AND pid <> pg_backend_pid() AND backend_type = "
            "'client backend'").fetchone()
    return int(found[0]) if found else 0


def _retrying(fn: Callable[[], Any]) -> Any:
    """The observer's calls hit killed sessions too: it retries passing faults."""
    for _ in range(50):
        try:
            return fn()
        except StoreUnavailableError:
            continue
    return fn()


async def _progress_to(observer: PostgresStore, events: int) -> None:
    """Wait until the runs hold at least ``events`` events in all."""
    while sum(r.last_event_id for r in await asyncio.to_thread(_retrying, observer.list_runs)
              ) < events:
        await asyncio.sleep(0.01)


@pytest.mark.slow
async def test_a_worker_survives_its_sessions_being_terminated(
        postgres_url: str, pg_store: tuple[PostgresStore, PostgresStore]) -> None:
    store, observer = pg_store
    client = Client(store)
    ids = [f"steps-{i}" for i in range(RUNS)]
    for wid in ids:
        await client.start_workflow(StepsWorkflow.run, args=[STEPS, 10.0], id=wid,
                                    task_queue="pg-faults")
    worker = Worker(client, task_queue="pg-faults", workflows=[StepsWorkflow],
                    activities=[step])
    running = asyncio.create_task(worker.run())
    try:
        killed = 0
        for share in (0.15, 0.35, 0.6):  # of the events the runs will have in all
            await bounded(_progress_to(observer, int(EVENTS * share)), 60)
            killed += await asyncio.to_thread(_terminate_sessions, postgres_url)

        async def all_done() -> None:
            while len(_retrying(lambda: observer.list_runs(status="completed"))) < RUNS:
                await asyncio.sleep(0.05)
        await bounded(all_done(), 120)
    finally:
        await worker.shutdown()
        await running
    assert killed >= 3
    assert worker.store_faults >= 1  # it met the killed sessions, and went on
    for wid in ids:
        [run] = observer.list_runs(workflow_id=wid)
        history = check_history(observer, run.run_id)  # completed once, each result once
        assert history.events[-1].result == sum(i * i for i in range(STEPS))  # type: ignore[attr-defined]
