"""Source text of a workflow module, to build variants of it for code fingerprint tests.

``build(...)`` compiles ``SOURCE`` (after the edits given) into a fresh module
object under one module name, as a deploy would load changed code, so two
variants differ in exactly what a test edited.
"""

from __future__ import annotations

import sys
import types

NAME = "tests.replay.workflows._fingerprinted_variant"

SOURCE = '''
from datetime import timedelta

from replay import workflow

TIMEOUT = timedelta(seconds=10)
KINDS = frozenset({"charge", "refund", "ship", "bill", "pack"})
CACHE: dict[str, int] = {}


def pick(kind: str) -> str:
    return kind if kind in {"charge", "refund", "ship", "bill", "pack"} else "charge"


@workflow.defn(name="Fingerprinted")
class Fingerprinted:
    @workflow.run
    async def run(self, kind: str) -> str:
        # a comment
        await workflow.execute_activity(pick(kind), start_to_close_timeout=TIMEOUT)
        return "done"
'''


def build(*edits: tuple[str, str], filename: str = "fingerprinted_variant.py",
          padding: int = 0) -> types.ModuleType:
    """A fresh module compiled from SOURCE with each ``(old, new)`` text edit applied.

    ``padding`` blank lines go first (the same code on other lines); ``filename``
    is the path its code records.
    """
    source = SOURCE
    for old, new in edits:
        assert old in source, old
        source = source.replace(old, new)
    module = types.ModuleType(NAME)
    sys.modules[NAME] = module  # annotations resolve against it
    exec(compile("\n" * padding + source, filename, "exec"), module.__dict__)
    return module
