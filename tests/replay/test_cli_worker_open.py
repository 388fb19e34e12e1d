"""``replay worker`` waits for a store it cannot open *yet*, and stops only on one it can
never use.

A real process, a real file: another connection holds the SQLite write lock while the
worker opens an older store that it must upgrade. The worker reports the busy store at
WARNING and keeps trying; once the lock is released (after that line, not after a
sleep) it upgrades the store and polls, and SIGTERM ends it with status 0.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import sqlite3
import subprocess
import threading
from pathlib import Path
from typing import IO

import pytest

from replay.history import SqliteStore
from tests.history.samples import signal as signal_event
from tests.history.samples import started
from tests.history.store_v1 import make_v1_store

from .test_store_faults import _replay_command

ROOT = Path(__file__).resolve().parents[2]


def _lines(stream: IO[str]) -> queue.Queue[str]:
    """The stream's lines as they come ("" at its end), read by a thread."""
    found: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            found.put(line)
        found.put("")

    threading.Thread(target=read, daemon=True).start()
    return found


def _rest(lines: queue.Queue[str]) -> str:
    """What the stream still had, up to its end."""
    found = []
    while line := lines.get(timeout=60):
        found.append(line)
    return "".join(found)


def _until(lines: queue.Queue[str], text: str, seen: list[str]) -> str:
    while True:
        line = lines.get(timeout=60)
        seen.append(line)
        assert line, f"the stream ended before {text!r}: {seen}"
        if text in line:
            return line


@pytest.mark.slow
def test_replay_worker_waits_for_a_locked_store_then_upgrades_it_and_runs(
        tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    make_v1_store(path, [("r1", [started(), signal_event(2)])])
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # as a long transaction of another process would
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT),
                                                        os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [*_replay_command(), "worker", "fixtures.workload.samples", "--task-queue", "q",
         "--db", str(path)], env=env, cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    out, err = _lines(proc.stdout), _lines(proc.stderr)
    seen: list[str] = []
    try:
        warning = _until(err, "cannot open the store yet", seen)
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING replay\.cli: "
                        r"cannot open the store yet \(SQLITE_BUSY\); retrying in 0\.05s "
                        r"\(backoff up to 2s\): \[RPL-S07\] ", warning), warning
        holder.execute("ROLLBACK")
        holder.close()
        _until(out, "worker polling task queue 'q'", seen)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    rest_out, rest_err = _rest(out), _rest(err)
    assert proc.returncode == 0, (seen, rest_err)
    assert "worker stopped" in rest_out
    assert "Traceback" not in "".join(seen) + rest_err
    with SqliteStore(path) as store:  # upgraded, the run intact
        assert store.read("r1")[:2] == [started(), signal_event(2)]
        assert [r.signature.workflow_type for r in store.registered_workflows("q")]
