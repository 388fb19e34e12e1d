"""The worker's polls: a pass whose lease took every free workflow task is not followed
by a round of polls that can find nothing (replay/_worker/_worker.py, ``_lease_seen``).

Counted on the stores that count such a lease as one change (memory, SQLite);
PostgreSQL's lease takes a fair share among the queue's pollers, and there the worker
polls again after a pass that leased tasks, as it always did.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from replay.client import Client
from replay.history import MemoryStore, SqliteStore, Store, WorkflowTask
from replay.worker import Worker

from .workers.harness import bounded, wait_until
from .workflows import pipeline
from .workflows.pipeline import TwoSteps, tracked

QUEUE = "polls"


class LeaseCount:
    """Counts the store's ``lease_workflow_tasks`` calls (wrapped on the instance)."""

    def __init__(self, store: Store) -> None:
        self.calls = 0
        lease = store.lease_workflow_tasks

        def counted(task_queue: str, owner: str, now: datetime, lease_for: timedelta,
                    limit: int) -> list[WorkflowTask]:
            self.calls += 1
            return lease(task_queue, owner, now, lease_for, limit)

        store.lease_workflow_tasks = counted  # type: ignore[method-assign]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_a_run_stepping_alone_is_polled_for_once(kind: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # no polls on the clock during the test: every lease counted was asked for by a commit
    monkeypatch.setattr("replay._worker._worker.POLL_EVERY", 3600.0)
    store: Store = MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "polls.db")
    leases = LeaseCount(store)
    client = Client(store)
    try:
        async with Worker(client, task_queue=QUEUE, workflows=[TwoSteps],
                          activities=[tracked]) as worker:
            await wait_until(lambda: worker.quiet_passes >= 1)  # announced, and idle
            pipeline.reset()
            leases.calls = 0
            handle = await client.start_workflow(TwoSteps.run, args=["a", "b"], id="polled",
                                                 task_queue=QUEUE)
            assert await bounded(handle.result()) == ["A", "B"]
            # the pass that ran it has ended; the next one finds nothing to do
            await wait_until(lambda: worker.quiet_passes >= 1)
            counted = leases.calls
    finally:
        client.close()
    assert counted == 1
