"""Durability with real processes: SIGKILLed workers, restarts, a paused worker fenced out."""

from __future__ import annotations

import asyncio
import collections
import os
import random
import signal
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from fixtures.workload.procs import kill, start_worker
from fixtures.workload.samples import ChattyWorkflow, GatedWorkflow, StepsWorkflow
from replay.client import WorkflowHandle, WorkflowUpdateHandle, WorkflowUpdateStage
from replay.history import (
    ActivityCompleted,
    ActivityScheduled,
    Event,
    Store,
    WorkflowTaskCompleted,
)

from .workers.harness import bounded, check_history, kinds, sqlite_client, wait_until

STEPS = 12
TIMEOUT = 0.5  # start_to_close: a dead worker's activity lease expires after 1.5 s
INPUTS = 10  # signals and updates sent while workers crash
GATED = 10  # runs the paused worker loses to the other


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


async def send_inputs(handle: WorkflowHandle[Any, Any], store: Store, i: int,
                      updates: list[WorkflowUpdateHandle[Any]],
                      sending: list[asyncio.Future[WorkflowUpdateHandle[Any]]]) -> None:
    """A signal, and an update sent without waiting for a worker (which may be dead): its
    request is in the store when this returns, its handle in ``updates``."""
    await handle.signal(ChattyWorkflow.note, f"s{i}")
    sent = asyncio.ensure_future(handle.start_update(
        ChattyWorkflow.record, f"u{i}", id=f"u{i}", wait_for_stage=WorkflowUpdateStage.ACCEPTED))
    run_id = handle.result_run_id or ""
    await wait_until(lambda: sent.done() or store.get_update(run_id, f"u{i}") is not None)
    updates.append(handle.get_update_handle(f"u{i}", workflow_run_id=run_id))
    sending.append(sent)


async def run_chatty(db: Path, side: Path, kills: int, seed: int
                     ) -> tuple[Any, list[Event], list[str]]:
    rng = random.Random(seed)
    client = await sqlite_client(db.parent, db.name)
    proc = await asyncio.to_thread(start_worker, db, side_file=side)
    try:
        h = await client.start_workflow(ChattyWorkflow.run, args=[STEPS, TIMEOUT], id="chatty",
                                        task_queue="tests")
        updates: list[WorkflowUpdateHandle[Any]] = []
        sending: list[asyncio.Future[WorkflowUpdateHandle[Any]]] = []
        sent = 0
        for _ in range(kills):
            await asyncio.sleep(rng.uniform(0.0, 0.25))
            if sent < INPUTS:
                await send_inputs(h, client.store, sent, updates, sending)
                sent += 1
            await asyncio.sleep(rng.uniform(0.0, 0.15))
            kill(proc)
            if sent < INPUTS and rng.random() < 0.5:  # sent while no worker is alive
                await send_inputs(h, client.store, sent, updates, sending)
                sent += 1
            proc = await asyncio.to_thread(start_worker, db, side_file=side)
        while sent < INPUTS:
            await send_inputs(h, client.store, sent, updates, sending)
            sent += 1
        results = [await bounded(u.result(), 30) for u in updates]
        await bounded(asyncio.gather(*sending), 30)
        assert sorted(results) == list(range(1, INPUTS + 1))
        await h.signal(ChattyWorkflow.close)
        result = await bounded(h.result(), 60)
    finally:
        kill(proc)
    run_id = h.result_run_id or ""
    check_history(client.store, run_id)
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


def _stopped(pid: int) -> bool:
    """True once the process is stopped (state T in /proc), i.e. SIGSTOP took effect."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] in ("T", "t")


def _gated_lines(side: Path) -> list[list[str]]:
    """The side file's lines of gated_step: ``[workflow id, "1", attempt(, "start")]``."""
    lines = [line.split() for line in side.read_text().splitlines()] if side.exists() else []
    return [line for line in lines if line[0].startswith("g") and line[1] == "1"]


