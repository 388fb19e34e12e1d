"""Recovery of a killed run, the same way for both engines.

    python -m benchmarks.peers.crash {ours,dbos} {run,recover} DB STEPS [SYNCHRONOUS]

``run`` starts a workflow of STEPS sequential steps under the id ``rec`` and
works on it until killed. ``recover`` is the restart: it opens the same file,
lets the engine resume the run, prints ``done SECONDS`` (seconds inside the
process, from before the engine is opened to the result) and exits.
``recovery()`` is the parent: it starts ``run``, SIGKILLs it once about half
the steps are recorded, then times ``recover`` from spawn to exit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_ID = "rec"
# Ours: a dead worker's leases must run out before another may take its tasks.
LEASE = 0.1  # workflow-task lease, seconds
ACTIVITY_TIMEOUT = 0.2  # each step's start_to_close, seconds


def _done_steps(engine: str, db: Path) -> int:
    """Steps recorded as done so far (read-only peek at the engine's own tables)."""
    if not db.exists():
        return 0
    sql = ("SELECT count(*) FROM operation_outputs WHERE workflow_uuid = ?" if engine == "dbos"
           else "SELECT count(*) FROM events WHERE kind = 'ActivityCompleted' AND ? != ''")
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute(sql, (WORKFLOW_ID,)).fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:  # tables not created yet, or locked for a moment
        return 0


def _spawn(engine: str, mode: str, db: Path, steps: int, synchronous: str
           ) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.peers.crash", engine, mode, str(db), str(steps),
         synchronous], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)


def recovery(engine: str, db: Path, steps: int, synchronous: str = "FULL"
             ) -> tuple[float, float, int]:
    """(wall seconds from restart to done, seconds inside the process, steps left at kill)."""
    proc = _spawn(engine, "run", db, steps, synchronous)
    deadline = time.monotonic() + 300
    try:
        while _done_steps(engine, db) < steps // 2:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{engine}: the run ended or stalled before half-way")
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    left = steps - _done_steps(engine, db)
    start = time.perf_counter()
    again = _spawn(engine, "recover", db, steps, synchronous)
    out, _ = again.communicate(timeout=600)
    wall = time.perf_counter() - start
    lines = [line for line in out.splitlines() if line.startswith("done ")]
    if again.returncode != 0 or not lines:
        raise RuntimeError(f"{engine}: recovery failed (exit {again.returncode}): {out[-500:]}")
    return wall, float(lines[-1].split()[1]), left


# --- the child process -------------------------------------------------------------------


def _dbos_child(mode: str, db: Path, steps: int) -> None:
    from . import dbos_app

    start = time.perf_counter()
    dbos_app.launch(db)  # launching recovers this executor's pending workflows
    if mode == "run":
        dbos_app.start(WORKFLOW_ID, steps)
        while True:
            time.sleep(60)
    from dbos import DBOS

    result: object = DBOS.retrieve_workflow(WORKFLOW_ID).get_result(polling_interval_sec=0.005)
    elapsed = time.perf_counter() - start
    if result != sum(i * i for i in range(steps)):
        raise SystemExit(f"dbos: wrong result {result!r}")
    print(f"done {elapsed:.4f}", flush=True)
    dbos_app.destroy()


async def _ours_child(mode: str, db: Path, steps: int, synchronous: str) -> None:
    from replay.worker import Worker

    from .ours import QUEUE, StepsWorkflow, client, step

    start = time.perf_counter()
    c = client(db, synchronous)
    async with Worker(c, task_queue=QUEUE, workflows=[StepsWorkflow], activities=[step],
                      workflow_task_lease=timedelta(seconds=LEASE)):
        if mode == "run":
            await c.start_workflow(StepsWorkflow.run, args=[steps, ACTIVITY_TIMEOUT],
                                   id=WORKFLOW_ID, task_queue=QUEUE)
            await asyncio.Event().wait()
        result = await asyncio.wait_for(c.get_workflow_handle(WORKFLOW_ID).result(), 600)
    elapsed = time.perf_counter() - start
    c.close()
    if result != sum(i * i for i in range(steps)):
        raise SystemExit(f"ours: wrong result {result!r}")
    print(f"done {elapsed:.4f}", flush=True)


def main(argv: list[str]) -> None:
    engine, mode, db, steps = argv[0], argv[1], Path(argv[2]), int(argv[3])
    synchronous = argv[4] if len(argv) > 4 else "FULL"
    if engine == "dbos":
        _dbos_child(mode, db, steps)
    else:
        asyncio.run(_ours_child(mode, db, steps, synchronous))


if __name__ == "__main__":
    main(sys.argv[1:])
