"""The static lint on the sample modules: every marked line, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from sandbox_marks import SAMPLES, marks

import replay.sandbox as sandbox
from replay.sandbox._lint import lint_source


def _found(path: Path) -> set[tuple[int, str]]:
    return {(f.line, f.code) for f in sandbox.lint_paths([path])}


def _expected(path: Path) -> set[tuple[int, str]]:
    return {(m.line, m.code) for m in marks(path) if m.only != "runtime-only"}


@pytest.mark.parametrize(
    "name",
    ["violations.py", "lint_aliases.py", "lint_state.py", "lint_noqa.py", "lint_order.py"],
)
def test_lint_reports_exactly_the_marked_lines(name: str) -> None:
    assert _found(SAMPLES / name) == _expected(SAMPLES / name)


def test_every_rule_is_reported_somewhere_by_the_lint() -> None:
    codes = {f.code for f in sandbox.lint_paths([SAMPLES])}
    assert codes == {rule.code for rule in sandbox.RULES}


@pytest.mark.parametrize(
    "name",
    ["allowed.py", "lint_clean.py", "thirdparty.py", "workflow.py", "spoofed.py", "hashing.py"],
)
def test_clean_samples_have_no_findings(name: str) -> None:
    assert sandbox.lint_paths([SAMPLES / name]) == []


def test_finding_fields() -> None:
    path = SAMPLES / "violations.py"
    line = next(m.line for m in marks(path) if m.function == "wall_clock")
    finding = next(f for f in sandbox.lint_paths([path]) if f.line == line)
    assert finding == sandbox.Finding(
        path=str(path),
        line=line,
        col=12,
        code="RPL-SB01",
        message="time.time() called in wall_clock(), used in workflow 'BreaksEveryRule': "
        "workflow code must not read the wall clock, because a replay would see a different "
        "time",
        instead="workflow.now() / workflow.time()",
    )


def test_messages_name_the_workflow_or_the_helper() -> None:
    findings = sandbox.lint_paths([SAMPLES / "lint_aliases.py"])
    messages = {f.message.split(":")[0] for f in findings}
    assert "time.time() called in workflow 'RenamedDecorator'" in messages
    assert "time.monotonic() called in second_helper(), used in workflow 'UsesHelpers'" in messages
    assert "os.environ read in workflow 'UsesHelpers'" in messages
    state = sandbox.lint_paths([SAMPLES / "lint_state.py"])
    assert {f.message.split(":")[0] for f in state} >= {
        "assigns module global 'counter' in workflow 'SharesState'",
        "mutates module-level 'SEEN' in remember(), used in workflow 'SharesState'",
    }


def test_select_keeps_codes_by_prefix() -> None:
    selected = sandbox.lint_paths([SAMPLES], select=["RPL-SB12", "RPL-SB02"])
    assert {f.code for f in selected} == {"RPL-SB12", "RPL-SB02"}
    assert {f.code for f in sandbox.lint_paths([SAMPLES], select=["RPL-SB1"])} == {
        "RPL-SB10", "RPL-SB11", "RPL-SB12", "RPL-SB13", "RPL-SB14", "RPL-SB15", "RPL-SB16",
        "RPL-SB17",
    }  # fmt: skip


def test_directories_are_walked_in_order() -> None:
    findings = sandbox.lint_paths([SAMPLES])
    paths = [Path(f.path).name for f in findings]
    assert paths == sorted(paths)
    assert set(paths) == {
        "lint_aliases.py", "lint_noqa.py", "lint_order.py", "lint_state.py", "violations.py",
    }  # fmt: skip


def test_missing_path_and_syntax_errors_raise(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        sandbox.lint_paths([tmp_path / "nope.py"])
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n")
    with pytest.raises(SyntaxError):
        sandbox.lint_paths([broken])


def test_decorator_spellings() -> None:
    template = (
        "{imports}\n\n@{decorator}\nclass W:\n    def run(self):\n        return time.time()\n"
    )
    cases = {
        "import time\nfrom replay.workflow import defn": "defn",
        "import time\nfrom replay import workflow": "workflow.defn",
        "import time\nfrom temporalio import workflow": "workflow.defn()",
        "import time\nimport temporalio.workflow as twf": "twf.defn(sandboxed=False)",
        "import time\nfrom replay import defn as make_workflow": "make_workflow",
        "import time\nimport replay.workflow as rw": "rw.defn",
    }
    for imports, decorator in cases.items():
        source = template.format(imports=imports, decorator=decorator)
        assert [f.code for f in lint_source(source)] == ["RPL-SB01"], source
    not_workflows = template.format(imports="import time", decorator="dataclasses.dataclass")
    assert lint_source(not_workflows) == []


def _messages(code: str) -> list[str]:
    return [f.message for f in sandbox.lint_paths([SAMPLES / "lint_order.py"]) if f.code == code]


def test_order_messages_name_the_set_and_the_place() -> None:
    starts = {m.split(":")[0] for m in _messages("RPL-SB16")}
    assert "iterates over set 'unique' in workflow 'WalksSets'" in starts
    assert "iterates over set 'self.pending' in workflow 'WalksSets'" in starts
    assert "passes set 'unique' to list() in workflow 'WalksSets'" in starts
    assert "takes an arbitrary element of set 'unique' with pop() in workflow 'WalksSets'" in starts
    assert "passes set 'REGIONS' to iter() in first_region(), used in workflow 'WalksSets'" in (
        starts
    )
    assert "iterates over set 'pending' in workflow 'WaitsOnTasks'" in starts


def test_asyncio_wait_carries_a_note_and_as_completed_does_not() -> None:
    wait, _, as_completed = _messages("RPL-SB17")
    assert wait.startswith("asyncio.wait() called in workflow 'WaitsOnTasks'")
    assert "safe only for `in` tests" in wait and "workflow.wait() returns lists" in wait
    assert as_completed.startswith("asyncio.as_completed() called")
    assert "`in` tests" not in as_completed


@pytest.mark.parametrize("code", ["RPL-SB15", "RPL-SB16", "RPL-SB17"])
def test_new_rules_name_their_replacement(code: str) -> None:
    findings = [f for f in sandbox.lint_paths([SAMPLES / "lint_order.py"]) if f.code == code]
    rule = next(r for r in sandbox.RULES if r.code == code)
    assert findings and {f.instead for f in findings} == {rule.instead}
    assert all(f"(use: {rule.instead})" in sandbox.format_text([f]) for f in findings)
    replacement = {"RPL-SB15": "hashlib", "RPL-SB16": "sorted(", "RPL-SB17": "workflow.wait()"}
    assert replacement[code] in rule.instead


def test_set_kinds_from_annotations_and_bindings() -> None:
    template = (
        "from replay import workflow\n"
        "import typing\n\n"
        "@workflow.defn\n"
        "class W:\n"
        "    def run(self, {params}):\n"
        "        {body}\n"
        "        for x in s:\n"
        "            pass\n"
    )
    flagged = {
        ("s: set[int]", "pass"),
        ("s: 'frozenset[str]'", "pass"),
        ("s: typing.Optional[typing.AbstractSet[str]]", "pass"),
        ("s: set[str] | None", "pass"),
        ("t", "s = t & {1}"),
        ("t", "s = {1}.union(t)"),
        ("t", "s = (y := {1, 2})"),
    }
    clean = {
        ("s", "pass"),
        ("s: list[int]", "pass"),
        ("s: set[int] | list[int]", "pass"),
        ("t", "s = t - 1"),
        ("t", "s = set(t)\n        s = list(s)"),
        ("t", "set = list\n        s = set(t)"),  # a local named set
    }
    for params, body in flagged | clean:
        source = template.format(params=params, body=body)
        codes = [f.code for f in lint_source(source)]
        assert codes == (["RPL-SB16"] if (params, body) in flagged else []), source
