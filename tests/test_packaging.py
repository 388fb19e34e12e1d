"""The distribution as users get it: one import name (``replay``) and dependencies that earn
their place.

The slow tests build the project (a copy of the checked-out files, so the build's
``build/`` and ``*.egg-info`` stay under ``tmp_path``) and install it, as a wheel and
as an editable install, into a new virtual environment made without pip: this
environment's pip installs into it (``pip --python``), offline (``--no-index``,
no build isolation, no cache, no config). The runtime dependencies are this
interpreter's own copies, linked one distribution at a time into a directory the
new environment reads through a ``.pth`` file, so nothing else of this
environment (pytest, hypothesis, the project's own editable install) is visible
there. A user project beside it, with its own ``history.py`` and ``sandbox/``,
then runs a durable workflow (an activity and a timer, SQLite, Client and Worker).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
#: What a build reads: the metadata files and the package folders (replay/ links the others).
SOURCES = ("pyproject.toml", "README.md", "replay", "history", "sandbox")
TIMEOUT = 240  # seconds, per command: generous, a loaded 2-core machine must not fail it

# --- the metadata --------------------------------------------------------------------------


def _project() -> dict[str, object]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return dict(tomllib.load(f))


def _names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def test_runtime_dependencies_and_extras() -> None:
    project = _project()["project"]
    assert isinstance(project, dict)
    assert _names(project["dependencies"]) == {"attrs", "cattrs", "click", "sqlite-utils"}
    extras = project["optional-dependencies"]
    assert _names(extras["testing"]) == {"hypothesis"}
    test = {str(Requirement(r)) for r in extras["test"]}
    assert {str(Requirement(r)) for r in extras["testing"]} <= test
    assert _names(extras["postgres"]) == {"psycopg", "psycopg-pool"}
    assert {str(Requirement(r)) for r in extras["postgres"]} <= test


def test_the_license_is_a_pep_639_expression() -> None:
    data = _project()
    project, build = data["project"], data["build-system"]
    assert isinstance(project, dict) and isinstance(build, dict)
    assert project["license"] == "MIT"
    setuptools = next(Requirement(r) for r in build["requires"]
                      if canonicalize_name(Requirement(r).name) == "setuptools")
    assert not setuptools.specifier.contains("77.0.2")  # the first to read it: 77.0.3


# --- building and installing -----------------------------------------------------------------


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This process's environment without Python/pip settings, offline, temp files in tmp."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    env.update(PIP_NO_INDEX="1", PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_INPUT="1", PIP_CONFIG_FILE=os.devnull, PYTHONDONTWRITEBYTECODE="1",
               PYTHONNOUSERSITE="1", TMPDIR=str(tmp), XDG_CACHE_HOME=str(tmp / "cache"))
    env.update(extra)
    return env


def _run(args: list[str], tmp_path: Path, cwd: Path | None = None,
         **env: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd or tmp_path, env=_env(tmp_path, **env),
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _copy_sources(tmp_path: Path) -> Path:
    """The checked-out project files a build reads, copied (symlinks kept as symlinks)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(path, src / name)
    for license_file in ROOT.glob("LICEN[CS]E*"):
        shutil.copy2(license_file, src / license_file.name)
    return src


def _top_level_entries(dist: importlib.metadata.Distribution) -> set[str]:
    files = dist.files
    if files is None:
        pytest.fail(f"{dist.metadata['Name']} does not list its files; cannot link it")
    return {f.parts[0] for f in files
            if f.parts[0] not in ("..", "__pycache__") and not f.parts[0].endswith(".pth")}


def _link_distributions(requirements: list[str], target: Path) -> list[str]:
    """Symlink into ``target`` the installed distributions ``requirements`` need (their
    dependencies too, extras excluded), one top-level entry at a time."""
    target.mkdir()
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = list(requirements)
    while todo:
        req = Requirement(todo.pop())
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(req.name)
        if name in found:
            continue
        try:
            found[name] = importlib.metadata.distribution(req.name)
        except importlib.metadata.PackageNotFoundError:
            pytest.fail(f"{req.name} is a runtime dependency but is not installed here: "
                        "run `make` (pip install -e '.[test]') first")
        todo += found[name].requires or []
    for dist in found.values():
        for entry in _top_level_entries(dist):
            (target / entry).symlink_to(Path(str(dist.locate_file(entry))))
    return sorted(found)


