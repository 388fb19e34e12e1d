"""Workflows for the poison-pill tests: healthy runs, and runs that fail their task.

``Typed`` is healthy when started with a name; started without one (or with a
number for its ``Order``) its arguments do not bind or decode. ``Relay``
continues as new with an argument that has no JSON form; ``Fragile`` raises in
``__init__``. ``fixed`` holds the same types with the bugs fixed, as deployed
later; ``Retried`` schedules an activity that fails a few times first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from replay import activity, workflow
from replay.common import RetryPolicy
from replay.exceptions import ApplicationError


@dataclass
class Order:
    item: str
    quantity: int


class Opaque:
    """A value the payload converter has no JSON form for."""


@workflow.defn
class Typed:
    @workflow.run
    async def run(self, name: str) -> str:
        await workflow.sleep(1)
        return f"hello {name}"


@workflow.defn
class Ordered:
    @workflow.run
    async def run(self, order: Order) -> int:
        return order.quantity


@workflow.defn
class Relay:
    @workflow.run
    async def run(self, hops: int) -> int:
        if hops > 0:
            workflow.continue_as_new(args=[Opaque()])
        return hops


@workflow.defn
class Fragile:
    @workflow.init
    def __init__(self, limit: int) -> None:
        raise RuntimeError(f"cannot start with limit {limit}")

    @workflow.run
    async def run(self, limit: int) -> int:
        return limit


@workflow.defn(failure_exception_types=[RuntimeError])
class FragileDeclared:
    """As Fragile, but its own declaration makes the error fail the run."""

    @workflow.init
    def __init__(self, limit: int) -> None:
        raise RuntimeError(f"cannot start with limit {limit}")

    @workflow.run
    async def run(self, limit: int) -> int:
        return limit


@workflow.defn
class Diverging:
    """Sleeps once; its fixed twin (``fixed.Diverging``) issues an activity there instead."""

    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(10)
        return "slept"


ATTEMPTS_BEFORE_SUCCESS = 3


@activity.defn
async def flaky_charge(amount: int) -> int:
    info = activity.info()
    if info.attempt < ATTEMPTS_BEFORE_SUCCESS:
        raise ApplicationError(f"card service down (attempt {info.attempt})", type="Unavailable")
    return amount


@workflow.defn
class Retried:
    @workflow.run
    async def run(self, amount: int) -> int:
        return await workflow.execute_activity(
            flaky_charge, amount, start_to_close_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=10),
                                     maximum_interval=timedelta(seconds=10)))


POISON = (Typed, Ordered, Relay, Fragile)
