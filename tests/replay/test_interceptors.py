"""Interceptors: client, workflow (inbound and outbound) and activity chains, with headers."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import attrs

from replay.client import Client, WorkflowUpdateStage
from replay.history import (
    ActivityScheduled,
    SignalReceived,
    UpdateAccepted,
    WorkflowStarted,
    WorkflowTaskCompleted,
    event_to_data,
)
from replay.worker import Replayer, Worker
from tests.replay.workers.harness import bounded, wait_until
from tests.replay.workflows import intercepted
from tests.replay.workflows.intercepted import (
    TraceClient,
    TracedWorkflow,
    TraceWorker,
    traced_activity,
)


async def _run(tmp_path: Path) -> tuple[Client, str, dict[str, object]]:
    intercepted.SEEN.clear()
    intercepted.CLIENT_CALLS.clear()
    client = await Client.connect(f"sqlite:///{tmp_path / 'replay.db'}",
                                  interceptors=[TraceClient("abc")])
    async with Worker(client, task_queue="ic", workflows=[TracedWorkflow],
                      activities=[traced_activity], interceptors=[TraceWorker()]):
        handle = await client.start_workflow(TracedWorkflow.run, id="traced", task_queue="ic")
        # The first activation is written before the signal is sent: a signal landing while
        # that activation's commit is in flight makes it conflict, and the run would be
        # built again (live), which this test does not count.
        await wait_until(lambda: any(isinstance(e, WorkflowTaskCompleted)
                                     for e in client.store.read(handle.result_run_id or "")))
        await handle.signal(TracedWorkflow.note, "one")
        update = await handle.start_update(TracedWorkflow.add_note, "two",
                                           wait_for_stage=WorkflowUpdateStage.COMPLETED)
        assert await bounded(update.result()) == 2
        result = await bounded(handle.result())
        await handle.describe()
    return client, handle.result_run_id or "", result


async def test_a_client_header_reaches_the_workflow_and_through_it_the_activity(
        tmp_path: Path) -> None:
    client, run_id, result = await _run(tmp_path)
    assert result == {"activity": {"trace": "abc", "heartbeat_timeout": 5.0,
                                   "is_local": False},
                      "notes": ["one", "two"]}
    events = client.store.read(run_id)
    started = events[0]
    assert isinstance(started, WorkflowStarted) and started.headers == {"trace": "abc"}
    [signal] = [e for e in events if isinstance(e, SignalReceived)]
    assert signal.headers == {"trace": "abc-signal"}
    [scheduled] = [e for e in events if isinstance(e, ActivityScheduled)]
    assert scheduled.headers == {"trace": "abc"}
    assert ("execute_activity", "abc", False) in intercepted.SEEN
    assert ("handle_signal", "abc-signal", False) in intercepted.SEEN
    [accepted] = [e for e in events if isinstance(e, UpdateAccepted)]
    assert accepted.headers == {"trace": "abc-update"}
    assert ("handle_update_validator", "abc-update", False) in intercepted.SEEN
    assert ("handle_update_handler", "abc-update", False) in intercepted.SEEN
    client.close()


async def test_each_interceptor_sees_each_live_call_once(tmp_path: Path) -> None:
    client, _, _ = await _run(tmp_path)
    live = Counter(kind for kind, _, replaying in intercepted.SEEN if not replaying)
    assert live == {"init": 1, "execute_workflow": 1, "handle_signal": 1,
                    "handle_update_validator": 1, "handle_update_handler": 1,
                    "start_activity": 1, "execute_activity": 1}
    assert Counter(intercepted.CLIENT_CALLS) == {"start_workflow": 1, "signal_workflow": 1,
                                                 "start_workflow_update": 1,
                                                 "describe_workflow": 1}
    client.close()


async def test_a_replay_calls_the_inbound_interceptors_again_while_replaying(
        tmp_path: Path) -> None:
    client, run_id, _ = await _run(tmp_path)
    history = client.store.history(run_id)
    intercepted.SEEN.clear()
    replayed = await Replayer(workflows=[TracedWorkflow],
                              interceptors=[TraceWorker()]).replay_workflow(history)
    assert replayed.replay_failure is None
    kinds = {kind for kind, _, replaying in intercepted.SEEN if replaying}
    assert {"execute_workflow", "handle_signal", "handle_update_handler",
            "start_activity"} <= kinds
    assert ("execute_workflow", "abc", True) in intercepted.SEEN
    assert ("handle_update_handler", "abc-update", True) in intercepted.SEEN  # recorded
    assert not [s for s in intercepted.SEEN if not s[2]]  # nothing thought it was live
    assert replayed.query("notes_so_far") == ["one", "two"]
    assert intercepted.SEEN[-1] == ("handle_query", None, True)
    client.close()


async def test_a_query_header_reaches_the_inbound_interceptor_by_either_path(
        tmp_path: Path) -> None:
    intercepted.SEEN.clear()
    client = await Client.connect(f"sqlite:///{tmp_path / 'replay.db'}",
                                  interceptors=[TraceClient("abc")])
    async with Worker(client, task_queue="ic", workflows=[TracedWorkflow],
                      activities=[traced_activity], interceptors=[TraceWorker()]) as worker:
        handle = await client.start_workflow(TracedWorkflow.run, id="traced", task_queue="ic")
        # The first activation is written before the signal is sent: a signal landing while
        # that activation's commit is in flight makes it conflict, and the run would be
        # built again (live), which this test does not count.
        await wait_until(lambda: any(isinstance(e, WorkflowTaskCompleted)
                                     for e in client.store.read(handle.result_run_id or "")))
        await handle.signal(TracedWorkflow.note, "one")
        await handle.signal(TracedWorkflow.note, "two")
        await bounded(handle.result())
        assert await handle.query(TracedWorkflow.notes_so_far) == ["one", "two"]
        assert handle.last_query_source == f"worker {worker.identity}"
    # the run is closed, so the worker replays it to answer (with its interceptors)
    assert [s[:2] for s in intercepted.SEEN if s[0] == "handle_query"] == [
        ("handle_query", "abc-query")]
    # no worker now: the client's own replay runs the query, through its chain (none
    # here: a client replays without worker interceptors), so the worker's record stays
    assert await handle.query(TracedWorkflow.notes_so_far) == ["one", "two"]
    assert handle.last_query_source == "local replay"
    client.close()


def test_headers_are_written_only_when_set() -> None:
    started = WorkflowStarted(event_id=1, time=datetime(2030, 1, 1, tzinfo=UTC),
                              workflow_type="W", workflow_id="w", task_queue="q")
    assert "headers" not in event_to_data(started)  # old histories re-encode byte for byte
    with_headers = attrs.evolve(started, headers={"trace": "abc"})
    assert event_to_data(with_headers)["headers"] == {"trace": "abc"}
