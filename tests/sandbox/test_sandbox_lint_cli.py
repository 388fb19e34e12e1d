"""Output formats and ``lint_main`` exit codes (the future ``replay lint PATH...``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sandbox_marks import SAMPLES, marks

import replay.sandbox as sandbox


def test_format_text_one_line_per_finding() -> None:
    findings = sandbox.lint_paths([SAMPLES / "lint_noqa.py"])
    (finding,) = findings
    assert sandbox.format_text(findings) == (
        f"{SAMPLES / 'lint_noqa.py'}:{finding.line}:{finding.col}: RPL-SB01 time.time() called "
        "in workflow 'Suppressed': workflow code must not read the wall clock, because a "
        "replay would see a different time (use: workflow.now() / workflow.time())\n"
    )
    assert sandbox.format_text([]) == ""


def test_format_json_round_trips() -> None:
    findings = sandbox.lint_paths([SAMPLES / "lint_state.py"])
    data = json.loads(sandbox.format_json(findings))
    assert [sandbox.Finding(**item) for item in data] == findings
    assert set(data[0]) == {"path", "line", "col", "code", "message", "instead"}
    assert json.loads(sandbox.format_json([])) == []


def test_exit_1_on_findings(capsys: pytest.CaptureFixture[str]) -> None:
    assert sandbox.lint_main([str(SAMPLES / "violations.py")]) == 1
    out = capsys.readouterr().out
    assert out.count("\n") == len(sandbox.lint_paths([SAMPLES / "violations.py"]))
    line = next(m.line for m in marks(SAMPLES / "violations.py") if m.function == "wall_clock")
    assert f"violations.py:{line}:12: RPL-SB01 time.time() called in wall_clock()" in out


def test_exit_0_when_clean(capsys: pytest.CaptureFixture[str]) -> None:
    clean = [str(SAMPLES / "lint_clean.py"), str(SAMPLES / "allowed.py")]
    assert sandbox.lint_main(clean) == 0
    assert capsys.readouterr().out == ""


def test_json_format_and_select(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--format", "json", "--select", "RPL-SB12,RPL-SB13", str(SAMPLES)]
    assert sandbox.lint_main(argv) == 1
    data = json.loads(capsys.readouterr().out)
    assert {item["code"] for item in data} == {"RPL-SB12", "RPL-SB13"}
    assert sandbox.lint_main(["--select", "RPL-SB04", str(SAMPLES / "lint_state.py")]) == 0


def test_exit_2_on_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sandbox.lint_main([]) == 2
    assert sandbox.lint_main(["--format", "xml", str(SAMPLES)]) == 2
    assert sandbox.lint_main([str(tmp_path / "missing.py")]) == 2
    assert "missing.py" in capsys.readouterr().err
    broken = tmp_path / "broken.py"
    broken.write_text("class (:\n")
    assert sandbox.lint_main([str(broken)]) == 2
    assert "replay lint: error:" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert sandbox.lint_main(["--help"]) == 0
    assert "RPL-SB01 clock" in capsys.readouterr().out
