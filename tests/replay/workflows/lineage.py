"""Three generations of runs: a root starts a middle child, which starts a leaf."""

from __future__ import annotations

from replay import workflow


@workflow.defn
class Leaf:
    @workflow.run
    async def run(self) -> str:
        return "leaf"


@workflow.defn
class Middle:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_child_workflow(Leaf.run, id="leaf")


@workflow.defn
class Root:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_child_workflow(Middle.run, id="middle")
