"""The poison-pill workflows with their bugs fixed, under the same type names (a new deploy)."""

from __future__ import annotations

from datetime import timedelta

from replay import workflow
from tests.replay.workflows.poison import Typed, flaky_charge


@workflow.defn(name="Ordered")
class Ordered:
    @workflow.run
    async def run(self, order: object) -> str:
        return f"got {order!r}"


@workflow.defn(name="Relay")
class Relay:
    @workflow.run
    async def run(self, hops: object) -> str:
        if hops == 1:
            workflow.continue_as_new(args=[0])
        return f"relayed {hops}"


@workflow.defn(name="Fragile")
class Fragile:
    @workflow.init
    def __init__(self, limit: int) -> None:
        self.limit = limit

    @workflow.run
    async def run(self, limit: int) -> int:
        return self.limit


@workflow.defn(name="Diverging")
class Diverging:
    @workflow.run
    async def run(self) -> str:
        # an activity where the history recorded a timer: replay diverges at once
        await workflow.execute_activity(flaky_charge, 1,
                                        start_to_close_timeout=timedelta(seconds=5))
        return "charged"


FIXED = (Typed, Ordered, Relay, Fragile)
