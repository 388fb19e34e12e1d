"""LlamaIndex Workflows' side: ten steps chained by events, run in memory.

Each step receives the previous step's event and emits the next one with the
running total (``total + i * i``, as our ``step(i)``), so the result equals
``StepsWorkflow.run(10)``. Nothing is persisted: this is the library's own
event-driven runtime, with no durability.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

from workflows import Workflow
from workflows import step as _step
from workflows.events import Event, StartEvent, StopEvent

STEPS = 10

_F = TypeVar("_F", bound=Callable[..., Any])


def step(fn: _F) -> _F:
    """The library's ``@step``, typed as the signature-keeping decorator it is (when the
    library is not installed, the type checker sees its names as Any)."""
    decorated: _F = _step(fn)  # type: ignore[assignment, unused-ignore]
    return decorated


class Progress(Event):
    """The event between two steps."""

    i: int
    total: int


class P1(Progress): ...
class P2(Progress): ...
class P3(Progress): ...
class P4(Progress): ...
class P5(Progress): ...
class P6(Progress): ...
class P7(Progress): ...
class P8(Progress): ...
class P9(Progress): ...


class TenSteps(Workflow):
    """s0 .. s9, each routed by the type of the event the previous one returned."""

    @step
    async def s0(self, ev: StartEvent) -> P1:
        return P1(i=1, total=0)

    @step
    async def s1(self, ev: P1) -> P2:
        return P2(i=2, total=ev.total + ev.i * ev.i)

    @step
    async def s2(self, ev: P2) -> P3:
        return P3(i=3, total=ev.total + ev.i * ev.i)

    @step
    async def s3(self, ev: P3) -> P4:
        return P4(i=4, total=ev.total + ev.i * ev.i)

    @step
    async def s4(self, ev: P4) -> P5:
        return P5(i=5, total=ev.total + ev.i * ev.i)

    @step
    async def s5(self, ev: P5) -> P6:
        return P6(i=6, total=ev.total + ev.i * ev.i)

    @step
    async def s6(self, ev: P6) -> P7:
        return P7(i=7, total=ev.total + ev.i * ev.i)

    @step
    async def s7(self, ev: P7) -> P8:
        return P8(i=8, total=ev.total + ev.i * ev.i)

    @step
    async def s8(self, ev: P8) -> P9:
        return P9(i=9, total=ev.total + ev.i * ev.i)

    @step
    async def s9(self, ev: P9) -> StopEvent:
        return StopEvent(result=ev.total + ev.i * ev.i)


EXPECTED = sum(i * i for i in range(STEPS))


def runs_per_second(count: int) -> float:
    """``count`` runs one after another on one workflow object."""
    async def main() -> float:
        wf = TenSteps(timeout=None)
        start = time.perf_counter()
        for _ in range(count):
            result = await wf.run()
            if result != EXPECTED:
                raise AssertionError(f"TenSteps returned {result!r}, not {EXPECTED}")
        return count / (time.perf_counter() - start)

    return asyncio.run(main())
