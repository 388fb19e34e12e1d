"""Every saved history in fixtures/histories/ still loads (the format's compatibility promise)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replay.history import History

FILES = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "histories").glob("*.json"))


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_golden_history_loads_and_round_trips(path: Path) -> None:
    history = History.load(path)
    assert json.loads(path.read_text())["version"] == 1
    assert History.from_json(history.to_json()) == history
