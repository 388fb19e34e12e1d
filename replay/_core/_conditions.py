"""The predicates ``workflow.wait_condition`` waits on, for one run.

They are checked when the loop has nothing left to run: the first one that
holds is resolved, its waiter runs, and the check starts over, so conditions
resolve one at a time, in the order they were created.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol


class ConditionHost(Protocol):
    """The run the conditions belong to (its WorkflowInstance)."""

    def fail_task(self, exc: BaseException) -> None:
        """A predicate raised: a workflow bug."""
        ...


class Conditions:
    """Pending ``wait_condition`` predicates of one run, each with its waiter's future."""

    # the run itself, not its bound fail_task: one object less per cached run
    __slots__ = ("_pending", "_run")

    def __init__(self, run: ConditionHost) -> None:
        self._run = run
        self._pending: list[tuple[Callable[[], bool], asyncio.Future[bool]]] = []

    def add(self, fn: Callable[[], bool], fut: asyncio.Future[bool]) -> None:
        """Resolve ``fut`` once ``fn()`` holds."""
        self._pending.append((fn, fut))

    def resolve_one(self) -> bool:
        """Resolve the first condition that holds; False if none does (or one raised:
        a predicate that raises is a workflow bug, reported to the run's ``fail_task``)."""
        conditions = self._pending
        i = 0
        while i < len(conditions):
            fn, fut = conditions[i]
            if fut.done():
                del conditions[i]
                continue
            try:
                ok = fn()
            except Exception as exc:
                self._run.fail_task(exc)
                return False
            if ok:
                del conditions[i]
                fut.set_result(True)
                return True
            i += 1
        return False
