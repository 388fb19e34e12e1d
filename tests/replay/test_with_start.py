"""Update-with-start: start a run (or use the open one) and send it an update, the start
and the update request in one store commit, with the familiar policies and errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from replay.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowAlreadyStartedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from replay.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from replay.history import PayloadError, UpdateAccepted, WorkflowStarted

from .workers.harness import QUEUE, bounded, running
from .workers.stores import STORE_KINDS, make_store
from .workflows.cart import Cart

USE = WorkflowIDConflictPolicy.USE_EXISTING
FAIL = WorkflowIDConflictPolicy.FAIL


@pytest.fixture(params=STORE_KINDS)
async def client(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Client]:
    c = Client(make_store(str(request.param), tmp_path, request))
    try:
        yield c
    finally:
        c.close()


def _op(policy: WorkflowIDConflictPolicy = USE, **kw: object) -> WithStartWorkflowOperation:
    return WithStartWorkflowOperation(Cart.run, "ada", id="cart", task_queue=QUEUE,
                                      id_conflict_policy=policy, **kw)  # type: ignore[arg-type]


async def test_it_starts_the_run_with_the_update_then_uses_the_open_one(
        client: Client) -> None:
    async with running(client, workflows=[Cart], activities=[]):
        op = _op()
        assert await bounded(client.execute_update_with_start_workflow(
            Cart.add_item, "apple", start_workflow_operation=op)) == ["apple"]
        handle = await op.workflow_handle()
        run_id = handle.result_run_id
        assert run_id is not None
        events = client.store.read(run_id)
        assert isinstance(events[0], WorkflowStarted)
        assert [e.name for e in events if isinstance(e, UpdateAccepted)] == ["add_item"]
        again = _op()
        assert await bounded(client.execute_update_with_start_workflow(
            Cart.add_item, "pear", start_workflow_operation=again)) == ["apple", "pear"]
        assert (await again.workflow_handle()).result_run_id == run_id
        await handle.signal(Cart.checkout)
        assert await bounded(handle.result()) == ["ada", "apple", "pear"]
        # the run has closed: a new one is started, with its own first update
        third = _op()
        assert await bounded(client.execute_update_with_start_workflow(
            Cart.add_item, "fig", start_workflow_operation=third)) == ["fig"]
        assert (await third.workflow_handle()).result_run_id != run_id


async def test_fail_refuses_an_open_run_and_writes_nothing(client: Client) -> None:
    async with running(client, workflows=[Cart], activities=[]):
        handle = await client.start_workflow(Cart.run, "ada", id="cart", task_queue=QUEUE)
        run_id = handle.result_run_id
        assert run_id is not None
        await bounded(handle.execute_update(Cart.add_item, "apple"))
        before = client.store.last_event_id(run_id)
        op = _op(FAIL)
        with pytest.raises(WorkflowAlreadyStartedError) as err:
            await client.execute_update_with_start_workflow(Cart.add_item, "pear",
                                                            start_workflow_operation=op)
        assert err.value.code == "RPL-C02" and "is still open" in str(err.value)
        with pytest.raises(WorkflowAlreadyStartedError):
            await op.workflow_handle()
        assert client.store.last_event_id(run_id) == before
        assert client.store.pending_updates(run_id) == []
        assert [r.run_id for r in client.store.list_runs(workflow_id="cart")] == [run_id]


async def test_start_update_with_start_waits_for_the_stage_asked(client: Client) -> None:
    async with running(client, workflows=[Cart], activities=[]):
        op = _op(FAIL)
        update = await bounded(client.start_update_with_start_workflow(
            Cart.add_item, "apple", start_workflow_operation=op,
            wait_for_stage=WorkflowUpdateStage.ACCEPTED, id="u-1"))
        assert update.id == "u-1"
        assert await bounded(update.result()) == ["apple"]
        handle = await op.workflow_handle()
        assert handle.id == "cart"


async def test_terminate_existing_replaces_the_open_run_in_the_same_commit(
        client: Client) -> None:
    async with running(client, workflows=[Cart], activities=[]):
        old = await client.start_workflow(Cart.run, "ada", id="cart", task_queue=QUEUE)
        op = _op(WorkflowIDConflictPolicy.TERMINATE_EXISTING)
        assert await bounded(client.execute_update_with_start_workflow(
            Cart.add_item, "apple", start_workflow_operation=op)) == ["apple"]
        old_run = client.get_workflow_handle("cart", run_id=old.result_run_id)
        assert (await old_run.describe()).status.value == "terminated"
        assert (await op.workflow_handle()).result_run_id != old.result_run_id


async def test_a_rejected_update_still_starts_the_run(client: Client) -> None:
    async with running(client, workflows=[Cart], activities=[]):
        op = _op()
        with pytest.raises(WorkflowUpdateFailedError, match="an item needs a name"):
            await bounded(client.execute_update_with_start_workflow(
                Cart.add_item, "", start_workflow_operation=op))
        handle = await op.workflow_handle()
        assert (await handle.describe()).status.value == "running"


async def test_bad_operations_are_refused_before_anything_is_written(client: Client) -> None:
    with pytest.raises(ValueError, match="needs an id_conflict_policy"):
        WithStartWorkflowOperation(Cart.run, "ada", id="cart", task_queue=QUEUE)
    op = _op(FAIL, id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
    with pytest.raises(ValueError, match="ADMITTED is not supported"):
        await client.start_update_with_start_workflow(
            Cart.add_item, "x", start_workflow_operation=op,
            wait_for_stage=WorkflowUpdateStage.ADMITTED)
    with pytest.raises(PayloadError, match="takes 1 argument"):
        await client.execute_update_with_start_workflow(
            Cart.add_item, args=["x", "y"], start_workflow_operation=op)
    assert client.store.list_runs() == []
    # the operation was not used by the refused calls; once used, it cannot be reused
    await client.start_workflow(Cart.run, "ada", id="cart", task_queue=QUEUE)
    with pytest.raises(WorkflowAlreadyStartedError):
        await client.execute_update_with_start_workflow(
            Cart.add_item, "x", start_workflow_operation=op)
    with pytest.raises(RuntimeError, match="one update-with-start call only"):
        await client.execute_update_with_start_workflow(
            Cart.add_item, "x", start_workflow_operation=op)
