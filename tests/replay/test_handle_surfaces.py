"""The handle surfaces that follow the familiar SDK's handle: continue-as-new results,
update stages and unknown updates, describe()'s execution time, root, typed memo and
raw description, and update handles of a given run."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from fixtures.workload import samples
from fixtures.workload.samples import CounterWorkflow, LoopingWorkflow, Tally
from replay.client import (
    WorkflowContinuedAsNewError,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from replay.exceptions import ApplicationError

from .workers.harness import QUEUE, bounded, running, sqlite_client
from .workflows import lineage


@pytest.fixture(autouse=True)
def _reset() -> None:
    samples.reset()


async def test_result_without_following_runs_names_the_new_run(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(LoopingWorkflow.run, args=[2, 0], id="loop",
                                        task_queue=QUEUE)
        assert await bounded(h.result()) == 3
        with pytest.raises(WorkflowContinuedAsNewError) as err:
            await bounded(h.result(follow_runs=False, rpc_timeout=timedelta(seconds=5)))
    first = client.store.get_run(h.result_run_id or "")
    assert first is not None and err.value.new_execution_run_id == first.next_run_id
    assert (err.value.workflow_id, err.value.run_id) == ("loop", h.result_run_id)
    assert str(err.value).startswith(
        f"[RPL-H02] workflow 'loop' run {h.result_run_id!r} continued as new as run "
        f"{first.next_run_id!r}")
    second = client.get_workflow_handle("loop", run_id=err.value.new_execution_run_id)
    with pytest.raises(WorkflowContinuedAsNewError):
        await bounded(second.result(follow_runs=False))
    assert await bounded(second.result()) == 3
    client.close()


async def test_admitted_is_refused_and_nothing_is_sent(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(CounterWorkflow.run, 1, id="adm", task_queue=QUEUE)
        with pytest.raises(ValueError, match=r"ADMITTED\) is not supported.*Nothing was sent"):
            await h.start_update(CounterWorkflow.set_total, 5, id="u1",
                                 wait_for_stage=WorkflowUpdateStage.ADMITTED)
        with pytest.raises(TypeError, match="wait_for_stage must be a WorkflowUpdateStage"):
            await h.start_update(CounterWorkflow.set_total, 5, id="u1",  # type: ignore[call-overload]
                                 wait_for_stage="accepted")
        assert client.store.get_update(h.result_run_id or "", "u1") is None
        accepted = await h.start_update(CounterWorkflow.set_total, 5, id="u2",
                                        wait_for_stage=WorkflowUpdateStage.ACCEPTED)
        assert await bounded(accepted.result()) == 1
        await h.signal(CounterWorkflow.finish)
        assert await bounded(h.result()) == Tally(5, ["set:5"])
    client.close()


async def test_an_unknown_update_is_rejected_by_the_worker(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(CounterWorkflow.run, 1, id="unk", task_queue=QUEUE)
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await bounded(h.execute_update("nope", 1, id="u-nope"))
        cause = err.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == "UnknownUpdate"
        assert "unknown update 'nope' for workflow 'CounterWorkflow' (known updates: " \
               "set_total, slow_set)" in str(cause)
        run_id = h.result_run_id or ""
        request = client.store.get_update(run_id, "u-nope")
        assert request is not None and request.status == "rejected"
        # a rejected update leaves no trace in the history
        assert not [e for e in client.store.read(run_id) if "Update" in type(e).__name__]
        await h.signal(CounterWorkflow.finish)
        await bounded(h.result())
    client.close()


async def test_describe_execution_time_root_memo_and_raw_description(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client, workflows=[lineage.Root, lineage.Middle, lineage.Leaf,
                                          CounterWorkflow]):
        root = await client.start_workflow(lineage.Root.run, id="root", task_queue=QUEUE,
                                           memo={"owner": "ops", "limits": [1, 2]})
        assert await bounded(root.result()) == "leaf"
        leaf = await client.get_workflow_handle("leaf").describe()
        middle = await client.get_workflow_handle("middle").describe()
        top = await root.describe()
    assert (leaf.parent_id, leaf.root_id, leaf.root_run_id) == (
        "middle", "root", root.result_run_id)
    assert (middle.root_id, middle.root_run_id) == ("root", root.result_run_id)
    assert (top.root_id, top.root_run_id) == ("root", root.result_run_id)  # its own root
    assert top.execution_time == top.start_time
    assert top.memo == {"owner": "ops", "limits": [1, 2]}
    assert await top.memo() == {"owner": "ops", "limits": [1, 2]}
    assert await top.memo_value("limits", type_hint=tuple[int, int]) == (1, 2)
    assert await top.memo_value("missing", "none") == "none"
    with pytest.raises(KeyError, match=r"no key 'missing' \(its keys: limits, owner\)"):
        await top.memo_value("missing")
    raw = top.raw_description
    assert raw["run"]["run_id"] == root.result_run_id and raw["run"]["status"] == "completed"
    assert raw["run"]["memo"] == {"owner": "ops", "limits": [1, 2]}
    assert raw["root"] == {"workflow_id": "root", "run_id": root.result_run_id}
    assert raw["pending_activities"] == [] and raw["task_failure"] is None
    listed = [r async for r in client.list_workflows(workflow_type="Root")]
    assert listed[0].root_id == "root" and listed[0].execution_time == listed[0].start_time
    client.close()


async def test_update_handles_of_a_given_run(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(CounterWorkflow.run, 1, id="uh", task_queue=QUEUE)
        run_id = h.result_run_id or ""
        assert await bounded(h.execute_update(CounterWorkflow.set_total, 4, id="u1")) == 1
        await h.signal(CounterWorkflow.finish)
        await bounded(h.result())
        # a new run of the same workflow id: its update handles are another run's
        h2 = await client.start_workflow(CounterWorkflow.run, 1, id="uh", task_queue=QUEUE)
        by_id = client.get_workflow_handle("uh")
        old = by_id.get_update_handle("u1", workflow_run_id=run_id)
        assert (old.workflow_run_id, await bounded(old.result())) == (run_id, 1)
        typed = by_id.get_update_handle_for(CounterWorkflow.set_total, "u1",
                                            workflow_run_id=run_id)
        assert await bounded(typed.result()) == 1
        newest = by_id.get_update_handle("u1")
        assert newest.workflow_run_id == h2.result_run_id
        with pytest.raises(WorkflowUpdateFailedError, match="no such update"):
            await bounded(newest.result())
        await h2.signal(CounterWorkflow.finish)
        await bounded(h2.result())
    client.close()
