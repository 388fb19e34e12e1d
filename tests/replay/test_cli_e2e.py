"""End to end with real processes: ``replay worker`` in the background, then ``start``,
``signal``, ``show --follow``, ``export`` and ``check`` as separate commands."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GREETER = "tests.replay.cli_workflows.greeter"
CHANGED = "tests.replay.cli_workflows.greeter_changed"
TIMEOUT = 30


def _command() -> list[str]:
    script = Path(sys.executable).parent / "replay"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from replay._cli._main import main; main()"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "REPLAY_DB": str(tmp_path / "e2e.db"),
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def replay(env: dict[str, str], *args: str, check: bool = True
           ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*_command(), *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=TIMEOUT)
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def worker(env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([*_command(), "worker", GREETER, "--task-queue", "e2e"], env=env,
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()  # returns "" if the worker dies
        assert "worker polling task queue 'e2e'" in ready, proc.stderr.read()  # type: ignore[union-attr]
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(TIMEOUT)


@pytest.mark.slow  # a worker process and a dozen CLI processes
def test_worker_start_signal_show_export_check(env: dict[str, str],
                                               worker: subprocess.Popen[str],
                                               tmp_path: Path) -> None:
    started = replay(env, "start", "Greeter", "--id", "e2e-1", "--task-queue", "e2e",
                     "--arg", '"Ada"')
    assert started.stdout.startswith("started workflow e2e-1 run ")
    replay(env, "signal", "e2e-1", "add", "--arg", '"Bob"')
    replay(env, "signal", "e2e-1", "finish")

    followed = replay(env, "show", "e2e-1", "--follow")  # returns when the run closes
    assert followed.stdout.splitlines()[-1].split()[2] == "WorkflowCompleted"
    shown = replay(env, "show", "e2e-1").stdout
    assert 'result=["Hello, Ada!", "Hello, Bob!"]' in shown

    saved = tmp_path / "e2e-1.json"
    replay(env, "export", "e2e-1", "-o", str(saved))
    checked = replay(env, "check", "--workflows", GREETER, str(saved))
    assert "checked 1 history: 1 ok" in checked.stdout
    diverged = replay(env, "check", "--workflows", CHANGED, str(saved), check=False)
    assert diverged.returncode == 1
    assert "[RPL-ND01]" in diverged.stdout

    worker.send_signal(signal.SIGTERM)
    out, _ = worker.communicate(timeout=TIMEOUT)
    assert worker.returncode == 0
    assert "worker stopped" in out
