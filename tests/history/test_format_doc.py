"""docs/history-format.md documents every event kind and every field."""

from __future__ import annotations

import re
from pathlib import Path

import attrs

from replay.history import EVENT_KINDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "history-format.md"


def _sections() -> dict[str, str]:
    parts = re.split(r"^#### (\w+)\n", DOC.read_text(), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_event_kind_has_a_section_naming_all_its_fields() -> None:
    sections = _sections()
    assert set(sections) == set(EVENT_KINDS)
    for kind, cls in EVENT_KINDS.items():
        for field in attrs.fields(cls):
            if field.name not in ("event_id", "time"):
                assert f"`{field.name}`" in sections[kind], f"{kind}.{field.name} undocumented"
