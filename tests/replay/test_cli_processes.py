"""``replay worker --processes N``: more worker processes on the same store, stopped together."""

from __future__ import annotations

import os
import re
import signal
import subprocess

import pytest

from tests.replay.test_cli_e2e import GREETER, ROOT, TIMEOUT, _command, env, replay

__all__ = ["env"]  # the fixture, used by name


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow  # three worker processes and a few CLI processes
def test_the_extra_process_runs_work_and_stops_with_the_first(env: dict[str, str]) -> None:
    proc = subprocess.Popen([*_command(), "worker", GREETER, "--task-queue", "e2e",
                             "--processes", "2"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        found = re.search(r"1 more worker processes: pids (\d+)", ready)
        assert found is not None, ready
        extra = int(found.group(1))
        assert _alive(extra)
        # With the first process stopped, only the extra one can run the workflow.
        proc.send_signal(signal.SIGSTOP)
        try:
            replay(env, "start", "Greeter", "--id", "p-1", "--task-queue", "e2e",
                   "--arg", '"Ada"')
            replay(env, "signal", "p-1", "finish")
            followed = replay(env, "show", "p-1", "--follow")
            assert followed.stdout.splitlines()[-1].split()[2] == "WorkflowCompleted"
        finally:
            proc.send_signal(signal.SIGCONT)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0, err
        assert "worker stopped" in out
        assert not _alive(extra)  # stopped and reaped by the first process
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)


def test_processes_must_be_at_least_one(env: dict[str, str]) -> None:
    done = replay(env, "worker", GREETER, "--task-queue", "e2e", "--processes", "0",
                  check=False)
    assert done.returncode == 2
    assert "--processes" in done.stderr and "0 is not in the range x>=1" in done.stderr
    assert not os.path.exists(env["REPLAY_DB"])  # nothing was written
