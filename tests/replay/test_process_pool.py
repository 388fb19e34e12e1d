"""Sync activities on a process pool: they run in other processes, with a picklable info,
heartbeats recorded by the worker and cancellation reaching them across the process
boundary; a process pool without a shared-state manager is refused."""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
from collections.abc import Iterator
from typing import Any

import pytest

from replay import activity
from replay.client import Client
from replay.exceptions import ReplayError
from replay.history import ActivityCanceled, MemoryStore
from replay.worker import ActivityInboundInterceptor, Interceptor, SharedStateManager, Worker

from .workers.harness import QUEUE, bounded, running, wait_until
from .workflows.pool_activities import Cancels, Where, beat_until_cancelled, where


@pytest.fixture(scope="module")
def pool() -> Iterator[tuple[concurrent.futures.ProcessPoolExecutor, SharedStateManager]]:
    ctx = multiprocessing.get_context("spawn")
    manager = ctx.Manager()
    executor = concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=ctx)
    try:
        yield executor, SharedStateManager.create_from_multiprocessing(manager)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        manager.shutdown()


async def test_a_sync_activity_runs_in_a_pool_process_with_its_info(
        pool: tuple[concurrent.futures.ProcessPoolExecutor, SharedStateManager]) -> None:
    executor, manager = pool
    client = Client(MemoryStore())
    async with running(client, workflows=[Where], activities=[where],
                       activity_executor=executor, shared_state_manager=manager):
        result = await bounded(client.execute_workflow(Where.run, id="w", task_queue=QUEUE),
                               60)
    label, pid, activity_type, attempt, heartbeat_timeout = result
    assert (label, activity_type, attempt, heartbeat_timeout) == ("pool", "where", "1",
                                                                  "0:00:30")
    assert int(pid) != os.getpid()


async def test_heartbeats_and_cancellation_cross_the_process_boundary(
        pool: tuple[concurrent.futures.ProcessPoolExecutor, SharedStateManager]) -> None:
    executor, manager = pool
    client = Client(MemoryStore())
    async with running(client, workflows=[Cancels], activities=[beat_until_cancelled],
                       activity_executor=executor, shared_state_manager=manager):
        handle = await client.start_workflow(Cancels.run, id="c", task_queue=QUEUE)
        run_id = handle.result_run_id
        assert run_id is not None

        def beating() -> bool:
            found = client.store.pending_activities(run_id)
            return bool(found and found[0].heartbeat_details)

        await wait_until(beating, 60)  # a heartbeat from the pool process was recorded
        [pending] = client.store.pending_activities(run_id)
        assert str(pending.heartbeat_details[0]).startswith("step-")
        await handle.signal(Cancels.cancel_it)
        assert await bounded(handle.result(), 60) == "activity error: CancelledError"
        assert sum(isinstance(e, ActivityCanceled) for e in client.store.read(run_id)) == 1


async def test_a_thread_pool_with_a_shared_state_manager_works_as_before(
        pool: tuple[concurrent.futures.ProcessPoolExecutor, SharedStateManager]) -> None:
    _, manager = pool
    client = Client(MemoryStore())
    with concurrent.futures.ThreadPoolExecutor(2) as threads:
        async with running(client, workflows=[Where], activities=[where],
                           activity_executor=threads, shared_state_manager=manager):
            result = await bounded(client.execute_workflow(Where.run, id="w",
                                                           task_queue=QUEUE))
    assert int(result[1]) == os.getpid()


def test_a_process_pool_without_a_shared_state_manager_is_refused() -> None:
    client = Client(MemoryStore())
    executor = concurrent.futures.ProcessPoolExecutor(max_workers=1)
    try:
        with pytest.raises(ReplayError) as err:
            Worker(client, task_queue=QUEUE, workflows=[Where], activities=[where],
                   activity_executor=executor)
        assert err.value.code == "RPL-A05" and isinstance(err.value, ValueError)
        assert "shared_state_manager=SharedStateManager.create_from_multiprocessing(" in \
            str(err.value)
        assert "'where'" in str(err.value)
    finally:
        executor.shutdown()


def test_an_activity_that_does_not_pickle_is_refused(
        pool: tuple[concurrent.futures.ProcessPoolExecutor, SharedStateManager]) -> None:
    executor, manager = pool

    @activity.defn(name="local")
    def local(x: Any) -> Any:
        return x

    with pytest.raises(ReplayError) as err:
        Worker(Client(MemoryStore()), task_queue=QUEUE, activities=[local],
               activity_executor=executor, shared_state_manager=manager)
    assert err.value.code == "RPL-A06" and "module-level function" in str(err.value)


class _Tracing(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor
                           ) -> ActivityInboundInterceptor:
        return next


def test_activity_interceptors_with_a_process_pool_are_refused(
        pool: tuple[concurrent.futures.ProcessPoolExecutor, SharedStateManager]) -> None:
    executor, manager = pool
    with pytest.raises(ReplayError) as err:
        Worker(Client(MemoryStore()), task_queue=QUEUE, activities=[where],
               activity_executor=executor, shared_state_manager=manager,
               interceptors=[_Tracing()])
    assert err.value.code == "RPL-A07" and "_Tracing" in str(err.value)
    Worker(Client(MemoryStore()), task_queue=QUEUE, activities=[where],
           activity_executor=executor, shared_state_manager=manager,
           interceptors=[Interceptor()])  # one that leaves activities alone is fine


def test_async_activities_need_no_manager() -> None:
    @activity.defn(name="noop")
    async def noop() -> None:
        await asyncio.sleep(0)

    executor = concurrent.futures.ProcessPoolExecutor(max_workers=1)
    try:
        Worker(Client(MemoryStore()), task_queue=QUEUE, activities=[noop],
               activity_executor=executor)
    finally:
        executor.shutdown()
