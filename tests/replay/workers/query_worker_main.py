"""A worker process running the newer "Ledger" (``answer_v2``), for query routing tests.

    python -m tests.replay.workers.query_worker_main TARGET QUEUE IDENTITY

``TARGET`` is what ``Client.connect`` takes (``sqlite:///path`` or a PostgreSQL
URL). Prints ``ready`` once the worker polls, then runs until killed.
"""

from __future__ import annotations

import asyncio
import sys

from replay.client import Client
from replay.worker import Worker

from ..workflows import answer_v2


async def main(target: str, queue: str, identity: str) -> None:
    client = await Client.connect(target)
    async with Worker(client, task_queue=queue, workflows=[answer_v2.Ledger],
                      identity=identity):
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
