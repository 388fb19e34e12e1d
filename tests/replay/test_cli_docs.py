"""docs/cli.md documents every command of the ``replay`` group (and nothing else)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from replay._cli._main import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
HEADINGS = set(re.findall(r"^## replay (\S+)$", DOC.read_text(), flags=re.MULTILINE))


@pytest.mark.parametrize("name", sorted(main.commands))
def test_command_is_documented(name: str) -> None:
    assert name in HEADINGS, f"add a '## replay {name}' section to docs/cli.md"


def test_no_section_for_a_command_that_does_not_exist() -> None:
    assert set(main.commands) >= HEADINGS


def test_debugging_doc_names_every_shell_command() -> None:
    from replay._cli._debug import Shell

    text = (DOC.parent / "debugging.md").read_text()
    for names in Shell.COMMANDS:
        assert f"`{names[0]}" in text, names[0]
        for alias in names[1:]:
            assert f"`{alias}`" in text, alias
    assert "`quit`" in text
