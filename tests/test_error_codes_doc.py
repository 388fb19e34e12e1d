"""Every error code used anywhere in the code base has a section in docs/errors.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = re.compile(r"RPL-[A-Z]+\d{2,}")


def _codes_in_source() -> set[str]:
    found: set[str] = set()
    for package in ("replay", "history", "sandbox"):
        for path in (ROOT / package).rglob("*.py"):
            found |= set(CODE.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_code_in_the_source_is_documented() -> None:
    doc = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (RPL-[A-Z]+\d+): \S", doc, flags=re.M)
    assert len(headings) == len(set(headings)), "a code is documented twice"
    missing = _codes_in_source() - set(headings)
    assert not missing, f"docs/errors.md has no '## CODE: Title' section for {sorted(missing)}"


def test_the_source_uses_a_known_set_of_code_families() -> None:
    families = {re.sub(r"\d+$", "", c) for c in _codes_in_source()}
    assert families <= {"RPL-A", "RPL-C", "RPL-D", "RPL-DBG", "RPL-F", "RPL-H", "RPL-INT",
                        "RPL-L", "RPL-ND", "RPL-P", "RPL-Q", "RPL-R", "RPL-RO", "RPL-S",
                        "RPL-SB", "RPL-T", "RPL-W", "RPL-WT"}
