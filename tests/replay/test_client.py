"""Client: bad input gets a clear error and writes nothing; workflow id policies."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
from pathlib import Path
from typing import Any

import pytest

from fixtures.workload import samples
from fixtures.workload.samples import CounterWorkflow, Tally
from replay._core._definition import WorkflowDefinition
from replay.client import (
    Client,
    UnsupportedTargetError,
    WorkflowAlreadyStartedError,
    WorkflowClosedError,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from replay.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from replay.history import PayloadError

from .workers.harness import QUEUE, bounded, running, sqlite_client, wait_until


@pytest.fixture(autouse=True)
def _reset() -> None:
    samples.reset()


def snapshot(client: Client) -> tuple[int, list[Any]]:
    """What a rejected request must leave unchanged: the runs and all their events."""
    runs = client.store.list_runs()
    return len(runs), [(r.run_id, client.store.read(r.run_id)) for r in
                       sorted(runs, key=lambda r: r.run_id)]


async def test_connect_to_a_server_address_is_refused(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnsupportedTargetError) as info:
        await Client.connect("localhost:7233")
    assert str(info.value) == (
        "[RPL-C08] cannot connect to 'localhost:7233': replay opens a store, not a server. "
        "Use Client.connect() for ./replay.db (or $REPLAY_DB), "
        "Client.connect('sqlite:///path/to.db'), Client.connect('memory://') or "
        "Client.connect('postgresql://user@host/db').")
    assert os.listdir(tmp_path) == []


async def test_namespace_other_than_default_is_refused_with_the_reason(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TypeError) as info:
        await Client.connect("memory://", namespace="prod")
    assert str(info.value) == (
        "Client.connect(namespace='prod') is not supported: replay is embedded and each "
        "store is a single namespace, so only namespace='default' is accepted. To keep runs "
        "apart, open another store, e.g. Client.connect('sqlite:///other.db').")
    assert os.listdir(tmp_path) == []
    client = await Client.connect("memory://", namespace="default")
    assert (await client.count_workflows()).count == 0
    client.close()


async def test_unknown_workflow_type_fails_the_task_and_keeps_the_run_open(
        tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    # started before any worker registered the queue's types (else it is refused: RPL-C12)
    h = await client.start_workflow("NoSuchWorkflow", id="ghost", task_queue=QUEUE)
    async with running(client):
        await wait_until(
            lambda: client.local_workers.task_failure(h.result_run_id or "") is not None)
        d = await h.describe()
    assert d.status is WorkflowExecutionStatus.RUNNING
    assert d.last_task_failure is not None and "NoSuchWorkflow" in d.last_task_failure
    assert d.task_failure is not None and d.task_failure.code == "RPL-D01"
    assert d.history_length == 2  # the failure is recorded, and nothing else


async def test_wrong_argument_types_are_rejected_before_anything_is_written(
        tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    h = await client.start_workflow(CounterWorkflow.run, 1, id="typed", task_queue="idle")
    before = snapshot(client)
    with pytest.raises(PayloadError, match=r"argument 0 of workflow 'CounterWorkflow' does "
                                           r"not fit its annotation: .*Nothing was sent"):
        await client.start_workflow(CounterWorkflow.run, "one", id="typed2",  # type: ignore[arg-type]
                                    task_queue=QUEUE)
    with pytest.raises(PayloadError, match=r"argument 0 of signal 'add' does not fit its "
                                           r"annotation: .*Nothing was sent"):
        await h.signal(CounterWorkflow.add, "two")  # type: ignore[arg-type]
    with pytest.raises(PayloadError, match=r"argument 0 of update 'set_total' does not fit "
                                           r"its annotation: .*Nothing was sent"):
        await h.execute_update(CounterWorkflow.set_total, [3])  # type: ignore[arg-type]
    with pytest.raises(PayloadError, match=r"signal 'add' takes 1 argument\(s\), got 2"):
        await h.signal(CounterWorkflow.add, args=[1, 2])
    assert snapshot(client) == before
    assert client.store.pending_updates(h.result_run_id or "") == []


class FakeLocalWorker:
    """A LocalWorker that is not a Worker: the client asks it only its two questions."""

    def workflow_definition(self, workflow_type: str) -> WorkflowDefinition | None:
        return WorkflowDefinition.of(CounterWorkflow) if workflow_type == "Renamed" else None

    def task_failure(self, run_id: str) -> str | None:
        return f"task of {run_id} failed"

    def commit_in_flight(self, run_id: str) -> concurrent.futures.Future[Any] | None:
        return self.writing.get(run_id)

    def __init__(self) -> None:
        self.writing: dict[str, concurrent.futures.Future[Any]] = {}


async def test_a_message_to_a_run_waits_for_a_local_commit_of_it_in_flight() -> None:
    client = await Client.connect("memory://")
    try:
        fake = FakeLocalWorker()
        client.local_workers.register(fake)
        writing: concurrent.futures.Future[Any] = concurrent.futures.Future()
        fake.writing["r1"] = writing
        inside: list[bool] = []

        async def send(run_id: str) -> None:
            async with client.local_workers.sending(run_id):
                inside.append(client.local_workers.is_sending(run_id))

        other = asyncio.ensure_future(send("r2"))  # another run does not wait
        await other
        waiting = asyncio.ensure_future(send("r1"))
        for _ in range(10):
            await asyncio.sleep(0)
        assert not waiting.done() and inside == [True]
        assert not client.local_workers.is_sending("r1")  # not before the commit is written
        writing.set_exception(RuntimeError("refused"))  # whatever its outcome
        await waiting
        assert inside == [True, True]
        assert not client.local_workers.is_sending("r1")
        assert not client.local_workers.is_sending("r2")
    finally:
        client.close()


async def test_the_client_asks_registered_local_workers() -> None:
    client = await Client.connect("memory://")
    fake = FakeLocalWorker()
    # no code known for the type yet: nothing to check against, so it passes
    client.checks.check_args("Renamed", "workflow", "Renamed", ["x"])
    client.local_workers.register(fake)
    assert fake in client.local_workers and list(client.local_workers) == [fake]
    with pytest.raises(PayloadError, match=r"argument 0 of workflow 'Renamed' does not fit"):
        await client.start_workflow("Renamed", "x", id="r", task_queue="idle")
    h = await client.start_workflow("Renamed", 1, id="r", task_queue="idle")
    assert (await h.describe()).last_task_failure == f"task of {h.result_run_id} failed"
    client.local_workers.unregister(fake)
    assert (await h.describe()).last_task_failure is None
    client.close()


async def test_unknown_handler_names(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(CounterWorkflow.run, 1, id="names", task_queue=QUEUE)
        await wait_until(lambda: len(client.store.read(h.result_run_id or "")) == 2)
        before = snapshot(client)
        with pytest.raises(PayloadError) as sig:
            await h.signal("nope", 1)
        assert str(sig.value) == (
            "[RPL-P01] workflow 'CounterWorkflow' has no signal named 'nope' (its signals: "
            "add, finish). Nothing was sent.")
        # an unknown update is the worker's to reject (test_handle_surfaces), as the familiar
        # engine does
        with pytest.raises(WorkflowQueryFailedError,
                           match=r"has no query 'nope' \(known queries: value\)"):
            await h.query("nope")
        assert snapshot(client) == before


async def test_messages_to_a_closed_run(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(CounterWorkflow.run, 1, id="closed", task_queue=QUEUE)
        await h.signal(CounterWorkflow.finish)
        assert await bounded(h.result()) == Tally(1, [])
        before = snapshot(client)
        run = h.result_run_id
        sends: list[tuple[str, Any]] = [
            ("signal 'add'", h.signal(CounterWorkflow.add, 1)),
            ("update 'set_total'", h.execute_update(CounterWorkflow.set_total, 2)),
            ("a cancellation request", h.cancel()),
            ("terminate", h.terminate(reason="late")),
        ]
        for what, coro in sends:
            with pytest.raises(WorkflowClosedError) as info:
                await coro
            assert str(info.value) == (
                f"[RPL-C04] cannot send {what} to workflow 'closed' run {run!r}: it is "
                "completed. Nothing was written.")
        assert snapshot(client) == before
        assert client.store.pending_updates(run or "") == []


async def _start(client: Client, wid: str, **kw: Any) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(CounterWorkflow.run, 1, id=wid, task_queue="idle", **kw)


async def test_id_conflict_policies_while_running(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    first = await _start(client, "dup")
    before = snapshot(client)
    for policy in (WorkflowIDConflictPolicy.UNSPECIFIED, WorkflowIDConflictPolicy.FAIL):
        with pytest.raises(WorkflowAlreadyStartedError) as info:
            await _start(client, "dup", id_conflict_policy=policy)
        assert str(info.value) == (
            f"[RPL-C02] cannot start workflow 'dup' (CounterWorkflow): run "
            f"{first.result_run_id!r} is still open. Nothing was written.")
        assert snapshot(client) == before
    # every reuse policy still refuses a second open run (except TERMINATE_IF_RUNNING)
    for reuse in (WorkflowIDReusePolicy.ALLOW_DUPLICATE, WorkflowIDReusePolicy.REJECT_DUPLICATE,
                  WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY):
        with pytest.raises(WorkflowAlreadyStartedError, match="is still open"):
            await _start(client, "dup", id_reuse_policy=reuse)
        assert snapshot(client) == before
    same = await _start(client, "dup", id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    assert same.result_run_id == first.result_run_id
    assert snapshot(client) == before
    fresh = await _start(client, "dup",
                         id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING)
    assert fresh.result_run_id != first.result_run_id
    assert (await client.get_workflow_handle("dup", run_id=first.result_run_id).describe()
            ).status is WorkflowExecutionStatus.TERMINATED
    again = await _start(client, "dup", id_reuse_policy=WorkflowIDReusePolicy.TERMINATE_IF_RUNNING)
    assert (await client.count_workflows(status="terminated")).count == 2
    assert (await client.count_workflows(status="running")).count == 1
    assert (await again.describe()).run_id == again.result_run_id


@pytest.mark.parametrize("ending", ["completed", "terminated"])
async def test_id_reuse_policies_after_the_run_closed(tmp_path: Path, ending: str) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client):
        h = await client.start_workflow(CounterWorkflow.run, 1, id="reuse", task_queue=QUEUE)
        if ending == "completed":
            await h.signal(CounterWorkflow.finish)
            await bounded(h.result())
        else:
            await h.terminate(reason="x")
    before = snapshot(client)
    with pytest.raises(WorkflowAlreadyStartedError) as info:
        await _start(client, "reuse", id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    assert str(info.value).endswith(
        "the id was used before and id_reuse_policy is REJECT_DUPLICATE. Nothing was written.")
    assert snapshot(client) == before
    failed_only = WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
    if ending == "completed":
        with pytest.raises(WorkflowAlreadyStartedError,
                           match="the last run completed and id_reuse_policy is "
                                 "ALLOW_DUPLICATE_FAILED_ONLY"):
            await _start(client, "reuse", id_reuse_policy=failed_only)
        assert snapshot(client) == before
    else:
        await _start(client, "reuse", id_reuse_policy=failed_only)
        await client.get_workflow_handle("reuse").terminate()
    await _start(client, "reuse", id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
    assert (await client.count_workflows()).count == (2 if ending == "completed" else 3)
