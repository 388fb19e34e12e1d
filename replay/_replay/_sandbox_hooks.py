"""Switches the sandbox's runtime guard on around workflow code.

The guard is installed once per process and costs a context-variable switch
per activation. A violation is recorded on the instance before it is raised,
so workflow code that catches RestrictedCallError still fails its task in
strict mode (the worker retries the task once the code is fixed).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Sequence

import replay.sandbox as sandbox
from replay.history import ReplayError

from .._core._definition import WorkflowDefinition

MODES = ("strict", "warn", "off")


class RestrictedCallError(sandbox.RestrictedCallError, ReplayError):
    """Workflow code made a call that would make a replay diverge (see its message).

    Its code is the sandbox rule's (``RPL-SB01`` ... ``RPL-SB11``), so it varies
    per instance; the fields are those of ``replay.sandbox.RestrictedCallError``.
    """

    def __init__(self, violation: sandbox.Violation) -> None:
        ReplayError.__init__(self, violation.text, code=violation.rule.code)
        self._keep(violation)

    # pickled like every ReplayError (fields and cause kept), not like the sandbox's base
    __reduce__ = ReplayError.__reduce__


class SandboxGuard:
    """GuardHooks for a worker or replayer: one mode, optional pass-through modules."""

    def __init__(self, mode: str = "strict", passthrough_modules: Iterable[str] = ()) -> None:
        if mode not in MODES:
            raise ValueError(f"sandbox mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self.passthrough = frozenset(passthrough_modules)

    def prepare(self, workflows: Sequence[type]) -> None:
        """Install the guard and prepare each workflow's module (once each)."""
        for cls in workflows:
            d = WorkflowDefinition.of(cls)
            if (d.sandbox_mode or self.mode) == "off":
                continue
            module = sys.modules.get(cls.__module__)
            if module is not None and not module.__name__.startswith("replay."):
                # a standard-library or engine module raises ValueError: nothing to do
                with contextlib.suppress(ValueError):
                    sandbox.guard_module(module)

    def for_run(self, *, run_id: str, workflow_type: str, sandbox_mode: str | None,
                fail_task: Callable[[BaseException], None]
                ) -> Callable[[], sandbox.guarded] | None:
        """GuardHooks: the run's guard factory (None when its mode is ``off``).

        In strict mode a violation fails the task through ``fail_task`` even when
        workflow code catches the error.
        """
        mode = sandbox_mode or self.mode
        if mode == "off":
            return None
        return _RunGuard(run_id=run_id, workflow_type=workflow_type, mode=mode,
                         passthrough=self.passthrough, fail_task=fail_task)


class _RunGuard:
    """One run's guard factory (one object per run: a worker caches many runs)."""

    __slots__ = ("_ctx", "_fail_task")

    def __init__(self, *, run_id: str, workflow_type: str, mode: str,
                 passthrough: frozenset[str], fail_task: Callable[[BaseException], None]
                 ) -> None:
        self._fail_task = fail_task if mode == "strict" else None
        self._ctx = sandbox.GuardContext(
            workflow_type=workflow_type, run_id=run_id, mode=mode,
            error_type=RestrictedCallError, passthrough_modules=passthrough,
            on_violation=self._record)

    def __call__(self) -> sandbox.guarded:
        return sandbox.guarded(self._ctx)

    def _record(self, violation: sandbox.Violation) -> None:
        if self._fail_task is not None:  # strict mode
            self._fail_task(RestrictedCallError(violation))


def guard_for(mode: str, passthrough_modules: Iterable[str] = ()) -> SandboxGuard:
    """The guard hooks for a worker or replayer in ``mode`` (strict, warn or off)."""
    return SandboxGuard(mode, passthrough_modules)
