"""Workflows for the UI's tests: an activity, a timer, a child, signals, an update, a query."""

from __future__ import annotations

from datetime import timedelta

from replay import activity, workflow


@activity.defn
async def greet(name: str) -> str:
    return f"Hello, {name}"


@workflow.defn
class Doubler:
    @workflow.run
    async def run(self, value: int) -> int:
        return value * 2


@workflow.defn
class Order:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.approved = False
        self.stage = "created"

    @workflow.run
    async def run(self, name: str) -> str:
        greeting = await workflow.execute_activity(
            greet, name, start_to_close_timeout=timedelta(seconds=30))
        self.stage = "greeted"
        await workflow.sleep(timedelta(milliseconds=50))
        doubled = await workflow.execute_child_workflow(Doubler.run, 21, id=f"{name}-child")
        self.stage = "waiting for approval"
        await workflow.wait_condition(lambda: self.approved)
        self.stage = "done"
        return f"{greeting}: {doubled} {','.join(self.items)}"

    @workflow.signal
    def add_item(self, item: str) -> None:
        self.items.append(item)

    @workflow.signal
    def approve(self) -> None:
        self.approved = True

    @workflow.update
    def rename_stage(self, stage: str) -> str:
        old, self.stage = self.stage, stage
        return old

    @workflow.query
    def current_stage(self) -> str:
        return self.stage

    @workflow.query
    def item_count(self) -> int:
        return len(self.items)


@workflow.defn(name="Order")
class OrderChanged:
    """Order's code after an incompatible change: it sleeps before the activity."""

    @workflow.run
    async def run(self, name: str) -> str:
        await workflow.sleep(timedelta(seconds=5))
        return name


WORKFLOWS: list[type] = [Order, Doubler]
ACTIVITIES = [greet]
QUEUE = "ui-tests"
