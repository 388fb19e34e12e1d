"""The "Rollout" workflow as an older client still imports it (before the audit step).

Replaying a history recorded by :mod:`rollout_v2` through this class diverges at
the audit step's patch marker and timer.
"""

from __future__ import annotations

from replay import workflow


@workflow.defn(name="Rollout")
class Rollout:
    """Records its steps and waits for ``finish``."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.done = False

    @workflow.run
    async def run(self) -> list[str]:
        self.steps.append("started")
        await workflow.wait_condition(lambda: self.done)
        return self.steps

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.query
    def progress(self) -> list[str]:
        return list(self.steps)
