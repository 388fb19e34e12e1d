"""Invariant 6: bad input gets a clear error and changes nothing.

Malformed history documents, unknown workflow types, payloads of the wrong
type, signals to closed runs and updates rejected by their validator.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixtures.workflows import ALL_WORKFLOWS, ApprovalWorkflow, WaitingWorkflow
from fixtures.workflows.messages import Language
from replay.client import Client
from replay.exceptions import WorkflowDefinitionError
from replay.history import History, MemoryStore, ReplayError
from replay.testing import WorkflowEnvironment
from replay.worker import Replayer

HISTORIES = Path(__file__).parents[2] / "fixtures" / "histories"
VALID = json.loads((HISTORIES / "approval.json").read_text())
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


@st.composite
def corrupted(draw: st.DrawFn) -> Any:
    """The approval fixture document with one field replaced, removed or events shuffled."""
    doc = json.loads(json.dumps(VALID))
    events = doc["events"]
    how = draw(st.sampled_from(["top", "drop", "replace", "swap", "type"]))
    if how == "top":
        doc[draw(st.sampled_from(["format", "version", "events"]))] = draw(JSON)
    else:
        i = draw(st.integers(0, len(events) - 1))
        event = events[i]
        key = draw(st.sampled_from(sorted(event)))
        if how == "drop":
            del event[key]
        elif how == "replace":
            event[key] = draw(JSON.filter(lambda v: v != event[key]))
        elif how == "swap":
            j = draw(st.integers(0, len(events) - 1).filter(lambda j: j != i))
            events[i], events[j] = events[j], events[i]
        else:
            event["kind"] = draw(st.sampled_from(["Nope", "WorkflowStarted", "TimerFired"]))
    return doc


@given(corrupted())
def test_a_malformed_document_fails_loading_or_replay_with_a_coded_error(doc: Any) -> None:
    before = json.dumps(doc, sort_keys=True)
    try:
        history = History.from_data(doc)
        result = Replayer(workflows=ALL_WORKFLOWS).replay_sync(
            history, raise_on_replay_failure=False)
        failure = result.replay_failure
    except ReplayError as exc:
        failure = exc
    if failure is not None:
        assert "[RPL-" in str(failure), str(failure)
    assert json.dumps(doc, sort_keys=True) == before  # the input is not touched


@given(JSON)
def test_arbitrary_json_is_refused_as_a_history(doc: Any) -> None:
    with pytest.raises(ReplayError, match=r"\[RPL-"):
        History.from_data(doc)


def test_unknown_workflow_type_names_the_known_ones() -> None:
    history = History.load(HISTORIES / "approval.json")
    with pytest.raises(WorkflowDefinitionError,
                       match="unknown workflow type 'ApprovalWorkflow'; this worker knows: "
                             "WaitingWorkflow"):
        Replayer(workflows=[WaitingWorkflow]).replay_sync(history)


@given(st.one_of(st.integers(), st.lists(st.integers(), max_size=2), st.booleans(),
                 st.text(max_size=4)))
def test_a_signal_payload_of_the_wrong_type_is_refused_and_nothing_is_written(
        value: Any) -> None:
    async def go() -> None:
        client = Client(MemoryStore())
        handle = await client.start_workflow(ApprovalWorkflow.run, "Ada", id="w",
                                             task_queue="q")
        run_id = handle.result_run_id
        assert run_id is not None
        before = client.store.read(run_id)
        with pytest.raises(ReplayError, match=r"does not fit its annotation.*Nothing was sent"):
            await handle.signal(ApprovalWorkflow.approve, value)
        assert client.store.read(run_id) == before
    asyncio.run(go())


async def test_a_signal_to_a_closed_run_is_refused_and_nothing_is_written() -> None:
    async with await WorkflowEnvironment.start_time_skipping() as env, env.worker(
            task_queue="q", workflows=[WaitingWorkflow]):
        handle = await env.client.start_workflow(WaitingWorkflow.run, id="w", task_queue="q")
        await handle.signal(WaitingWorkflow.finish)
        assert await asyncio.wait_for(handle.result(), 10) == []
        run_id = handle.result_run_id
        assert run_id is not None
        before = env.store.read(run_id)
        with pytest.raises(ReplayError, match=r"closed|completed") as info:
            await handle.signal(WaitingWorkflow.push, "late")
        assert "[RPL-" in str(info.value)
        assert env.store.read(run_id) == before


async def test_a_rejected_update_leaves_no_trace() -> None:
    async with await WorkflowEnvironment.start_time_skipping() as env, env.worker(
            task_queue="q", workflows=[ApprovalWorkflow]):
        handle = await env.client.start_workflow(ApprovalWorkflow.run, "Ada", id="a",
                                                 task_queue="q")
        run_id = handle.result_run_id
        assert run_id is not None
        while len(env.store.read(run_id)) < 2:  # the first activation has run
            await asyncio.sleep(0.001)
        before = env.store.read(run_id)
        with pytest.raises(Exception, match="KLINGON is not supported"):
            await asyncio.wait_for(
                handle.execute_update(ApprovalWorkflow.set_language, Language.KLINGON), 10)
        assert env.store.read(run_id) == before
        assert await handle.query(ApprovalWorkflow.get_language) == Language.ENGLISH
