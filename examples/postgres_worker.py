"""A worker process on a shared PostgreSQL store: ``postgres_worker.py URL IDENTITY``.

It runs until it is killed; a worker silent for 1.5 s (killed, paused, cut off)
is found dead by the others through the store's heartbeats, and they take its
leases over.
"""

import asyncio
import logging
import os
import sys
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from examples.steps import StepsWorkflow, step
from replay.client import Client
from replay.worker import Worker


async def main() -> None:
    url, identity = sys.argv[1], sys.argv[2]
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format=f"{identity} %(levelname)s %(message)s")
    client = await Client.connect(url)
    worker = Worker(client, task_queue="steps", workflows=[StepsWorkflow], activities=[step],
                    identity=identity, workflow_task_lease=timedelta(seconds=2),
                    heartbeat_grace=timedelta(seconds=1.5))
    print(f"{identity} ready (pid {os.getpid()})", flush=True)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
