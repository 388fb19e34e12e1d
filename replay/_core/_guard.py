"""How an instance switches the determinism guard on around workflow code.

The core knows no sandbox: a worker or replayer hands an instance its
``GuardHooks``, which make one ``RunGuard`` factory per run from plain facts
about the run (no reference to the instance itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class RunGuard(Protocol):
    """The guard of one run for one stretch of its workflow code (a ``with`` block)."""

    def __enter__(self) -> object: ...
    def __exit__(self, exc_type: object, exc: object, tb: object) -> None: ...


class GuardHooks(Protocol):
    """Makes the determinism guard each run's workflow code runs under."""

    def for_run(self, *, run_id: str, workflow_type: str, sandbox_mode: str | None,
                fail_task: Callable[[BaseException], None]
                ) -> Callable[[], RunGuard] | None:
        """A factory of the run's guard, entered around every stretch of its workflow
        code; None when the run is not guarded.

        ``sandbox_mode`` is the workflow's own setting (None: the hooks' default);
        ``fail_task`` records a violation on the run, so that code which catches the
        error still fails its task.
        """
        ...
