"""Invariants 2 and 3 for every fixture workflow, through check_determinism.

Each generated schedule of signals, updates, queries, activity and child
outcomes, timers, cancellation and crashes must replay to the same commands,
result and query answers, and survive crashes with an identical history.
Examples per workflow follow the hypothesis profile (``ci`` or ``soak``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from fixtures.workflows import (
    ApprovalWorkflow,
    BatchWorkflow,
    CancellableWorkflow,
    ChildWorkflow,
    FailingWorkflow,
    OrderWorkflow,
    ParentWorkflow,
    PatchedWorkflow,
    TimerWorkflow,
    WaitingWorkflow,
)
from fixtures.workflows.activities import ALL_ACTIVITIES, Order
from replay.testing import check_determinism

CASES: list[tuple[type, tuple[Any, ...]]] = [
    (ApprovalWorkflow, ("Ada",)),
    (BatchWorkflow, (2,)),
    (CancellableWorkflow, ()),
    (ChildWorkflow, (3,)),
    (FailingWorkflow, ("no budget",)),
    (OrderWorkflow, (Order("A1", 3),)),
    (ParentWorkflow, (4,)),
    (PatchedWorkflow, (5,)),
    (TimerWorkflow, (2,)),
    (WaitingWorkflow, ()),
]


@pytest.mark.parametrize(("workflow", "args"), CASES, ids=[c[0].__name__ for c in CASES])
def test_replay_and_crash_equivalence(workflow: type, args: tuple[Any, ...],
                                      tmp_path: Path) -> None:
    report = check_determinism(workflow, args=args, activities=ALL_ACTIVITIES,
                               workflows=[ChildWorkflow],
                               hypothesis_settings=settings(settings.default, database=None),
                               save_dir=tmp_path)
    assert report.examples >= 1
    print(f"{report.workflow_type}: {report.examples} examples, "
          f"{1000 * report.seconds_per_example:.2f} ms per example")
