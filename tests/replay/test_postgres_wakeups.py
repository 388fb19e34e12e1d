"""On PostgreSQL a worker wakes for its own task queue's work, not for every commit.

Two store objects on one schema stand for two hosts. The worker of queue ``a`` is
idle while the worker of queue ``b`` runs workflows of several steps: every one of
those commits reaches ``a``'s process (LISTEN/NOTIFY), and none of them wakes its
worker; it wakes only when its idle wait times out. Counted, not timed: its waits
that ended early (woken) and its polls for workflow tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest

from fixtures.workload.samples import StepsWorkflow, step
from replay.client import Client
from replay.history import PostgresStore, WorkflowTask
from replay.worker import Worker

from .workers.harness import bounded

RUNS = 4
STEPS = 5


class CountingStore(PostgresStore):
    """A PostgresStore that counts its unscoped waits' outcomes and its task polls."""

    woken = 0
    timed_out = 0
    polls = 0

    async def wait_changed(self, timeout: float, since: int | None = None,
                           run_id: str | None = None, task_queue: str | None = None) -> bool:
        changed = await super().wait_changed(timeout, since, run_id, task_queue)
        if run_id is None and task_queue is None:
            if changed:
                self.woken += 1
            else:
                self.timed_out += 1
        return changed

    def lease_workflow_tasks(self, task_queue: str, owner: str, now: datetime,
                             lease_for: timedelta, limit: int) -> list[WorkflowTask]:
        self.polls += 1
        return super().lease_workflow_tasks(task_queue, owner, now, lease_for, limit)


@pytest.fixture
def hosts(postgres_url: str, postgres_schemas: Callable[[], str]
          ) -> Iterator[tuple[CountingStore, PostgresStore]]:
    schema = postgres_schemas()
    idle = CountingStore(postgres_url, schema=schema)
    busy = PostgresStore(postgres_url, schema=schema)
    yield idle, busy
    idle.close()
    busy.close()


async def test_a_worker_of_queue_a_sleeps_through_queue_bs_steps(
        hosts: tuple[CountingStore, PostgresStore]) -> None:
    idle_store, busy_store = hosts
    idle = Worker(Client(idle_store), task_queue="a", workflows=[StepsWorkflow],
                  activities=[step])
    busy_client = Client(busy_store)
    busy = Worker(busy_client, task_queue="b", workflows=[StepsWorkflow], activities=[step])
    async with idle, busy:
        async def polled() -> None:  # the idle worker has leased from its queue once
            while idle_store.polls == 0:
                await asyncio.sleep(0.01)
        await bounded(polled(), 60)
        woken, timed_out, polls = idle_store.woken, idle_store.timed_out, idle_store.polls
        handles = [await busy_client.start_workflow(StepsWorkflow.run, args=[STEPS, 10.0],
                                                    id=f"b-{i}", task_queue="b")
                   for i in range(RUNS)]
        results = await bounded(asyncio.gather(*(h.result() for h in handles)), 120)
        woken, timed_out = idle_store.woken - woken, idle_store.timed_out - timed_out
        polls = idle_store.polls - polls
        # every step of b's runs committed and notified; none of it concerned queue a
        assert results == [sum(i * i for i in range(STEPS))] * RUNS
        assert woken == 0
        # it polled only after its waits timed out (and once in the pass under way)
        assert polls <= timed_out + 1
        # work on its own queue, started from the other host, still reaches it
        handle = await busy_client.start_workflow(StepsWorkflow.run, args=[2, 10.0],
                                                  id="a-1", task_queue="a")
        assert await bounded(handle.result(), 60) == 1
