"""Parent close policies: what happens to an open child when its parent closes, for every
way a parent closes, with a real worker, on every store."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from replay.client import Client, WorkflowHandle
from replay.exceptions import WorkflowTaskError
from replay.history import (
    CancelRequested,
    ChildWorkflowStarted,
    Store,
    WorkflowTerminated,
    event_from_data,
    event_to_data,
)
from replay.testing import WorkflowDriver
from replay.worker import Replayer
from replay.workflow import ParentClosePolicy

from .workers.harness import QUEUE, bounded, running, wait_until
from .workers.stores import make_store
from .workflows.parent_close import BadPolicy, Parent, Plan, Waiter

CLOSES = ("complete", "fail", "cancel", "terminate", "continue_as_new", "timeout")
POLICIES = (ParentClosePolicy.TERMINATE, ParentClosePolicy.ABANDON,
            ParentClosePolicy.REQUEST_CANCEL)
PARENT_STATUS = {"complete": "completed", "fail": "failed", "cancel": "canceled",
                 "terminate": "terminated", "continue_as_new": "continued_as_new",
                 "timeout": "timed_out"}
CHILD_STATUS = {ParentClosePolicy.TERMINATE: "terminated",
                ParentClosePolicy.ABANDON: "running",
                ParentClosePolicy.REQUEST_CANCEL: "canceled"}


def _cases() -> list[tuple[str, str, ParentClosePolicy]]:
    """Every close kind x policy on the memory store; on SQLite and PostgreSQL each close
    kind once, the policies taking turns."""
    cases = [("memory", c, p) for c, p in itertools.product(CLOSES, POLICIES)]
    for kind in ("sqlite", "postgres"):
        cases += [(kind, c, POLICIES[i % 3]) for i, c in enumerate(CLOSES)]
    return cases


async def _close(handle: WorkflowHandle[Any, Any], store: Store, close: str) -> None:
    """Make the parent close as ``close`` says (the others close by themselves)."""
    if close == "cancel":
        await handle.cancel()
    elif close == "terminate":
        await handle.terminate(reason="test")


@pytest.mark.parametrize(("store_kind", "close", "policy"), _cases())
async def test_each_close_applies_the_policy_atomically(
        store_kind: str, close: str, policy: ParentClosePolicy, tmp_path: Path,
        request: pytest.FixtureRequest) -> None:
    store = make_store(store_kind, tmp_path, request)
    client = Client(store)
    child_id = "child"
    try:
        async with running(client, workflows=[Parent, Waiter], activities=[]):
            timeout = timedelta(milliseconds=200) if close == "timeout" else None
            handle = await client.start_workflow(
                Parent.run, Plan(close if close not in ("cancel", "terminate", "timeout")
                                 else "wait", policy, child_id),
                id="parent", task_queue=QUEUE, execution_timeout=timeout)
            parent_run = handle.result_run_id
            assert parent_run is not None
            await wait_until(lambda: store.latest_run(child_id) is not None)
            await _close(handle, store, close)
            await wait_until(lambda: store.get_run(parent_run).status != "running")  # type: ignore[union-attr]
            assert store.get_run(parent_run).status == PARENT_STATUS[close]  # type: ignore[union-attr]
            child = store.latest_run(child_id)
            assert child is not None
            child_kinds = {type(e) for e in store.read(child.run_id)}
            # in the parent's closing commit: a terminated child is already closed, a
            # cancel request is already delivered, an abandoned child got nothing
            if policy is ParentClosePolicy.TERMINATE:
                assert child.status == "terminated"
            else:
                assert WorkflowTerminated not in child_kinds
                assert (CancelRequested in child_kinds) is (
                    policy is ParentClosePolicy.REQUEST_CANCEL)
            await wait_until(lambda: store.latest_run(child_id).status  # type: ignore[union-attr]
                             == CHILD_STATUS[policy])
            parent_history = store.history(parent_run)
            started = [e for e in parent_history.events if isinstance(e, ChildWorkflowStarted)]
            assert [e.parent_close_policy for e in started] == [policy.recorded]
            result = Replayer(workflows=[Parent, Waiter]).replay_sync(parent_history)
            assert result.replay_failure is None
    finally:
        client.close()


@pytest.mark.parametrize("store_kind", ["memory", "sqlite", "postgres"])
async def test_terminating_a_child_applies_its_own_policies_to_grandchildren(
        store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    store = make_store(store_kind, tmp_path, request)
    client = Client(store)
    try:
        async with running(client, workflows=[Parent, Waiter], activities=[]):
            handle = await client.start_workflow(
                Parent.run, Plan("wait", ParentClosePolicy.TERMINATE, "child", "grandchild"),
                id="parent", task_queue=QUEUE)
            await wait_until(lambda: store.latest_run("grandchild") is not None)
            await bounded(handle.terminate(reason="test"))
            assert store.latest_run("child").status == "terminated"  # type: ignore[union-attr]
            assert store.latest_run("grandchild").status == "terminated"  # type: ignore[union-attr]
    finally:
        client.close()


def test_a_policy_that_is_not_a_parent_close_policy_fails_the_task_and_records_nothing(
        ) -> None:
    driver = WorkflowDriver(BadPolicy)
    before = list(driver.events)
    with pytest.raises(WorkflowTaskError) as err:
        driver.step()
    assert ("TypeError: parent_close_policy must be a workflow.ParentClosePolicy, "
            "got 'ABANDON'") in str(err.value)
    assert driver.events == before


def test_the_default_policy_is_left_out_of_files_and_absent_means_terminate() -> None:
    event = ChildWorkflowStarted(event_id=5, time=datetime(2026, 1, 1, tzinfo=UTC), seq=1,
                                 workflow_type="W", workflow_id="c", run_id="r",
                                 task_queue="q")
    data = event_to_data(event)
    assert "parent_close_policy" not in data  # older histories re-encode byte for byte
    assert event_from_data(data) == event
    abandon = attrs.evolve(event, parent_close_policy="abandon")
    assert event_from_data(event_to_data(abandon)) == abandon
