"""The rules table: consistent, real, covered by the guard, documented."""

from __future__ import annotations

import builtins
import importlib
import os
import re
from pathlib import Path

import pytest

import replay.sandbox as sandbox
from replay.sandbox import _guard, _rules

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _resolve(dotted: str) -> object:
    """The object a dotted name such as ``concurrent.futures.ThreadPoolExecutor`` names."""
    if "." not in dotted:
        return getattr(builtins, dotted)
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part)
        return obj
    raise LookupError(dotted)


def test_codes_are_unique_and_sequential() -> None:
    codes = [rule.code for rule in sandbox.RULES]
    assert codes == [f"RPL-SB{i:02d}" for i in range(1, len(codes) + 1)]


def test_every_rule_explains_itself() -> None:
    for rule in sandbox.RULES:
        assert rule.why.startswith("workflow code must not "), rule.code
        assert ", because " in rule.why and not rule.why.endswith("."), rule.code
        assert rule.instead and not rule.instead.endswith("."), rule.code
        assert rule.title


#: Modules that exist on one platform only: the names under them are checked there.
PLATFORM_MODULES = {"nt": "nt", "posix": "posix"}


@pytest.mark.parametrize("call", sorted({c for r in sandbox.RULES for c in r.calls}))
def test_every_restricted_name_exists(call: str) -> None:
    platform_module = PLATFORM_MODULES.get(call.partition(".")[0])
    if platform_module is not None and os.name != platform_module:
        pytest.skip(f"{call} exists only where os.name == {platform_module!r}")
    assert _resolve(call) is not None


def test_each_call_belongs_to_one_rule() -> None:
    calls = [c for r in sandbox.RULES for c in r.calls]
    assert len(calls) == len(set(calls))


def test_runtime_patches_match_the_table() -> None:
    for module, attr, code in _guard.FUNCTION_PATCHES:
        assert f"{module}.{attr}" in _rules.BY_CODE[code].calls
    name, code = _guard.SWAPPED_BUILTIN
    assert name in _rules.BY_CODE[code].calls
    for _module, _cls, _method, call, code in _guard.METHOD_PATCHES:
        assert call in _rules.BY_CODE[code].calls or call.rsplit(".", 1)[0] in (
            _rules.BY_CODE[code].calls
        )


def test_every_runtime_rule_is_enforced_at_run_time() -> None:
    patched = {code for *_, code in _guard.FUNCTION_PATCHES + _guard.METHOD_PATCHES}
    swapped = {_guard.SWAPPED_BUILTIN[1]}
    with_events = {rule.code for rule in sandbox.RULES if rule.events}
    by_guard_module = {"RPL-SB01"}
    runtime = {rule.code for rule in sandbox.RULES if rule.runtime}
    assert runtime == patched | swapped | with_events | by_guard_module
    assert {rule.code for rule in sandbox.RULES if not rule.runtime} == {
        "RPL-SB12", "RPL-SB13", "RPL-SB16", "RPL-SB17",
    }  # fmt: skip


def test_docs_embed_the_rules_table() -> None:
    assert _rules.rules_markdown() in (DOCS / "sandbox.md").read_text()


def test_every_code_has_a_docs_section() -> None:
    pages = [DOCS / "sandbox.md", DOCS / "errors.md"]
    for page in [p for p in pages if p.exists()]:
        headings = re.findall(r"^## (RPL-SB\d\d): \S", page.read_text(), re.MULTILINE)
        assert sorted(headings) == [rule.code for rule in sandbox.RULES], page.name