@pytest.mark.slow
async def test_a_paused_worker_is_fenced_out_after_another_takes_over(tmp_path: Path) -> None:
    """Invariant 4 with real processes: worker A, paused (SIGSTOP) while holding leases
    and results it has not written, resumes after worker B took its runs over and
    finished them; every write A then tries is refused, and the histories hold B's work.

    No race decides the outcome: A holds its gated activities' results because the
    write lock is held here from before the gate opens until A is stopped; B can take
    over only once A's leases expire; A resumes only after every run has finished.
    """
    db, side, gate, refused = (tmp_path / n for n in ("fence.db", "side", "gate", "refused"))
    client = await sqlite_client(tmp_path, "fence.db")
    a = await asyncio.to_thread(start_worker, db, identity="A", side_file=side,
                                gate_file=gate, refused_log=refused, busy_timeout_ms=600_000)
    b = None
    blocker = sqlite3.connect(db, isolation_level=None, check_same_thread=False, timeout=60)
    try:
        # A alone finishes some runs...
        first = [await client.start_workflow(StepsWorkflow.run, args=[2, 5.0], id=f"a{i}",
                                             task_queue="tests") for i in range(10)]
        assert await bounded(asyncio.gather(*(h.result() for h in first)), 60) == [1] * 10
        # ...and starts the gated activity of each of the others (holding their leases).
        gated = [await client.start_workflow(GatedWorkflow.run, 3.0, id=f"g{i}",
                                             task_queue="tests") for i in range(GATED)]
        await wait_until(lambda: sum(1 for line in _gated_lines(side)
                                     if line[-1] == "start") == GATED, 30)
        # The gate opens while the write lock is held here: A's activities end, and A
        # cannot write their results. Once it holds at least one, it is paused.
        await asyncio.to_thread(blocker.execute, "BEGIN IMMEDIATE")
        gate.touch()
        await wait_until(lambda: any(line[-1] != "start" for line in _gated_lines(side)), 30)
        os.kill(a.pid, signal.SIGSTOP)
        await wait_until(lambda: _stopped(a.pid), 30)
        held = {line[0] for line in _gated_lines(side) if line[-1] == "1"}  # attempt 1: A's
        blocker.execute("ROLLBACK")
        # B takes over once A's leases expire, and finishes every run.
        b = await asyncio.to_thread(start_worker, db, identity="B", side_file=side,
                                    gate_file=gate)
        results = await bounded(asyncio.gather(*(h.result() for h in gated)), 60)
        assert results == [1 + 4] * GATED
        # A resumes: everything it held is refused (its results are stale, the runs closed).
        os.kill(a.pid, signal.SIGCONT)
        ids = {h.id: h.result_run_id for h in gated}
        await wait_until(lambda: {ids[w] for w in held} <= _refused(refused), 60)
    finally:
        kill(a)
        if b is not None:
            kill(b)
        blocker.close()
    assert held  # A was paused holding results
    kinds_refused = {line.split()[0] for line in refused.read_text().splitlines()}
    assert kinds_refused <= {"AppendConflictError", "StaleResultError", "RunClosedError"}
    for h in first:  # A's own runs: A's work only
        history = check_history(client.store, h.result_run_id or "")
        assert _task_identities(history.events) == {"A"}
    for g in gated:  # after the takeover, only B's task completions; each result once
        history = check_history(client.store, g.result_run_id or "")
        events = list(history.events)
        gated_at = next(e.event_id for e in events if isinstance(e, ActivityScheduled)
                        and e.activity_type == "gated_step")
        # the activation that scheduled it ends with the next WorkflowTaskCompleted
        boundary = next(e.event_id for e in events[gated_at:]
                        if isinstance(e, WorkflowTaskCompleted))
        assert _task_identities(events[:boundary]) == {"A"}
        assert _task_identities(events[boundary:]) == {"B"}
        [done] = [e for e in events if isinstance(e, ActivityCompleted)
                  and e.scheduled_event_id == gated_at]
        assert done.attempt >= 2  # B's attempt: A's attempt 1 was never recorded
    print(f"worker A paused holding {len(held)} unwritten results; the store refused "
          f"{len(refused.read_text().splitlines())} of its batches afterwards "
          f"({', '.join(sorted(kinds_refused))})")


def _refused(path: Path) -> set[str]:
    return {line.split()[1] for line in path.read_text().splitlines()} if path.exists() \
        else set()


def _task_identities(events: Sequence[Event]) -> set[str]:
    return {e.identity for e in events if isinstance(e, WorkflowTaskCompleted)}
