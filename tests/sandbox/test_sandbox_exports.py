"""The public surface of ``sandbox`` is pinned (as httpx's tests/test_exported_members.py)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import replay.sandbox as sandbox

EXPECTED = [
    "Finding",
    "GuardContext",
    "Mode",
    "RULES",
    "RestrictedCallError",
    "Rule",
    "Violation",
    "current",
    "format_json",
    "format_text",
    "guard_module",
    "guarded",
    "install",
    "lint_main",
    "lint_paths",
    "unrestricted",
]


def test_all_is_pinned_plain_sorted_and_public() -> None:
    assert sandbox.__all__ == EXPECTED
    assert sandbox.__all__ == sorted(sandbox.__all__)
    assert not [name for name in sandbox.__all__ if name.startswith("_")]


def test_all_is_complete() -> None:
    public = {
        name
        for name, value in vars(sandbox).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == set(sandbox.__all__)


def test_public_classes_live_in_sandbox() -> None:
    classes = [getattr(sandbox, n) for n in sandbox.__all__ if inspect.isclass(getattr(sandbox, n))]
    assert classes
    assert {cls.__module__ for cls in classes} == {"replay.sandbox"}


def test_public_names_have_docstrings() -> None:
    for name in sandbox.__all__:
        value = getattr(sandbox, name)
        if callable(value):
            assert inspect.getdoc(value), name


def test_sandbox_imports_neither_replay_nor_history() -> None:
    package = Path(sandbox.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            tops = {name.partition(".")[0] for name in names}
            assert not tops & {"replay", "history"}, (path.name, names)
