"""Pydantic models as workflow and activity arguments and results, also inside lists,
dicts and Optional, for the pydantic data converter's tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, Field

from replay import activity, workflow

QUEUE = "pydantic"


class Address(BaseModel):
    street: str
    city: str


class Item(BaseModel):
    sku: str
    price: Decimal
    tags: set[str] = Field(default_factory=set)


class Customer(BaseModel):
    name: str
    since: datetime
    address: Address | None = None


class Order(BaseModel):
    customer: Customer
    items: list[Item]


class Receipt(BaseModel):
    customer: Customer
    by_sku: dict[str, Item]
    total: Decimal
    extra: list[Item]
    gift_to: Address | None


@activity.defn
async def price_items(items: list[Item], customer: Customer) -> dict[str, Item]:
    assert all(isinstance(i, Item) for i in items) and isinstance(customer, Customer)
    return {item.sku: item for item in items}


@workflow.defn
class PydanticOrderWorkflow:
    def __init__(self) -> None:
        self.extra: list[Item] = []
        self.gift_to: Address | None = None
        self.done = False

    @workflow.run
    async def run(self, order: Order) -> Receipt:
        assert isinstance(order.customer.since, datetime)
        by_sku = await workflow.execute_activity(
            price_items, args=[order.items, order.customer],
            start_to_close_timeout=timedelta(seconds=10))
        await workflow.wait_condition(lambda: self.done)
        total = sum((i.price for i in [*by_sku.values(), *self.extra]), Decimal(0))
        return Receipt(customer=order.customer, by_sku=by_sku, total=total, extra=self.extra,
                       gift_to=self.gift_to)

    @workflow.signal
    async def gift(self, address: Address | None) -> None:
        self.gift_to = address

    @workflow.signal
    async def finish(self) -> None:
        self.done = True

    @workflow.update
    async def add(self, items: list[Item]) -> list[Item]:
        self.extra.extend(items)
        return self.extra

    @add.validator
    def _check(self, items: list[Item]) -> None:
        if any(i.price < 0 for i in items):
            raise ValueError("negative price")

    @workflow.query
    def extras(self) -> dict[str, Item]:
        return {i.sku: i for i in self.extra}

    @workflow.query
    def has(self, item: Item, near: Address | None) -> bool:
        assert isinstance(item, Item) and (near is None or isinstance(near, Address))
        return any(i.sku == item.sku for i in self.extra)