def _new_venv(tmp_path: Path) -> tuple[Path, Path]:
    """A venv without pip (nothing is installed in it yet): its python and site-packages."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path)
    python = venv / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                   tmp_path).stdout.strip()
    return python, Path(purelib)


def _add_dependencies(purelib: Path, tmp_path: Path) -> list[str]:
    """Make the installed project's runtime dependencies (from its METADATA) importable in
    the venv: linked into tmp_path/deps, which a .pth file adds to the venv's path."""
    (metadata,) = purelib.glob("replay_engine-*.dist-info/METADATA")
    requires = [line.split(":", 1)[1].strip() for line in metadata.read_text().splitlines()
                if line.startswith("Requires-Dist:")]
    deps = tmp_path / "deps"
    linked = _link_distributions(requires, deps)
    (purelib / "_replay_test_deps.pth").write_text(f"{deps}\n")
    return linked


def _pip(python: Path, tmp_path: Path, *args: str, **env: str) -> None:
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
          "--no-compile", *args], tmp_path, None, **env)


def _check_setuptools() -> None:
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        version = "none"
    if Requirement("setuptools>=77.0.3").specifier.contains(version):
        return
    pytest.fail(f"building without isolation needs setuptools>=77.0.3 here (found {version}): "
                "pip install -e '.[test]'")


# --- the user project ------------------------------------------------------------------------

USER_FILES = {
    "history.py": '''
        """The user's own module named history (replay's is replay.history)."""
        MARK = "the user's history module"

        def describe(name: str) -> str:
            return f"{name} has a history"
    ''',
    "sandbox/__init__.py": '''
        """The user's own package named sandbox."""
        MARK = "the user's sandbox package"
    ''',
    "shop.py": '''
        import asyncio
        from datetime import timedelta

        import history  # the user's: workflow code may call it
        from replay import activity, workflow

        @activity.defn
        async def shout(text: str) -> str:
            return text.upper()

        @workflow.defn
        class Greet:
            @workflow.run
            async def run(self, name: str) -> str:
                loud = await workflow.execute_activity(
                    shout, history.describe(name), start_to_close_timeout=timedelta(seconds=60))
                await asyncio.sleep(0.05)  # a durable timer
                return loud + "!"
    ''',
    "main.py": '''
        import asyncio
        import json
        import sys

        import history
        import sandbox

        import replay
        import replay.history
        import replay.sandbox
        from replay.client import Client
        from replay.worker import Worker
        from shop import Greet, shout

        async def main() -> dict[str, object]:
            client = await Client.connect("sqlite:///shop.db")
            try:
                async with Worker(client, task_queue="shop", workflows=[Greet],
                                  activities=[shout]):
                    result = await asyncio.wait_for(client.execute_workflow(
                        Greet.run, "ada", id="greet-1", task_queue="shop"), 120)
                history_ = await client.get_workflow_handle("greet-1").fetch_history()
            finally:
                client.close()
            return {"result": result, "events": [type(e).__name__ for e in history_.events]}

        report = asyncio.run(main())
        try:
            import replay.testing
        except ImportError as exc:
            report["testing"] = str(exc)
        report.update(
            user_history=(history.MARK, history.__file__),
            user_sandbox=(sandbox.MARK, sandbox.__file__),
            still_the_users=sys.modules["history"] is history,
            replay=replay.__file__,
            replay_history=replay.history.__file__,
            replay_sandbox=replay.sandbox.__file__,
            history_class=replay.history.History.__module__,
        )
        print(json.dumps(report))
    ''',
}

#: Run from an empty folder: what the installed environment itself offers.
PROBE = """
import importlib.util, json
print(json.dumps({name: importlib.util.find_spec(name) is not None
                  for name in ("history", "sandbox", "replay", "replay.history",
                               "replay.sandbox", "hypothesis", "pytest")}))
"""


def _user_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    for name, text in USER_FILES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(textwrap.dedent(text).lstrip())
    return project


