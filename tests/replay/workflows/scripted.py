"""Workflows made from a script of steps, for the divergence property tests.

``scripted(steps)`` declares a fresh class under one workflow type name
("Scripted") that runs the steps in order: ``("activity", name)`` awaits an
activity, ``("timer", seconds)`` a durable timer and ``("emit", value)``
emits without waiting. Two scripts give two versions of one workflow.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from replay import workflow

Step = tuple[str, Any]
T = timedelta(seconds=30)


def scripted(steps: Sequence[Step]) -> type:
    """A new workflow class named "Scripted" that runs ``steps``."""
    script = tuple(steps)

    @workflow.defn(name="Scripted")
    class Scripted:
        @workflow.run
        async def run(self) -> int:
            for kind, arg in script:
                if kind == "activity":
                    await workflow.execute_activity(arg, start_to_close_timeout=T)  # @activity
                elif kind == "timer":
                    await asyncio.sleep(arg)  # @timer
                else:
                    workflow.emit(arg)  # @emit
            return len(script)  # @return

    return Scripted


def step_lines() -> dict[str, int]:
    """The line that issues each kind of step's command (what errors must point at), and
    the line that returns (where the run's completion is)."""
    lines, start = inspect.getsourcelines(scripted)
    found: dict[str, int] = {}
    for offset, line in enumerate(lines):
        for kind in ("activity", "timer", "emit", "return"):
            if line.rstrip().endswith(f"# @{kind}"):
                found[kind] = start + offset
    return found
