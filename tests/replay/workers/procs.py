"""Starting and killing worker processes (durability tests and benchmarks)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def start_worker(db: Path, *, side_file: Path | None = None, identity: str | None = None,
                 lease: float = 0.5, queue: str = "tests") -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if side_file is not None:
        env["REPLAY_TEST_SIDE_FILE"] = str(side_file)
    cmd = [sys.executable, "-m", "tests.replay.workers.worker_main", str(db),
           "--lease", str(lease), "--queue", queue]
    if identity:
        cmd += ["--identity", identity]
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
