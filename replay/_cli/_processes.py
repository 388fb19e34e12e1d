"""``replay worker --processes N``: more worker processes beside this one, on the same store.

Each is the same ``replay worker`` command with ``--processes 1``, so it has its own
identity, event loop and core; runs are shared through the store's leases (each
process leases a few workflow tasks at a time and keeps the runs it activates in
its cache), exactly as for workers started by hand.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence

STOP_WAIT = 30.0
"""Seconds the extra processes get to shut down after SIGTERM before they are killed."""


def _command(modules: Sequence[str], task_queue: str, db: str,
             data_converter: str | None, log_options: Sequence[str]) -> list[str]:
    converter = ["--data-converter", data_converter] if data_converter else []
    return [sys.executable, "-c", "from replay._cli._main import main; main()", "worker",
            *modules, "--task-queue", task_queue, "--db", db, "--processes", "1", *converter,
            *log_options]


@contextlib.contextmanager
def extra_workers(count: int, modules: Sequence[str], task_queue: str, db: str, *,
                  data_converter: str | None = None, log_options: Sequence[str] = ()
                  ) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start ``count`` more worker processes; on exit, stop them (SIGTERM, then wait).

    ``data_converter``: the ``--data-converter MODULE:ATTR`` they use, as given;
    ``log_options``: their ``--log-level``/``--log-format`` arguments.
    """
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(count):
            procs.append(subprocess.Popen(
                _command(modules, task_queue, db, data_converter, log_options),
                stdout=subprocess.DEVNULL))
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(STOP_WAIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
