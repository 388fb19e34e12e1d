"""A worker process for the durability tests and benchmarks.

    python -m tests.replay.workers.worker_main DB_PATH [--queue Q] [--lease SECONDS]
        [--identity ID] [--busy-timeout-ms MS] [--refused-log PATH] [--log PATH]

Runs every sample workflow and activity until killed; prints ``ready`` once polling.
``--refused-log`` appends one line per batch of this worker's group commits
that the store refused (``<error class> <run id>``: a conflict, a stale or a
closed-run result); ``--log`` appends the worker's warnings and errors.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from replay.client import Client
from replay.history import Operation, ReplayError, SqliteStore, StoreUnavailableError
from replay.worker import Worker

from . import samples


def _log_refusals(store: SqliteStore, path: str) -> None:
    """Wrap the store's group commit so each refused batch leaves a line in ``path``."""
    commit_each = store.commit_each

    def logged(batches: Sequence[Sequence[Operation]]) -> Any:
        results = commit_each(batches)
        refused = [f"{type(r).__name__} {ops[0].run_id}\n"
                   for ops, r in zip(batches, results, strict=True)
                   if isinstance(r, ReplayError) and ops]
        if refused:
            with open(path, "a") as f:
                f.writelines(refused)
        return results

    store.commit_each = logged  # type: ignore[method-assign]  # test instrumentation


async def _open(db: str, busy_timeout_ms: int) -> SqliteStore:
    """The store, once it can be opened (another process may hold its lock right now)."""
    while True:
        try:
            return SqliteStore(db, busy_timeout_ms=busy_timeout_ms)
        except StoreUnavailableError:
            await asyncio.sleep(0.05)


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("--queue", default="tests")
    parser.add_argument("--lease", type=float, default=0.5)
    parser.add_argument("--identity", default=None)
    parser.add_argument("--busy-timeout-ms", type=int, default=5000)
    parser.add_argument("--refused-log", default=None)
    parser.add_argument("--log", default=None)
    args = parser.parse_args(argv)
    if args.log:
        handler = logging.FileHandler(args.log)
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        logging.getLogger("replay").addHandler(handler)
    store = await _open(args.db, args.busy_timeout_ms)
    if args.refused_log:
        _log_refusals(store, args.refused_log)
    client = Client(store)
    async with Worker(client, task_queue=args.queue, workflows=samples.ALL_WORKFLOWS,
                      activities=samples.ALL_ACTIVITIES, identity=args.identity,
                      workflow_task_lease=timedelta(seconds=args.lease)):
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
