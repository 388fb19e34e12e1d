"""The programs in examples/ported/ are written for the familiar SDK (``temporalio``
imports, ``Client.connect("localhost:7233")``). Each is ported here the way
docs/migrating.md tells users to, by rewriting only its import lines and its
connection line, and run in a subprocess against a real SQLite store; its output must
be what the program prints on the familiar engine. temporalio is not needed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PORTED = ROOT / "examples" / "ported"
MIGRATING = ROOT / "docs" / "migrating.md"

#: (familiar import, replay import): the import table of docs/migrating.md, in the order
#: the rewrite tries them (longest module first).
IMPORTS: list[tuple[str, str]] = [
    ("temporalio.api.common.v1", "replay.converter"),
    ("temporalio.contrib.pydantic", "replay.contrib.pydantic"),
    ("temporalio.client", "replay.client"),
    ("temporalio.worker", "replay.worker"),
    ("temporalio.common", "replay.common"),
    ("temporalio.exceptions", "replay.exceptions"),
    ("temporalio.testing", "replay.testing"),
    ("temporalio.converter", "replay.converter"),
    ("temporalio", "replay"),
]
CONNECT = re.compile(r'Client\.connect\(\s*"localhost:7233"\s*(,\s*)?')


def port_line(line: str) -> str:
    """One line of a familiar program, ported: an import of a ``temporalio`` module names
    the matching ``replay`` module; ``Client.connect("localhost:7233", ...)`` drops the
    server address (the store comes from $REPLAY_DB)."""
    match = re.match(r"^(\s*)(from|import)\s+(temporalio[\w.]*)(.*)$", line)
    if match:
        indent, word, module, rest = match.groups()
        for familiar, ours in IMPORTS:
            if module == familiar or module.startswith(familiar + "."):
                return f"{indent}{word} {ours}{module[len(familiar):]}{rest}"
        raise AssertionError(f"no rule ports {module!r}: add it to docs/migrating.md")
    return CONNECT.sub("Client.connect(", line)


def port(source: str) -> str:
    return "\n".join(port_line(line) for line in source.split("\n"))


EXPECTED: dict[str, list[str]] = {
    "activities_retries.py": [
        "charged 42 after 3 attempts: RECEIPT-ADA-42",
        "refused bob: amount must be positive",
    ],
    "signals_queries.py": [
        "count: 3",
        "names: Ada, Grace, Barbara",
        "Hello, Ada!", "Hello, Grace!", "Hello, Barbara!",
    ],
    "updates_validators.py": [
        "total: 2",
        "rejected: quantity of ink must be positive",
        "total: 5",
        "checkout: 2 distinct items",
        "cart: {'pen': 2, 'pad': 3}",
    ],
    "child_workflows.py": ["3 chapters, 11 words, epilogue 2 words"],
    "pydantic_models.py": ["Total Ada 4.00 2"],
    "timers_cancellation.py": [
        "reminder: nobody acknowledged",
        "hold: CancelledError True",
        "hold status: CANCELED",
    ],
    "compression_codec.py": ["SQUEEZED SQUEEZED SQ 181"],
}


def test_every_ported_example_is_checked_and_there_are_at_least_five() -> None:
    assert sorted(p.name for p in PORTED.glob("*.py")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 5


def test_the_port_rules_are_the_documented_ones() -> None:
    doc = MIGRATING.read_text()
    for familiar, ours in IMPORTS:
        assert f"`{familiar}`" in doc and f"`{ours}`" in doc, (familiar, ours)
    assert 'Client.connect("localhost:7233"' in doc


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_ported_example_runs_on_sqlite(name: str, tmp_path: Path) -> None:
    original = (PORTED / name).read_text()
    assert "from temporalio" in original and 'Client.connect("localhost:7233"' in original
    ported = port(original)
    changed = [(a, b) for a, b in zip(original.split("\n"), ported.split("\n"), strict=True)
               if a != b]
    assert changed, "nothing was ported"
    for before, after in changed:  # only imports and the connection line
        assert re.match(r"\s*(from|import) temporalio", before) or "Client.connect(" in before
        assert "temporalio" not in after
    assert "temporalio" not in ported
    program = tmp_path / name
    program.write_text(ported)
    db = tmp_path / "ported.db"
    env = {**os.environ, "REPLAY_DB": str(db), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == EXPECTED[name], done.stderr
    assert db.is_file()  # the runs went to a real SQLite store
    if name == "compression_codec.py":
        assert b"squeezed" not in b"".join(p.read_bytes() for p in tmp_path.glob("ported.db*"))
