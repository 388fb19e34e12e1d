"""Activities declared as methods, registered bound, and local activities."""

from __future__ import annotations

from pathlib import Path

from replay.worker import Replayer, Worker
from tests.replay.workers.harness import bounded, sqlite_client
from tests.replay.workflows.method_activities import Inventory, InventoryWorkflow, Order


async def test_bound_method_activities_decode_their_arguments_and_keep_their_instance(
        tmp_path: Path) -> None:
    inventory = Inventory({"apple": 10})
    client = await sqlite_client(tmp_path)
    try:
        async with Worker(client, task_queue="inv", workflows=[InventoryWorkflow],
                          activities=[inventory.reserve, inventory.count]):
            handle = await client.start_workflow(InventoryWorkflow.run, Order("apple", 3),
                                                 id="inv-1", task_queue="inv")
            assert await bounded(handle.result()) == [7, 7]
        assert inventory.stock == {"apple": 7}
        history = await handle.fetch_history()
        scheduled = [e for e in history if type(e).__name__ == "ActivityScheduled"]
        assert [e.activity_type for e in scheduled] == ["reserve", "count"]  # type: ignore[attr-defined]
        result = await Replayer(workflows=[InventoryWorkflow]).replay_workflow(history)
        assert result.status == "completed" and result.result == [7, 7]
    finally:
        client.close()
