"""The pytest plugin: fixtures and --replay-histories, run through pytester."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from replay._core import _definition

pytest_plugins = ["pytester"]

ARGS = ("-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function")
ROOT = Path(__file__).parents[2]
HISTORIES = ROOT / "fixtures" / "histories"

CONFTEST = """
from fixtures.workflows import ALL_WORKFLOWS
REPLAY_WORKFLOWS = ALL_WORKFLOWS
"""

MUTANT_CONFTEST = """
from datetime import timedelta
from replay import workflow

@workflow.defn(name="PatchedWorkflow")
class PatchedWorkflow:
    @workflow.run
    async def run(self, x: int) -> int:
        await workflow.sleep(timedelta(minutes=2))
        return x

REPLAY_WORKFLOWS = [PatchedWorkflow]
"""


@pytest.fixture(autouse=True)
def _keep_workflow_names() -> Iterator[None]:
    """Conftests declared here re-register fixture type names process-wide; undo that."""
    saved = dict(_definition._KNOWN)
    yield
    _definition._KNOWN.clear()
    _definition._KNOWN.update(saved)


def _copy(pytester: pytest.Pytester, *names: str) -> Path:
    target = pytester.path / "histories"
    target.mkdir()
    for name in names:
        shutil.copy(HISTORIES / name, target / name)
    return target


def test_one_passing_item_per_history_file(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    target = _copy(pytester, "timers.json", "approval.json", "family.json")
    result = pytester.runpytest("--replay-histories", str(target), "-v", *ARGS)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*approval.json PASSED*", "*family.json PASSED*",
                                 "*timers.json PASSED*"])


def test_ini_setting_collects_the_same(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    _copy(pytester, "patched.json")
    pytester.makeini("[pytest]\nreplay_histories = histories\n")
    pytester.runpytest(*ARGS).assert_outcomes(passed=1)


def test_a_divergence_fails_with_the_nondeterminism_text(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(MUTANT_CONFTEST)
    target = _copy(pytester, "patched.json")
    result = pytester.runpytest("--replay-histories", str(target), *ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*patched.json: [[]RPL-ND01[]] nondeterminism in workflow 'PatchedWorkflow'*",
    ])


def test_without_registered_workflows_the_failure_says_what_to_do(
        pytester: pytest.Pytester) -> None:
    target = _copy(pytester, "timers.json")
    result = pytester.runpytest("--replay-histories", str(target), *ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no workflows to replay timers.json against: list the "
                                 "workflow classes in REPLAY_WORKFLOWS*"])


def test_a_malformed_history_file_fails_its_item(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    target = pytester.path / "histories"
    target.mkdir()
    (target / "broken.json").write_text('{"format": "nope"}')
    result = pytester.runpytest("--replay-histories", str(target), *ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*broken.json: *"])


def test_replay_env_and_replay_client_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_env="""
        import asyncio
        from datetime import timedelta
        from replay.testing import WorkflowEnvironment
        from fixtures.workflows import BatchWorkflow

        async def test_it(replay_env, replay_client):
            assert isinstance(replay_env, WorkflowEnvironment)
            assert replay_client is replay_env.client
            async with replay_env.worker(task_queue="q", workflows=[BatchWorkflow]):
                result = await asyncio.wait_for(replay_client.execute_workflow(
                    BatchWorkflow.run, 2, id="b", task_queue="q"), 20)
            assert result == "all batches done"
    """)
    result = pytester.runpytest(*ARGS, "-o", "asyncio_mode=auto")
    result.assert_outcomes(passed=1)


def test_the_plugin_loads_without_pytest_asyncio() -> None:
    """The plugin loads in every pytest run of a project that installs replay: it must
    not break projects without pytest-asyncio (its async fixture skips instead)."""
    code = ("import sys; sys.modules['pytest_asyncio'] = None; "
            "import replay._pytest_plugin as p; print(p._replay_env_unavailable.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "_replay_env_unavailable"


# --- without the testing extra -------------------------------------------------------------------

EXTRA_HINT = "pip install 'replay-engine[testing]'"
# Makes hypothesis look uninstalled (pytest itself chokes on a None in sys.modules).
NO_HYPOTHESIS = """
import sys
class NoHypothesis:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "hypothesis":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NoHypothesis())
"""


def _python(code: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env=env)


def test_the_plugin_loads_without_hypothesis_or_pytest_asyncio() -> None:
    out = _python(NO_HYPOTHESIS + "sys.modules['pytest_asyncio'] = None\n"
                  "import replay._pytest_plugin\n")
    assert out.returncode == 0, out.stderr


def test_replay_testing_without_hypothesis_says_what_to_install() -> None:
    out = _python(NO_HYPOTHESIS + "import replay.testing\n")
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert last == ("ImportError: replay.testing needs hypothesis, which the engine itself does "
                    f"not install: {EXTRA_HINT}")


def test_without_the_testing_extra_the_fixture_skips_and_histories_still_replay(
        pytester: pytest.Pytester) -> None:
    """A project with replay but without hypothesis: pytest runs (the plugin loads), the
    saved-history items work, and a test asking for replay_env is skipped with the remedy."""
    pytester.makeconftest(CONFTEST)
    target = _copy(pytester, "timers.json")
    pytester.makepyfile(test_env="""
        async def test_it(replay_env):
            raise AssertionError("must not run without the testing extra")
    """)
    pytester.makeini("[pytest]\nasyncio_mode = auto\n"
                     "asyncio_default_fixture_loop_scope = function\n")
    code = (NO_HYPOTHESIS + "import pytest\nraise SystemExit(pytest.main(["
            f"'-p', 'no:hypothesispytest', '-p', 'no:cacheprovider', '-rs', "
            f"'--replay-histories', {str(target)!r}]))")
    out = _python(code, cwd=pytester.path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed, 1 skipped" in out.stdout, out.stdout
    assert EXTRA_HINT in out.stdout, out.stdout


REWRITE_PROBE = '''
import sys

import replay.history
import replay.testing


def test_replay_modules_are_not_rewritten():
    assert "replay._pytest_plugin" in sys.modules  # the plugin was loaded
    rewritten = sorted(name for name, module in list(sys.modules.items())
                       if name.split(".")[0] == "replay" and "@py_builtins" in vars(module))
    assert rewritten == []


def test_the_users_own_asserts_are_still_rewritten():
    seen = [1, 2]
    assert seen == [1, 3]
'''


def test_pytest_does_not_rewrite_replays_own_modules(pytester: pytest.Pytester,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # A fresh process: pytest marks replay for rewriting as it loads the plugin's
    # distribution, before anything of replay is imported. It finds the package to
    # mark in the wheel's file list, or for an editable install on sys.path: put the
    # checkout there, as a run from the repository's root has it.
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(test_probe=REWRITE_PROBE)
    result = pytester.runpytest_subprocess(*ARGS)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*At index 1 diff: 2 != 3*"])
