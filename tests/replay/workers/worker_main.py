"""A worker process for the durability tests and benchmarks.

    python -m tests.replay.workers.worker_main DB_PATH [--queue Q] [--lease SECONDS]

Runs every sample workflow and activity until killed; prints ``ready`` once polling.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta

from replay.client import Client
from replay.worker import Worker

from . import samples


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("--queue", default="tests")
    parser.add_argument("--lease", type=float, default=0.5)
    parser.add_argument("--identity", default=None)
    args = parser.parse_args(argv)
    client = await Client.connect(f"sqlite:///{args.db}")
    async with Worker(client, task_queue=args.queue, workflows=samples.ALL_WORKFLOWS,
                      activities=samples.ALL_ACTIVITIES, identity=args.identity,
                      workflow_task_lease=timedelta(seconds=args.lease)):
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
