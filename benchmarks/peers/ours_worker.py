"""A worker process for the multi-process benchmarks.

    python -m benchmarks.peers.ours_worker DB_PATH|POSTGRES_URL SYNCHRONOUS

Runs ``StepsWorkflow`` and ``step`` (``benchmarks.peers.ours``) on the file until
its standard input closes; prints ``ready`` once the worker polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

from replay.worker import Worker

from .. import process_counts
from . import ours


async def _serve(path: str, synchronous: str) -> None:
    c = ours.client(path if path.startswith("postgresql://") else Path(path), synchronous)
    try:
        async with Worker(c, task_queue=ours.QUEUE, workflows=[ours.StepsWorkflow],
                          activities=[ours.step], max_concurrent_activities=200):
            print("ready", flush=True)
            await asyncio.to_thread(sys.stdin.read)  # until the parent closes our stdin
    finally:
        c.close()


if __name__ == "__main__":
    with contextlib.ExitStack() as counts:
        process_counts.serve_counts(counts)  # when the sample counts each process's work
        asyncio.run(_serve(sys.argv[1], sys.argv[2]))
