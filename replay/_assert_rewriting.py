"""Keeps pytest's assertion rewriting out of replay's own modules.

pytest marks for assertion rewriting every top-level package of a distribution
that registers a plugin (replay registers ``replay._pytest_plugin``), so in a
user's test run each replay module would be compiled by pytest's rewriter: its
namespace would gain names like ``@py_builtins`` and the engine's own asserts
would change. ``replay/__init__`` calls :func:`withdraw_rewrite_marks` before it
imports anything else, and the plugin calls it again as it loads (for a run in
which replay was imported before pytest marked it). This module and
``replay/__init__`` are imported while the mark still holds, so both opt out by
their docstrings: PYTEST_DONT_REWRITE.

pytest offers no public way to unmark a package; this reaches into its import
hook, does nothing when pytest is not running, and is pinned by
``tests/replay/test_pytest_plugin.py`` (a change in pytest fails that test).
"""

from __future__ import annotations

import sys

PACKAGE = "replay"


def _ours(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def withdraw_rewrite_marks() -> None:
    """Remove replay's names from pytest's assertion-rewriting import hook, if installed."""
    rewrite = sys.modules.get("_pytest.assertion.rewrite")
    hook_class = getattr(rewrite, "AssertionRewritingHook", None)
    if hook_class is None:
        return
    for finder in sys.meta_path:
        if not isinstance(finder, hook_class):
            continue
        marks = getattr(finder, "_must_rewrite", None)
        if isinstance(marks, set):
            marks.difference_update([m for m in marks if _ours(m)])
        cache = getattr(finder, "_marked_for_rewrite_cache", None)
        if isinstance(cache, dict):
            for name in [n for n in cache if _ours(n)]:
                del cache[name]
