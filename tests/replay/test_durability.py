"""Durability with real processes: SIGKILLed workers, restarts, two workers on one file."""

from __future__ import annotations

import asyncio
import collections
import random
from pathlib import Path
from typing import Any

import pytest

from replay.client import Client, WorkflowHandle, WorkflowUpdateHandle, WorkflowUpdateStage
from replay.history import ActivityCompleted, ActivityScheduled, Event, History

from .workers.harness import bounded, kinds, sqlite_client
from .workers.procs import kill, start_worker
from .workers.samples import ChattyWorkflow, StepsWorkflow

STEPS = 12
TIMEOUT = 0.5  # start_to_close: a dead worker's activity lease expires after 1.5 s
INPUTS = 10  # signals and updates sent while workers crash


def commands(events: list[Event]) -> list[tuple[Any, ...]]:
    """The commands a run made, in order, minus what depends on message timing."""
    out: list[tuple[Any, ...]] = []
    for e in events:
        name = type(e).__name__
        if isinstance(e, ActivityScheduled):
            out.append((name, e.activity_type, e.activity_id, e.args))
        elif name in ("TimerStarted", "WorkflowCompleted", "WorkflowFailed"):
            out.append((name, getattr(e, "result", None)))
    return out


def check_history(client: Client, run_id: str) -> History:
    history = client.store.history(run_id)  # validates: ids from 1, no gaps, one terminal...
    events = list(history.events)
    assert [e.event_id for e in events] == list(range(1, len(events) + 1))
    terminal = [k for k in kinds(events) if k in ("WorkflowCompleted", "WorkflowFailed",
                                                    "WorkflowTerminated", "WorkflowCanceled")]
    assert terminal == ["WorkflowCompleted"]
    scheduled = {e.event_id for e in events if isinstance(e, ActivityScheduled)}
    completed = collections.Counter(e.scheduled_event_id for e in events
                                    if isinstance(e, ActivityCompleted))
    assert set(completed) == scheduled
    assert all(n == 1 for n in completed.values()), completed
    return history


async def send_inputs(handle: WorkflowHandle, i: int, updates: list[WorkflowUpdateHandle]
                      ) -> None:
    await handle.signal(ChattyWorkflow.note, f"s{i}")
    updates.append(await handle.start_update(ChattyWorkflow.record, f"u{i}", id=f"u{i}",
                                             wait_for_stage=WorkflowUpdateStage.ADMITTED))


async def run_chatty(db: Path, side: Path, kills: int, seed: int
                     ) -> tuple[Any, list[Event], list[str]]:
    rng = random.Random(seed)
    client = await sqlite_client(db.parent, db.name)
    proc = await asyncio.to_thread(start_worker, db, side_file=side)
    try:
        h = await client.start_workflow(ChattyWorkflow.run, args=[STEPS, TIMEOUT], id="chatty",
                                        task_queue="tests")
        updates: list[WorkflowUpdateHandle] = []
        sent = 0
        for _ in range(kills):
            await asyncio.sleep(rng.uniform(0.0, 0.25))
            if sent < INPUTS:
                await send_inputs(h, sent, updates)
                sent += 1
            await asyncio.sleep(rng.uniform(0.0, 0.15))
            kill(proc)
            if sent < INPUTS and rng.random() < 0.5:  # sent while no worker is alive
                await send_inputs(h, sent, updates)
                sent += 1
            proc = await asyncio.to_thread(start_worker, db, side_file=side)
        while sent < INPUTS:
            await send_inputs(h, sent, updates)
            sent += 1
        results = [await bounded(u.result(), 30) for u in updates]
        assert sorted(results) == list(range(1, INPUTS + 1))
        await h.signal(ChattyWorkflow.close)
        result = await bounded(h.result(), 60)
    finally:
        kill(proc)
    run_id = h.result_run_id or ""
    check_history(client, run_id)
    lines = side.read_text().splitlines() if side.exists() else []
    return result, client.store.read(run_id), lines


@pytest.mark.slow
async def test_sigkilled_workers_end_like_an_uncrashed_run(tmp_path: Path) -> None:
    (tmp_path / "ref").mkdir()
    (tmp_path / "crash").mkdir()
    ref_result, ref_events, ref_lines = await run_chatty(
        tmp_path / "ref" / "r.db", tmp_path / "ref" / "side", kills=0, seed=1)
    result, events, lines = await run_chatty(
        tmp_path / "crash" / "c.db", tmp_path / "crash" / "side", kills=12, seed=7)
    assert result == ref_result
    assert result["signals"] == sorted(f"s{i}" for i in range(INPUTS))
    assert result["updates"] == sorted(f"u{i}" for i in range(INPUTS))
    assert result["results"] == [i * i for i in range(STEPS)]
    assert commands(events) == commands(ref_events)
    # no input lost or applied twice
    signals = collections.Counter(e.args[0] for e in events  # type: ignore[attr-defined]
                                  if type(e).__name__ == "SignalReceived"
                                  and e.signal_name == "note")  # type: ignore[attr-defined]
    assert signals == {f"s{i}": 1 for i in range(INPUTS)}
    accepted = collections.Counter(e.update_id for e in events  # type: ignore[attr-defined]
                                   if type(e).__name__ == "UpdateAccepted")
    assert accepted == {f"u{i}": 1 for i in range(INPUTS)}
    assert kinds(events).count("UpdateCompleted") == INPUTS
    # every activity ran at least once (maybe more: killed mid-attempt), recorded once
    finished = [line.split()[1] for line in lines if not line.endswith("start")]
    started = [line.split()[1] for line in lines if line.endswith("start")]
    assert set(finished) == {str(i + 1) for i in range(STEPS)}
    assert len(ref_lines) == 2 * STEPS
    print(f"{len(started)} activity attempts started, {len(finished)} finished, "
          f"for {STEPS} activities")


@pytest.mark.slow
async def test_two_worker_processes_share_one_database(tmp_path: Path) -> None:
    db = tmp_path / "two.db"
    client = await sqlite_client(tmp_path, "two.db")
    procs = await asyncio.gather(
        asyncio.to_thread(start_worker, db, identity="p1"),
        asyncio.to_thread(start_worker, db, identity="p2"))
    try:
        handles = [await client.start_workflow(StepsWorkflow.run, args=[2, 5.0],
                                               id=f"w{i}", task_queue="tests")
                   for i in range(200)]
        results = await bounded(asyncio.gather(*(h.result() for h in handles)), 60)
    finally:
        for p in procs:
            kill(p)
    assert results == [0 + 1] * 200
    identities: set[str] = set()
    for h in handles:
        history = check_history(client, h.result_run_id or "")
        identities |= {getattr(e, "identity", "") for e in history.events
                       if type(e).__name__ == "WorkflowTaskCompleted"}
    assert identities <= {"p1", "p2"}
    assert identities == {"p1", "p2"}, "both processes should have done some of the work"
