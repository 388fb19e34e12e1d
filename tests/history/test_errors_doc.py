"""docs/errors.md explains every error code of the history package."""

from __future__ import annotations

import re
from pathlib import Path

import replay.history as history

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


def _history_codes() -> set[str]:
    seen: set[str] = set()
    todo = [history.ReplayError]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__.startswith("replay.history.") and cls is not history.ReplayError:
            seen.add(cls.code)
    return seen


def test_every_history_error_code_has_a_section() -> None:
    headings = re.findall(r"^## (RPL-[A-Z]+\d+): \S", DOC.read_text(), flags=re.M)
    assert len(headings) == len(set(headings)), "a code is documented twice"
    missing = _history_codes() - set(headings)
    assert not missing, f"docs/errors.md has no '## CODE: Title' section for {sorted(missing)}"


def test_the_codes_are_the_expected_ones() -> None:
    assert _history_codes() == {"RPL-H01", "RPL-P01", "RPL-S01", "RPL-S02", "RPL-S03",
                                "RPL-S04", "RPL-S05", "RPL-S06", "RPL-INT01"}
