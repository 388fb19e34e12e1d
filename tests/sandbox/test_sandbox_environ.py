"""os.environ: reads are guarded in workflow code, everyone else sees the same mapping."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from samples import violations

import replay.sandbox as sandbox


def test_environ_outside_the_guard_behaves_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.install()
    assert isinstance(os.environ, os._Environ)
    monkeypatch.setenv("SANDBOX_TEST_VAR", "1")
    assert os.environ["SANDBOX_TEST_VAR"] == "1"
    assert os.environ.get("SANDBOX_TEST_VAR") == "1"
    assert os.getenv("SANDBOX_TEST_VAR") == "1"
    assert "SANDBOX_TEST_VAR" in os.environ
    assert dict(os.environ)["SANDBOX_TEST_VAR"] == "1"
    assert os.environ.copy()["SANDBOX_TEST_VAR"] == "1"
    assert "SANDBOX_TEST_VAR" in list(os.environ)
    monkeypatch.delenv("SANDBOX_TEST_VAR")
    assert "SANDBOX_TEST_VAR" not in os.environ
    assert os.environ.get("SANDBOX_TEST_VAR", "d") == "d"


def test_child_processes_still_inherit_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_TEST_VAR", "inherited")
    code = "import os; print(os.environ['SANDBOX_TEST_VAR'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "inherited"


def test_every_read_is_guarded_in_workflow_code() -> None:
    ctx = sandbox.GuardContext(workflow_type="W", run_id="r")
    for fn in (violations.environ_item, violations.environ_get, violations.environ_contains):
        expected = pytest.raises(sandbox.RestrictedCallError, match=r"RPL-SB06.* read os\.environ")
        with expected, sandbox.guarded(ctx):
            fn()


def test_stdlib_reading_the_environment_for_itself_is_allowed() -> None:
    seen: list[sandbox.Violation] = []
    ctx = sandbox.GuardContext(workflow_type="W", run_id="r", on_violation=seen.append)
    with sandbox.guarded(ctx):
        home = os.path.expanduser("~")  # posixpath reads HOME on its own behalf
    assert home and seen == []
