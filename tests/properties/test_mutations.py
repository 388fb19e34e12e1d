"""Divergence is never silent: mutated workflows fail replay of the original histories.

Reports the detection rate (mutant x history pairs that raised NondeterminismError)
and fails below 100%.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.workflows import ALL_WORKFLOWS
from replay._core import _definition
from replay._core._definition import WorkflowDefinition
from replay.exceptions import NondeterminismError
from replay.history import History
from replay.worker import Replayer

HISTORIES = Path(__file__).parents[2] / "fixtures" / "histories"


def _name(cls: type) -> str:
    return WorkflowDefinition.of(cls).name or cls.__name__


@pytest.fixture
def mutants() -> Iterator[list[type]]:
    """The mutant classes, imported here: declaring them re-registers the original
    type names process-wide (clients look workflows up by name), so undo that after."""
    saved = dict(_definition._KNOWN)
    try:
        yield importlib.import_module(f"{__package__}.mutants").MUTANTS
    finally:
        _definition._KNOWN.clear()
        _definition._KNOWN.update(saved)


def test_every_mutant_is_detected_on_every_history_of_its_type(mutants: list[type]) -> None:
    histories = [History.load(p) for p in sorted(HISTORIES.glob("*.json"))]
    pairs = detected = 0
    missed: list[str] = []
    for mutant in mutants:
        name = _name(mutant)
        others = [w for w in ALL_WORKFLOWS if _name(w) != name]
        replayer = Replayer(workflows=[mutant, *others])
        only = getattr(mutant, "ONLY_RUNS", None)
        mine = [h for h in histories if h.workflow_type == name
                and (only is None or h.run_id in only)]
        assert mine, f"no fixture history of {name} for mutant {mutant.__name__}"
        for h in mine:
            pairs += 1
            result = replayer.replay_sync(h, raise_on_replay_failure=False)
            if isinstance(result.replay_failure, NondeterminismError):
                detected += 1
            else:
                missed.append(f"{mutant.__name__} ({mutant.__doc__}) on {h.run_id}: "
                              f"{result.replay_failure!r}")
    rate = detected / pairs
    print(f"mutation detection rate: {detected}/{pairs} = {rate:.0%}")
    assert rate == 1.0, "undetected mutants:\n" + "\n".join(missed)
