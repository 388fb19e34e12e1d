"""Reads the ``# mark: CODE [lint-only|runtime-only]`` comments of the sample modules."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from types import ModuleType

import attrs

SAMPLES = Path(__file__).parent / "samples"
_MARK = re.compile(r"# mark: (?P<code>RPL-SB\d\d)(?: (?P<only>lint-only|runtime-only))?")


@attrs.frozen
class Mark:
    """A line of a sample that breaks a rule, and the function it is in."""

    line: int
    code: str
    only: str | None
    function: str | None


def marks(path: Path) -> list[Mark]:
    """Every mark in a sample file, in line order."""
    source = path.read_text()
    functions = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    found = []
    for number, text in enumerate(source.splitlines(), start=1):
        match = _MARK.search(text)
        if match is None:
            continue
        inside = [f for f in functions if f.lineno <= number <= (f.end_lineno or f.lineno)]
        innermost = max(inside, key=lambda f: f.lineno).name if inside else None
        found.append(Mark(number, match["code"], match["only"], innermost))
    return found


def mark_in(module: ModuleType, function: str) -> Mark:
    """The one mark inside ``function`` of a sample module."""
    (mark,) = [m for m in marks(Path(str(module.__file__))) if m.function == function]
    return mark


def where(module: ModuleType, line: int) -> str:
    """``path:LINE`` as the guard reports it (relative to the working directory if inside)."""
    path = str(module.__file__)
    cwd = os.getcwd()
    if path.startswith(cwd + os.sep):
        path = path[len(cwd) + 1 :]
    return f"{path}:{line}"
