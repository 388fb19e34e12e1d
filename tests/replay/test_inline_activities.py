"""Plain async activities run inside the worker's pass; one that waits carries on in a
task of its own; outcomes are the same on every store."""

from __future__ import annotations

from replay.client import Client
from replay.history import ActivityCompleted, ActivityTimedOut
from replay.worker import Worker
from tests.replay.workers.harness import bounded
from tests.replay.workers.stores import any_client as any_client
from tests.replay.workflows.inline_activities import (
    InlineActivities,
    at_once,
    raises_timeout_error,
    waits_first,
)


async def test_plain_async_activities_run_in_the_pass_or_carry_on_in_a_task(
        any_client: Client) -> None:
    client = any_client
    async with Worker(client, task_queue="inline", workflows=[InlineActivities],
                      activities=[at_once, waits_first, raises_timeout_error]):
        handle = await client.start_workflow(InlineActivities.run, id="inline",
                                             task_queue="inline")
        result = await bounded(handle.result())
    assert result == {
        "first": {"value": 9, "own_task": False},  # no task of its own
        "waited": {"value": 5, "token": True, "attempt": 1},
        # the builtin TimeoutError is reported as the start-to-close deadline's, as
        # before (and as when the activity ran in a task)
        "timed_out": "TimeoutError:start_to_close",
    }
    events = client.store.read(str(handle.result_run_id))
    completed = [e for e in events if isinstance(e, ActivityCompleted)]
    assert len(completed) == 2
    # each outcome recorded once, with the id that follows the run's last event
    ids = [e.event_id for e in events]
    assert ids == list(range(1, len(events) + 1))
    [timed_out] = [e for e in events if isinstance(e, ActivityTimedOut)]
    assert timed_out.timeout_type == "start_to_close" and timed_out.attempt == 1
