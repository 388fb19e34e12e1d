"""Client(retention=...) and Client.prune(): closed runs older than the retention go."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from replay.client import Client
from replay.history import History, SqliteStore
from replay.testing import WorkflowEnvironment
from replay.worker import Replayer
from tests.replay.workflows import moving
from tests.replay.workflows.moving import QUEUE, WORKFLOWS


def test_prune_removes_closed_runs_past_the_retention(tmp_path: Path) -> None:
    async def main() -> None:
        env = await WorkflowEnvironment.start_time_skipping(store=SqliteStore(tmp_path / "a.db"))
        async with env:
            client = Client(env.store, clock=env.client.clock, retention=timedelta(days=30))
            async with env.worker(task_queue=QUEUE, workflows=WORKFLOWS):
                await client.execute_workflow(moving.Finishes.run, "old", id="old",
                                              task_queue=QUEUE)
                await client.start_workflow(moving.Idle.run, id="idle", task_queue=QUEUE)
                assert await client.prune() == []  # nothing is 30 days old yet
                await env.sleep(timedelta(days=31))
                await client.execute_workflow(moving.Finishes.run, "new", id="new",
                                              task_queue=QUEUE)
                dry = await client.prune(dry_run=True)
                assert [p.run.workflow_id for p in dry] == ["old"]
                pruned = await client.prune(export_to=tmp_path / "out")
                assert [p.run.workflow_id for p in pruned] == ["old"]
                assert sorted(r.workflow_id for r in client.store.list_runs()) == [
                    "idle", "new"]
                [file] = (tmp_path / "out").glob("*.json")
                Replayer(workflows=WORKFLOWS).replay_sync(History.load(file))
                await env.sleep(timedelta(seconds=1))
                gone = await client.prune(older_than=timedelta(0), statuses=["completed"])
                assert [p.run.workflow_id for p in gone] == ["new"]
                with pytest.raises(ValueError, match="older_than"):
                    await Client(env.store).prune()
    asyncio.run(main())


def test_connect_takes_a_retention(tmp_path: Path) -> None:
    async def main() -> None:
        client = await Client.connect(f"sqlite:///{tmp_path / 'b.db'}",
                                      retention=timedelta(days=7))
        assert client.retention == timedelta(days=7) and await client.prune() == []
        client.close()
    asyncio.run(main())
