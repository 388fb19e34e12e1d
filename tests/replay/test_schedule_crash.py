"""A schedule survives its worker being SIGKILLed: another worker process carries it on
with no due time missed and none started twice (real processes, a real SQLite file)."""

from __future__ import annotations

import asyncio
import collections
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from fixtures.workload.procs import kill, start_worker
from replay.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from replay.history import SqliteStore

DEADLINE = 60.0  # a bound on a broken run only; every wait below ends on a fact


async def _tick_runs(client: Client) -> list[tuple[str, str]]:
    return [(r.id, r.status.value) async for r in client.list_workflows()
            if r.id.startswith("tick-")]


async def _wait_for(client: Client, done: Callable[[list[tuple[str, str]]], bool]
                    ) -> list[tuple[str, str]]:
    """The tick runs, once ``done(runs)`` holds (woken by each commit of any process)."""
    store = client.store
    loop = asyncio.get_running_loop()
    end = loop.time() + DEADLINE
    while True:
        token = store.change_token()
        runs = await _tick_runs(client)
        if done(runs):
            return runs
        assert loop.time() < end, f"gave up waiting; runs so far: {runs}"
        await store.wait_changed(1.0, since=token)


def _due(workflow_id: str) -> datetime:
    return datetime.strptime(workflow_id.removeprefix("tick-") + "+0000",
                             "%Y-%m-%dT%H:%M:%SZ%z")


@pytest.mark.slow
async def test_a_killed_workers_schedule_goes_on_without_a_missed_or_doubled_action(
        tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    client = Client(SqliteStore(db))
    first = await asyncio.to_thread(start_worker, db)
    second = None
    try:
        handle = await client.create_schedule("crashy", Schedule(
            action=ScheduleActionStartWorkflow("SleepWorkflow", 0.0, id="tick",
                                               task_queue="tests"),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=1))]),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.ALLOW_ALL)))
        await _wait_for(client, lambda runs: len(runs) >= 3)
        kill(first)
        killed_with = len(await _tick_runs(client))
        second = await asyncio.to_thread(start_worker, db)
        await _wait_for(client, lambda runs: len(runs) >= killed_with + 3)
        await handle.delete()
        runs = await _wait_for(client, lambda runs: all(s == "completed" for _, s in runs))
    finally:
        for proc in (first, second):
            if proc is not None:
                kill(proc)
    per_id = collections.Counter(workflow_id for workflow_id, _ in runs)
    assert max(per_id.values()) == 1, f"an action started twice: {per_id}"
    times = sorted(_due(workflow_id) for workflow_id in per_id)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert set(gaps) == {timedelta(seconds=1)}, f"a due time was missed: {times}"
    client.close()
