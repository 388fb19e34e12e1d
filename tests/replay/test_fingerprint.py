"""Code fingerprints of workflow classes (replay/_core/_fingerprint.py).

The fingerprint must change with the code (its bytecode, its constants, the
helpers of its module, a factory's closure) and must not change with what is
not code: line numbers, file paths, comments, mutable module state, the
process's string hash seed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from replay._core._fingerprint import LENGTH, code_fingerprint
from replay.history import WorkflowTaskCompleted
from replay.testing import WorkflowDriver

from .workflows import fingerprinted
from .workflows.scripted import scripted

ROOT = Path(__file__).resolve().parents[2]


def _fingerprint(*edits: tuple[str, str], **options: Any) -> str:
    return code_fingerprint(fingerprinted.build(*edits, **options).Fingerprinted)


def test_a_fingerprint_is_short_hex_and_computed_once_per_class() -> None:
    cls = fingerprinted.build().Fingerprinted
    first = code_fingerprint(cls)
    assert len(first) == LENGTH and int(first, 16) >= 0
    assert code_fingerprint(cls) is first


def test_what_is_not_code_leaves_the_fingerprint_alone() -> None:
    base = _fingerprint()
    assert _fingerprint(padding=7) == base  # every line moved
    assert _fingerprint(filename="/elsewhere/checkout/variant.py") == base
    assert _fingerprint(("# a comment", "# another comment, longer")) == base
    module = fingerprinted.build()
    module.CACHE["runs"] = 3  # mutable state the code may change as it runs
    assert code_fingerprint(module.Fingerprinted) == base


def test_code_changes_change_the_fingerprint() -> None:
    base = _fingerprint()
    edits = [
        ('return "done"', 'return "finished"'),  # a literal in the run method
        ("seconds=10", "seconds=20"),  # a module constant
        ('else "charge"', 'else "refund"'),  # a helper in the module
        ("async def run(self, kind: str) -> str:",
         "async def run(self, kind: str, extra: int = 0) -> str:"),  # a default
    ]
    fingerprints = {_fingerprint(edit) for edit in edits}
    assert base not in fingerprints and len(fingerprints) == len(edits)


def test_a_factory_closure_is_part_of_the_code() -> None:
    one = code_fingerprint(scripted([("activity", "charge")]))
    assert code_fingerprint(scripted([("activity", "charge")])) == one
    assert code_fingerprint(scripted([("activity", "refund")])) != one


def test_the_fingerprint_is_the_same_under_every_string_hash_seed() -> None:
    # the code holds frozensets of strings, whose order follows the hash seed
    script = ("from tests.replay.workflows import fingerprinted\n"
              "from replay._core._fingerprint import code_fingerprint\n"
              "print(code_fingerprint(fingerprinted.build().Fingerprinted))\n")
    seen = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True)
        seen.add(out.stdout.strip())
    assert seen == {_fingerprint()}


def test_each_activation_records_the_fingerprint_of_its_code() -> None:
    cls = fingerprinted.build().Fingerprinted
    d = WorkflowDriver(cls, "ship")
    d.step()
    closing = [e for e in d.events if isinstance(e, WorkflowTaskCompleted)]
    assert closing and {e.code_fingerprint for e in closing} == {code_fingerprint(cls)}
