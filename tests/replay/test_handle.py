"""WorkflowHandle and WorkflowUpdateHandle: every method, against a live worker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fixtures.workload import samples
from fixtures.workload.samples import (
    ChildWorkflow,
    CounterWorkflow,
    LoopingWorkflow,
    ParentWorkflow,
    StreamWorkflow,
    Tally,
)
from replay.client import (
    QueryRejectCondition,
    StopEvent,
    WorkflowContinuedAsNewError,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from replay.exceptions import CancelledError, TerminatedError

from .workers.harness import QUEUE, bounded, kinds, running, sqlite_client, wait_until


@pytest.fixture(autouse=True)
def _reset() -> None:
    samples.reset()


async def test_result_await_and_follow_runs_across_continue_as_new(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(LoopingWorkflow.run, args=[3, 0], id="loop",
                                        task_queue=QUEUE)
        assert await bounded(h.result()) == 3 + 2 + 1
        assert await bounded(h) == 6  # await the handle itself
        with pytest.raises(WorkflowContinuedAsNewError) as info:
            await bounded(h.result(follow_runs=False))
        assert info.value.new_execution_run_id is not None
    runs = [r async for r in client.list_workflows(workflow_type="LoopingWorkflow")]
    assert len(runs) == 4
    assert {r.id for r in runs} == {"loop"}
    latest = client.get_workflow_handle("loop")
    assert (await latest.describe()).status is WorkflowExecutionStatus.COMPLETED
    assert (await latest.describe()).run_id != h.result_run_id


async def test_stream_events_from_zero_and_resumed(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(StreamWorkflow.run, 4, id="stream", task_queue=QUEUE)
        seen: list[tuple[int, object]] = []

        async def consume() -> None:
            async for ev in h.stream_events(event_type=int):
                seen.append((ev.offset, ev.data))
                if len(seen) < 4:
                    await h.signal(StreamWorkflow.more)

        await h.signal(StreamWorkflow.more)
        await bounded(consume())  # ends by itself with the stop event
        stop = h.get_stop_event()
        assert isinstance(stop, StopEvent) and stop.result == 4
        assert seen == [(1, 0), (2, 10), (3, 20), (4, 30), (stop.offset, 4)]
        assert await bounded(h.result()) == 4
        resumed = [(ev.offset, ev.data) async for ev in h.stream_events(after=2)]
        assert resumed == [(3, 20), (4, 30), (stop.offset, 4)]
        assert [ev async for ev in h.stream_events(after=stop.offset)] == [stop]


async def test_stream_follows_continue_as_new(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(LoopingWorkflow.run, args=[2, 0], id="loop-s",
                                        task_queue=QUEUE)
        got = await bounded(_collect(h))
    assert got == ["run with 2 left", "run with 1 left", "run with 0 left", 3]  # 3: the stop


async def _collect(h: object) -> list[object]:
    return [ev.data async for ev in h.stream_events(event_type=str)]  # type: ignore[attr-defined]


async def test_query_and_reject_conditions(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(CounterWorkflow.run, 3, id="q", task_queue=QUEUE)
        await h.signal(CounterWorkflow.add, 4)
        await wait_until(lambda: kinds(client.store.read(h.result_run_id or ""))[-1]
                         == "WorkflowTaskCompleted" and len(client.store.read(
                             h.result_run_id or "")) > 2)
        for cond in QueryRejectCondition:
            assert await h.query(CounterWorkflow.value, reject_condition=cond) == 7
        await h.signal(CounterWorkflow.finish)
        await bounded(h.result())
        assert await h.query(CounterWorkflow.value) == 7  # closed runs answer too
        assert await h.query(CounterWorkflow.value,
                             reject_condition=QueryRejectCondition.NOT_COMPLETED_CLEANLY) == 7
        with pytest.raises(WorkflowQueryRejectedError,
                           match=r"query on workflow 'q' rejected: the run is completed"):
            await h.query(CounterWorkflow.value, reject_condition=QueryRejectCondition.NOT_OPEN)

        # no worker polls "idle": the run is terminated before it ever ran
        t = await client.start_workflow(CounterWorkflow.run, 1, id="q2", task_queue="idle")
        await t.terminate(reason="enough")
        with pytest.raises(WorkflowQueryFailedError,
                           match="has no workflow state yet; no activation has run"):
            await t.query(CounterWorkflow.value)
        with pytest.raises(WorkflowQueryRejectedError, match="the run is terminated"):
            await t.query(CounterWorkflow.value,
                          reject_condition=QueryRejectCondition.NOT_COMPLETED_CLEANLY)


async def test_updates_execute_start_accepted_and_get_handle(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(CounterWorkflow.run, 1, id="u", task_queue=QUEUE)
        assert await bounded(h.execute_update(CounterWorkflow.set_total, 10)) == 1
        uh = await bounded(h.start_update(CounterWorkflow.slow_set, 20, id="slow-1",
                                          wait_for_stage=WorkflowUpdateStage.ACCEPTED))
        req = client.store.get_update(h.result_run_id or "", "slow-1")
        assert req is not None and req.status in ("accepted", "completed")
        assert await bounded(uh.result()) == 10
        again = h.get_update_handle_for(CounterWorkflow.slow_set, "slow-1")
        assert await bounded(again.result()) == 10
        assert await bounded(h.get_update_handle("slow-1")) == 10
        await h.signal(CounterWorkflow.finish)
        assert await bounded(h.result()) == Tally(20, ["set:10"])
    events = kinds(client.store.read(h.result_run_id or ""))
    assert events.count("UpdateAccepted") == events.count("UpdateCompleted") == 2


async def test_update_rejected_by_validator_leaves_no_trace(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(CounterWorkflow.run, 1, id="rej", task_queue=QUEUE)
        await wait_until(lambda: len(client.store.read(h.result_run_id or "")) == 2)
        before = client.store.read(h.result_run_id or "")
        with pytest.raises(WorkflowUpdateFailedError,
                           match=r"update 'set_total' \(.*\) failed: total must not be "
                                 r"negative, got -5"):
            await bounded(h.execute_update(CounterWorkflow.set_total, -5))
        after = client.store.read(h.result_run_id or "")
        assert after == before  # no UpdateAccepted, nothing else either
        assert await h.query(CounterWorkflow.value) == 1


async def test_cancel_gives_cancelled_error_cause(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(CounterWorkflow.run, 1, id="cancel", task_queue=QUEUE)
        await h.cancel()
        with pytest.raises(WorkflowFailureError) as info:
            await bounded(h.result())
    assert isinstance(info.value.cause, CancelledError)
    assert info.value.status == "canceled"
    assert kinds(client.store.read(h.result_run_id or ""))[-1] == "WorkflowCanceled"


async def test_terminate_gives_terminated_error_with_reason(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(CounterWorkflow.run, 1, id="term", task_queue=QUEUE)
        await h.terminate("detail", reason="operator said so")
        with pytest.raises(WorkflowFailureError) as info:
            await bounded(h.result())
    assert isinstance(info.value.cause, TerminatedError)
    assert "operator said so" in str(info.value.cause)
    last = client.store.read(h.result_run_id or "")[-1]
    assert type(last).__name__ == "WorkflowTerminated"
    assert last.reason == "operator said so"  # type: ignore[attr-defined]


async def test_describe_fields(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(CounterWorkflow.run, 1, id="desc", task_queue=QUEUE,
                                        memo={"owner": "ops"})
        d = await h.describe()
        assert (d.id, d.run_id, d.workflow_type, d.task_queue) == (
            "desc", h.result_run_id, "CounterWorkflow", QUEUE)
        assert d.status is WorkflowExecutionStatus.RUNNING
        assert d.close_time is None and d.parent_id is None and d.parent_run_id is None
        assert d.memo == {"owner": "ops"}
        assert d.last_task_failure is None
        await h.signal(CounterWorkflow.finish)
        await bounded(h.result())
        d = await h.describe()
        assert d.status is WorkflowExecutionStatus.COMPLETED
        assert d.close_time is not None and d.close_time >= d.start_time
        assert d.history_length == len(client.store.read(h.result_run_id or ""))


async def test_fetch_history_and_follow_live_events(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(CounterWorkflow.run, 0, id="fh", task_queue=QUEUE)
        followed: list[str] = []

        async def follow() -> None:
            async for e in h.fetch_history_events(wait_new_event=True):
                followed.append(type(e).__name__)

        follower = asyncio.create_task(follow())
        await h.signal(CounterWorkflow.add, 1)
        await h.signal(CounterWorkflow.finish)
        await bounded(h.result())
        await bounded(follower)  # ends when the run closes
        history = await h.fetch_history()
        assert followed == kinds(history.events)
        assert [type(e).__name__ async for e in h.fetch_history_events()] == followed
        assert [e.event_id async for e in h.fetch_history_events(next_page_token=b"3")] == \
            list(range(4, len(followed) + 1))


async def test_page_size_changes_nothing_and_must_be_positive(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    h = await client.start_workflow(CounterWorkflow.run, 0, id="ps", task_queue="idle")
    whole = [e async for e in h.fetch_history_events()]
    assert [e async for e in h.fetch_history_events(page_size=1)] == whole
    for bad in (0, -5, 2.5, True):
        with pytest.raises(TypeError) as info:
            h.fetch_history_events(page_size=bad)  # type: ignore[arg-type]  # on purpose
        assert str(info.value) == (f"fetch_history_events(page_size={bad!r}): page_size "
                                   "must be None or a positive int")


async def test_list_and_count_workflows(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        for i in range(3):
            await client.start_workflow(CounterWorkflow.run, i, id=f"l{i}", task_queue=QUEUE)
        done = client.get_workflow_handle("l0")
        await done.signal(CounterWorkflow.finish)
        await bounded(done.result())
    assert (await client.count_workflows()).count == 3
    assert (await client.count_workflows(status="running")).count == 2
    assert (await client.count_workflows(workflow_type="Nope")).count == 0
    listed = [w async for w in client.list_workflows(status="completed")]
    assert [(w.id, w.status) for w in listed] == [("l0", WorkflowExecutionStatus.COMPLETED)]
    assert {w.id async for w in client.list_workflows()} == {"l0", "l1", "l2"}


async def test_start_signal_when_running_and_when_not(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h1 = await client.start_workflow(CounterWorkflow.run, 5, id="sws", task_queue=QUEUE,
                                         start_signal="add", start_signal_args=[1])
        h2 = await client.start_workflow(CounterWorkflow.run, 99, id="sws", task_queue=QUEUE,
                                         start_signal="add", start_signal_args=[2])
        assert h2.result_run_id == h1.result_run_id  # signalled the open run, no new start
        await h1.signal(CounterWorkflow.finish)
        assert await bounded(h1.result()) == Tally(8, ["add:1", "add:2"])
    events = kinds(client.store.read(h1.result_run_id or ""))
    assert events[:2] == ["WorkflowStarted", "SignalReceived"]  # atomically with the start
    assert (await client.count_workflows()).count == 1


async def test_children_external_signals_and_continue_as_new_end_to_end(
        tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        sibling = await client.start_workflow(CounterWorkflow.run, 0, id="sib",
                                              task_queue=QUEUE)
        parent = await client.start_workflow(ParentWorkflow.run, args=["ann", "sib"],
                                             id="parent", task_queue=QUEUE)
        assert await bounded(parent.result()) == "child says hi to ann"
        await sibling.signal(CounterWorkflow.finish)
        assert await bounded(sibling.result()) == Tally(7, ["add:7"])
        child = client.get_workflow_handle_for(ChildWorkflow.run, "parent-kid")
        assert await bounded(child.result()) == "child says hi to ann"
        d = await child.describe()
        assert (d.parent_id, d.parent_run_id) == ("parent", parent.result_run_id)
        loop = await client.start_workflow(LoopingWorkflow.run, args=[2, 10], id="l",
                                           task_queue=QUEUE)
        assert await bounded(loop.result()) == 13
    pk = kinds(client.store.read(parent.result_run_id or ""))
    for kind in ("ChildWorkflowStarted", "ChildWorkflowCompleted", "ExternalSignalSent",
                 "ExternalSignalDelivered"):
        assert pk.count(kind) == 1, kind
