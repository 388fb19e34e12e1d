"""The "Rollout" workflow as the workers now run it: an audit step behind ``patched()``."""

from __future__ import annotations

import asyncio

from replay import workflow


@workflow.defn(name="Rollout")
class Rollout:
    """Audits first (new runs), records its steps and waits for ``finish``."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.done = False

    @workflow.run
    async def run(self) -> list[str]:
        if workflow.patched("audit"):
            await asyncio.sleep(60)
            self.steps.append("audited")
        self.steps.append("started")
        await workflow.wait_condition(lambda: self.done)
        return self.steps

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.query
    def progress(self) -> list[str]:
        return list(self.steps)

    @workflow.query
    def explode(self) -> str:
        raise ValueError("no answer")
