"""Workflows for the tracing tests: an activity, a signal, a child, an update."""

from __future__ import annotations

from datetime import timedelta

from replay import activity, workflow


@activity.defn
async def compose(name: str) -> str:
    return f"Hello, {name}"


@workflow.defn
class Child:
    @workflow.run
    async def run(self, text: str) -> str:
        return text.upper()


@workflow.defn
class Parent:
    def __init__(self) -> None:
        self.go = False

    @workflow.run
    async def run(self, name: str) -> str:
        text = await workflow.execute_activity(compose, name,
                                               start_to_close_timeout=timedelta(seconds=30))
        await workflow.wait_condition(lambda: self.go)
        return await workflow.execute_child_workflow(Child.run, text, id=f"{name}-child")

    @workflow.signal
    def proceed(self) -> None:
        self.go = True

    @workflow.query
    def ready(self) -> bool:
        return self.go


QUEUE = "otel"
WORKFLOWS: list[type] = [Parent, Child]
ACTIVITIES = [compose]
