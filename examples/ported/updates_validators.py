"""Updates with validators: a shopping cart accepts items through an update whose
validator rejects bad ones before anything is recorded.

Written for the familiar SDK; docs/migrating.md says what to change to run it here.
"""

import asyncio
from dataclasses import dataclass

from temporalio import workflow
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.worker import Worker

TASK_QUEUE = "carts"


@dataclass
class Item:
    sku: str
    quantity: int


@workflow.defn
class CartWorkflow:
    def __init__(self) -> None:
        self.items: dict[str, int] = {}
        self.checked_out = False

    @workflow.run
    async def run(self) -> dict[str, int]:
        await workflow.wait_condition(lambda: self.checked_out)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.items

    @workflow.update
    async def add_item(self, item: Item) -> int:
        self.items[item.sku] = self.items.get(item.sku, 0) + item.quantity
        return sum(self.items.values())

    @add_item.validator
    def validate_item(self, item: Item) -> None:
        if item.quantity <= 0:
            raise ValueError(f"quantity of {item.sku} must be positive")
        if self.checked_out:
            raise ValueError("cart is checked out")

    @workflow.update
    def checkout(self) -> str:
        self.checked_out = True
        return f"{len(self.items)} distinct items"


async def main() -> None:
    client = await Client.connect("localhost:7233")
    async with Worker(client, task_queue=TASK_QUEUE, workflows=[CartWorkflow]):
        handle = await client.start_workflow(CartWorkflow.run, id="cart-1",
                                             task_queue=TASK_QUEUE)
        print("total:", await handle.execute_update(CartWorkflow.add_item, Item("pen", 2)))
        try:
            await handle.execute_update(CartWorkflow.add_item, Item("ink", 0))
        except WorkflowUpdateFailedError as err:
            print("rejected:", err.cause)
        update = await handle.start_update(CartWorkflow.add_item, Item("pad", 3),
                                           wait_for_stage=WorkflowUpdateStage.ACCEPTED)
        print("total:", await update.result())
        print("checkout:", await handle.execute_update(CartWorkflow.checkout))
        print("cart:", await handle.result())


if __name__ == "__main__":
    asyncio.run(main())
