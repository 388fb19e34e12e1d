"""Invariant 3, crash equivalence, in process: drop the worker and its cache anywhere.

A run is driven by a worker that is thrown away (with its sticky cache, its
leases left to expire) once the history reaches a generated length, and a
fresh worker takes over by replay; this repeats at every generated point.
The final commands and result must equal those of a run never interrupted,
with the same inputs, and no input may be lost or applied twice.
"""

from __future__ import annotations

import asyncio
import collections
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.workload import samples
from fixtures.workload.samples import ChattyWorkflow
from replay.client import Client
from replay.history import ActivityCompleted, ActivityScheduled, Event, SignalReceived
from replay.worker import Worker

STEPS = 5
SIGNALS = 3
LEASE = timedelta(seconds=0.05)


def commands(events: list[Event]) -> list[tuple[Any, ...]]:
    return [(type(e).__name__, getattr(e, "activity_id", None), getattr(e, "result", None))
            for e in events
            if isinstance(e, ActivityScheduled) or type(e).__name__ in (
                "TimerStarted", "WorkflowCompleted", "WorkflowFailed")]


def fresh_worker(client: Client, n: int) -> Worker:
    return Worker(client, task_queue="q", workflows=[ChattyWorkflow],
                  activities=[samples.step, samples.slow_step], identity=f"worker-{n}",
                  workflow_task_lease=LEASE)


async def drive(target: str, crash_points: list[int], signal_at: list[int]
                ) -> tuple[Any, list[Event]]:
    """Run ChattyWorkflow, sending signal i once the history holds signal_at[i] events.

    A run of STEPS activities reaches ~19 events before it waits for the signals.
    """
    client = await Client.connect(target)
    worker = fresh_worker(client, 0)
    await worker.__aenter__()
    h = await client.start_workflow(ChattyWorkflow.run, args=[STEPS, 0.2], id="crashy",
                                    task_queue="q")
    run_id = h.result_run_id or ""
    pending = sorted(crash_points)
    to_send = sorted(zip(signal_at, range(SIGNALS), strict=True))
    closed = False
    try:
        for _ in range(3000):
            n = client.store.last_event_id(run_id)
            while to_send and n >= to_send[0][0]:
                await h.signal(ChattyWorkflow.note, f"s{to_send.pop(0)[1]}")
            if not to_send and not closed:
                await h.signal(ChattyWorkflow.close)
                closed = True
            if pending and n >= pending[0]:
                pending.pop(0)
                # crash: stop leasing and forget the cache (leases stay until they expire)
                await worker.shutdown()
                worker = fresh_worker(client, len(crash_points) - len(pending))
                await worker.__aenter__()
            if h.is_done():
                break
            await asyncio.sleep(0.002)
        result = await asyncio.wait_for(h.result(), 20)
    finally:
        await worker.shutdown()
    events = client.store.read(run_id)
    client.store.history(run_id)  # validates
    client.close()
    return result, events


REFERENCE: dict[tuple[int, ...], tuple[Any, list[Event]]] = {}


@settings(max_examples=8)
@given(crash_points=st.lists(st.integers(1, 40), min_size=1, max_size=3),
       signal_at=st.lists(st.integers(1, 15), min_size=SIGNALS, max_size=SIGNALS))
def test_crashed_run_ends_like_an_uncrashed_one(crash_points: list[int],
                                                 signal_at: list[int]) -> None:
    with tempfile.TemporaryDirectory() as d:
        result, events = asyncio.run(drive(f"sqlite:///{Path(d) / 'c.db'}", crash_points,
                                           signal_at))
        ref_result, ref_events = asyncio.run(drive(f"sqlite:///{Path(d) / 'r.db'}", [],
                                                   signal_at))
    _compare(result, events, ref_result, ref_events)


@pytest.mark.slow
@settings(max_examples=3, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(crash_points=st.lists(st.integers(1, 40), min_size=1, max_size=3),
       signal_at=st.lists(st.integers(1, 15), min_size=SIGNALS, max_size=SIGNALS))
def test_crashed_run_on_postgres_ends_like_an_uncrashed_one(
        postgres_url: str, postgres_schemas: Callable[[], str], crash_points: list[int],
        signal_at: list[int]) -> None:
    crashed, reference = postgres_schemas(), postgres_schemas()
    result, events = asyncio.run(drive(f"{postgres_url}?schema={crashed}", crash_points,
                                       signal_at))
    ref_result, ref_events = asyncio.run(drive(f"{postgres_url}?schema={reference}", [],
                                               signal_at))
    _compare(result, events, ref_result, ref_events)


def _compare(result: Any, events: list[Event], ref_result: Any, ref_events: list[Event]
             ) -> None:
    assert result == ref_result
    assert commands(events) == commands(ref_events)
    notes = collections.Counter(e.args[0] for e in events
                                if isinstance(e, SignalReceived) and e.signal_name == "note")
    assert notes == {f"s{i}": 1 for i in range(SIGNALS)}
    scheduled = [e.event_id for e in events if isinstance(e, ActivityScheduled)]
    done = collections.Counter(e.scheduled_event_id for e in events
                               if isinstance(e, ActivityCompleted))
    assert sorted(done) == scheduled and set(done.values()) == {1}
