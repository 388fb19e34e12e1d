"""The handle as the event-driven handler (the LlamaIndex-style reference) has it: ``ctx``,
stop events, a stream that ends with one, ``cancel_run`` that waits, the run's own
exception on request, and ``run_id`` on a started handle."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay.client import (
    Client,
    InternalEvent,
    RunContext,
    RunContextError,
    StopEvent,
    StreamedEvent,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from replay.exceptions import ApplicationError, CancelledError

from .workers.harness import QUEUE, bounded, running, sqlite_client
from .workflows.event_driven import Feedback, Reviewer


async def _start(client: Client, rounds: int, id: str = "review"
                 ) -> WorkflowHandle[Reviewer, list[str]]:
    return await client.start_workflow(Reviewer.run, rounds, id=id, task_queue=QUEUE)


async def test_ctx_sends_events_reads_state_and_refers_to_the_run(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client, workflows=[Reviewer]):
        h = await _start(client, 2)
        assert h.run_id is not None and h.run_id == h.result_run_id
        ctx = h.ctx
        info = await ctx.info()
        assert (info.id, info.run_id, info.status) == (
            "review", h.run_id, WorkflowExecutionStatus.RUNNING)
        await ctx.send_event(Feedback("first"))
        await ctx.send_event(Feedback("second"), signal=Reviewer.feedback)
        assert h.get_stop_event() is None
        assert await bounded(h.result()) == ["first", "second"]
        assert await ctx.store.get("status") == ["first", "second"]
        assert await ctx.store.get("mood", "calm") == "calm"
        with pytest.raises(WorkflowQueryFailedError, match="has no query 'mood'"):
            await ctx.store.get("mood")
        with pytest.raises(RunContextError, match=r"\[RPL-H03\] ctx.store.set\('status', \.\.\.\)"
                                                   r" is not supported"):
            await ctx.store.set("status", [])
        reference = ctx.to_dict()
        assert reference == {"format": "replay-run-reference", "version": 1,
                             "workflow_id": "review", "run_id": h.run_id,
                             "first_execution_run_id": h.first_execution_run_id}
        again = RunContext.from_dict(client, reference)
        assert await bounded(again.result()) == ["first", "second"]
        assert again.ctx.to_dict() == reference
        with pytest.raises(RunContextError, match="not a run reference"):
            RunContext.from_dict(client, {"workflow_id": "review"})
    client.close()


async def test_the_stream_ends_with_the_stop_event_and_can_expose_internals(
        tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client, workflows=[Reviewer]):
        h = await _start(client, 1)
        await h.ctx.send_event(Feedback("fine"))
        stop = await bounded(h.stop_event_result())
        assert isinstance(stop, StopEvent) and stop.result == ["fine"]
        assert h.get_stop_event() == stop
        plain = [ev async for ev in h.stream_events()]
        assert [type(ev) for ev in plain] == [StreamedEvent, StopEvent]
        assert plain[0].data == "waiting for round 0" and plain[-1] == stop
        full = [ev async for ev in h.stream_events(expose_internal=True)]
        kinds = [ev.kind for ev in full if isinstance(ev, InternalEvent)]
        assert kinds[0] == "WorkflowStarted" and "SignalReceived" in kinds
        assert "WorkflowCompleted" in kinds
        assert [ev for ev in full if not isinstance(ev, InternalEvent)] == plain
    client.close()


async def test_a_failed_run_raises_its_own_exception_on_request(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client, workflows=[Reviewer]):
        h = await _start(client, 1)
        await h.ctx.send_event(Feedback("fail"))
        with pytest.raises(WorkflowFailureError) as wrapped:
            await bounded(h.result())  # the familiar default
        with pytest.raises(ApplicationError) as own:
            await bounded(h.result(raise_cause=True))
        assert own.value.type == "Rejected" and own.value.__cause__ is not None
        assert str(own.value) == str(wrapped.value.cause)
        with pytest.raises(ApplicationError, match="the reviewer rejected it"):
            [ev async for ev in h.stream_events(raise_cause=True)]
        with pytest.raises(WorkflowFailureError):
            [ev async for ev in h.stream_events()]
        assert h.get_stop_event() is None
    client.close()


async def test_cancel_run_waits_until_the_run_has_ended(tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client, workflows=[Reviewer]):
        h = await _start(client, 3)
        assert not h.is_done()
        await bounded(h.cancel_run())
        assert h.is_done()
        assert (await h.describe()).status is WorkflowExecutionStatus.CANCELED
        with pytest.raises(CancelledError):
            await h.result(raise_cause=True)
        await bounded(h.cancel_run())  # an ended run is left as it is
    client.close()
