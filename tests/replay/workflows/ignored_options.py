"""Workflows that pass options replay does not implement (each must be refused)."""

from __future__ import annotations

from datetime import timedelta

from replay import workflow


@workflow.defn
class Child:
    @workflow.run
    async def run(self) -> None:
        return None


@workflow.defn
class ChildWithPolicy:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_child_workflow(Child.run, versioning_intent="default")


@workflow.defn
class ChildWithCron:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_child_workflow(Child.run, cron_schedule="@hourly")


@workflow.defn
class ChildWithTypo:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_child_workflow(Child.run, task_queu="elsewhere")


@workflow.defn
class ConditionWithSummary:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False, timeout=timedelta(seconds=1),
                                      timeout_summary="approval")