def _check_one_import_name(python: Path, tmp_path: Path, replay_dir: Path) -> None:
    """The user project's workflow runs, next to its own history and sandbox modules."""
    project = _user_project(tmp_path)
    # Bytecode of everything the venv imports (the linked dependencies too) goes under tmp.
    pycache = {"PYTHONPYCACHEPREFIX": str(tmp_path / "pycache"), "PYTHONDONTWRITEBYTECODE": ""}
    out = _run([str(python), "main.py"], tmp_path, cwd=project, **pycache)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["result"] == "ADA HAS A HISTORY!"
    for kind in ("WorkflowStarted", "ActivityScheduled", "ActivityCompleted", "TimerStarted",
                 "TimerFired", "WorkflowCompleted"):
        assert kind in report["events"], report["events"]
    assert report["user_history"] == ["the user's history module", str(project / "history.py")]
    assert report["user_sandbox"] == ["the user's sandbox package",
                                      str(project / "sandbox" / "__init__.py")]
    assert report["still_the_users"] is True
    assert report["replay"] == str(replay_dir / "__init__.py")
    assert report["replay_history"] == str(replay_dir / "history" / "__init__.py")
    assert report["replay_sandbox"] == str(replay_dir / "sandbox" / "__init__.py")
    assert report["history_class"].split(".")[:2] == ["replay", "history"]
    assert report["testing"].endswith("pip install 'replay-engine[testing]'")

    empty = tmp_path / "elsewhere"
    empty.mkdir()
    found = json.loads(_run([str(python), "-c", PROBE], tmp_path, cwd=empty, **pycache).stdout)
    assert found == {"history": False, "sandbox": False, "replay": True,
                     "replay.history": True, "replay.sandbox": True,
                     "hypothesis": False, "pytest": False}
    _run([str(python.parent / "replay"), "--help"], tmp_path, cwd=empty, **pycache)


@pytest.mark.slow
def test_the_wheel_owns_one_import_name(tmp_path: Path) -> None:
    _check_setuptools()
    src = _copy_sources(tmp_path)
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
          "-w", str(dist), str(src)], tmp_path)
    (wheel,) = dist.glob("replay_engine-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = zf.read(f"{info}/METADATA").decode()
        top_level = zf.read(f"{info}/top_level.txt").decode().split()
    assert {n.split("/")[0] for n in names} == {"replay", info}
    assert top_level == ["replay"]
    for package in ("history", "sandbox"):
        shipped = {n.removeprefix(f"replay/{package}/") for n in names
                   if n.startswith(f"replay/{package}/") and n.endswith(".py")}
        assert shipped == {p.name for p in (src / package).glob("*.py")}
    assert "License-Expression: MIT" in metadata
    assert "hypothesis" not in "".join(line for line in metadata.splitlines()
                                       if line.startswith("Requires-Dist:")
                                       and "extra ==" not in line)

    python, purelib = _new_venv(tmp_path)
    _pip(python, tmp_path, str(wheel))
    linked = _add_dependencies(purelib, tmp_path)
    assert {"attrs", "cattrs", "click", "sqlite-utils"} <= set(linked)
    assert "hypothesis" not in linked
    assert not (purelib / "history").exists() and not (purelib / "sandbox").exists()
    _check_one_import_name(python, tmp_path, purelib / "replay")


@pytest.mark.slow
def test_an_editable_install_owns_one_import_name(tmp_path: Path) -> None:
    _check_setuptools()
    src = _copy_sources(tmp_path)
    python, purelib = _new_venv(tmp_path)
    # No build isolation (offline): the build backend, run by the new venv's python, finds
    # this environment's setuptools through PYTHONPATH during the install only.
    tools = tmp_path / "build-tools"
    _link_distributions(["setuptools"], tools)
    _pip(python, tmp_path, "--no-build-isolation", "-e", str(src), PYTHONPATH=str(tools))
    _add_dependencies(purelib, tmp_path)
    _check_one_import_name(python, tmp_path, src / "replay")


def test_the_postgres_driver_is_imported_only_by_a_postgres_store() -> None:
    """``import replay`` and a SQLite store leave psycopg unimported (it is an optional
    extra and costs start-up time); ``history.PostgresStore`` still resolves on use."""
    probe = textwrap.dedent("""
        import sys
        import replay
        from replay import history
        from replay.history import store_from_url
        store = store_from_url("memory://")
        assert store is not None
        print("psycopg" in sys.modules)
        print(history.PostgresStore.__name__, "psycopg" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=TIMEOUT, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["False", "PostgresStore True"]
