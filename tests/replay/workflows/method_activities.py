"""Activities declared as methods of a class (registered bound) and as local activities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from replay import activity, workflow


@dataclass
class Order:
    item: str
    quantity: int


class Inventory:
    """Activities sharing state through their instance (a client, a pool...)."""

    def __init__(self, stock: dict[str, int]) -> None:
        self.stock = stock

    @activity.defn
    async def reserve(self, order: Order) -> int:
        self.stock[order.item] -= order.quantity
        return self.stock[order.item]

    @activity.defn
    def count(self, item: str) -> int:
        return self.stock[item]


@workflow.defn
class InventoryWorkflow:
    @workflow.run
    async def run(self, order: Order) -> list[int]:
        left = await workflow.execute_activity_method(
            Inventory.reserve, order, start_to_close_timeout=timedelta(seconds=5))
        counted = await workflow.execute_local_activity_method(
            Inventory.count, order.item, start_to_close_timeout=timedelta(seconds=5))
        return [left, counted]
