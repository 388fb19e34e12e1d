"""A shopping cart: the update-with-start tests' workflow."""

from __future__ import annotations

from replay import workflow


@workflow.defn
class Cart:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.done = False

    @workflow.run
    async def run(self, owner: str) -> list[str]:
        await workflow.wait_condition(lambda: self.done)
        return [owner, *self.items]

    @workflow.update
    def add_item(self, item: str) -> list[str]:
        self.items.append(item)
        return list(self.items)

    @add_item.validator
    def check_item(self, item: str) -> None:
        if not item:
            raise ValueError("an item needs a name")

    @workflow.signal
    def checkout(self) -> None:
        self.done = True
