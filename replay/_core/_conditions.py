"""The predicates ``workflow.wait_condition`` waits on, for one run.

They are checked when the loop has nothing left to run: the first one that
holds is resolved, its waiter runs, and the check starts over, so conditions
resolve one at a time, in the order they were created.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Conditions:
    """Pending ``wait_condition`` predicates of one run, each with its waiter's future."""

    def __init__(self, on_error: Callable[[BaseException], None]) -> None:
        self._on_error = on_error
        self._pending: list[tuple[Callable[[], bool], asyncio.Future[bool]]] = []

    def add(self, fn: Callable[[], bool], fut: asyncio.Future[bool]) -> None:
        """Resolve ``fut`` once ``fn()`` holds."""
        self._pending.append((fn, fut))

    def resolve_one(self) -> bool:
        """Resolve the first condition that holds; False if none does (or one raised:
        a predicate that raises is a workflow bug, reported to ``on_error``)."""
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
                self._on_error(exc)
                return False
            if ok:
                del conditions[i]
                fut.set_result(True)
                return True
            i += 1
        return False
