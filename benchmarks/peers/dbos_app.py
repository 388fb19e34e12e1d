"""DBOS's side: the same 10-step workflow with ``@DBOS.step`` and ``@DBOS.workflow``.

Importing this module registers the functions with DBOS; ``launch(path)``
configures DBOS with a SQLite system database at ``path`` and launches it
(DBOS is one instance per process). The workflow and step are synchronous
functions: DBOS's sync API measured faster here than its async one (about
47 vs 39 workflows/s one after another, 39 vs 31 concurrently, in a trial).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from dbos import DBOS, SetWorkflowID
from dbos._dbos import _get_dbos_instance

APP = "replay-bench"
SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}

_F = TypeVar("_F", bound=Callable[..., Any])


def _keeps_signature(decorator: Callable[[_F], Any]) -> Callable[[_F], _F]:
    """A DBOS decorator, typed as the signature-keeping decorator it is (when DBOS is
    not installed, the type checker sees its names as Any)."""

    def apply(fn: _F) -> _F:
        decorated: _F = decorator(fn)
        return decorated

    return apply


@_keeps_signature(DBOS.step())
def step(i: int) -> int:
    """One durable step."""
    return i * i


@_keeps_signature(DBOS.workflow())
def steps_workflow(n: int) -> int:
    """``n`` steps one after another."""
    total = 0
    for i in range(n):
        total += step(i)
    return total


def launch(path: Path) -> None:
    """Start DBOS on a SQLite system database file (created if missing)."""
    DBOS(config={"name": APP, "system_database_url": f"sqlite:///{path}",
                 "log_level": "WARNING"})
    DBOS.launch()


def destroy() -> None:
    DBOS.destroy(destroy_registry=False)


def pragmas() -> dict[str, str]:
    """journal_mode and synchronous as DBOS's own connections run them."""
    engine: Any = _get_dbos_instance()._sys_db.engine  # no public accessor for it
    with engine.connect() as conn:
        journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    return {"journal_mode": str(journal).upper(), "synchronous": SYNCHRONOUS[int(sync)]}


def sequential(count: int, steps: int) -> float:
    """Workflows/s for ``count`` workflows called one after another."""
    start = time.perf_counter()
    for _ in range(count):
        steps_workflow(steps)
    return count / (time.perf_counter() - start)


def concurrent(count: int, steps: int) -> float:
    """Workflows/s for ``count`` workflows started at once (DBOS.start_workflow)."""
    start = time.perf_counter()
    handles = [DBOS.start_workflow(steps_workflow, steps) for _ in range(count)]
    for h in handles:
        h.get_result(polling_interval_sec=0.005)
    return count / (time.perf_counter() - start)


def start(workflow_id: str, steps: int) -> Any:
    """Start ``steps_workflow(steps)`` under a fixed id (the recovery test's run)."""
    with SetWorkflowID(workflow_id):
        return DBOS.start_workflow(steps_workflow, steps)
