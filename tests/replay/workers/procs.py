"""Starting and killing worker processes (durability tests and benchmarks)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def start_worker(db: Path, *, side_file: Path | None = None, identity: str | None = None,
                 lease: float = 0.5, queue: str = "tests", gate_file: Path | None = None,
                 busy_timeout_ms: int | None = None, refused_log: Path | None = None,
                 log: Path | None = None) -> subprocess.Popen[bytes]:
    """A worker process on ``db`` (see worker_main for the options), once it polls."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if side_file is not None:
        env["REPLAY_TEST_SIDE_FILE"] = str(side_file)
    if gate_file is not None:
        env["REPLAY_TEST_GATE_FILE"] = str(gate_file)
    cmd = [sys.executable, "-m", "tests.replay.workers.worker_main", str(db),
           "--lease", str(lease), "--queue", queue]
    if identity:
        cmd += ["--identity", identity]
    if busy_timeout_ms is not None:
        cmd += ["--busy-timeout-ms", str(busy_timeout_ms)]
    if refused_log is not None:
        cmd += ["--refused-log", str(refused_log)]
    if log is not None:
        cmd += ["--log", str(log)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != b"ready":
        proc.kill()
        raise RuntimeError(f"worker process did not start: {line!r}")
    return proc


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL: no cleanup, no lease release, exactly like a crash."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()
