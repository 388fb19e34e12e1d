"""A worker process for the demo: runs until it is killed or interrupted."""

import asyncio
import os
import sys
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from examples.greeting import GreetingWorkflow, call_greeting_service
from replay.client import Client
from replay.worker import Worker


async def main() -> None:
    client = await Client.connect(sys.argv[1] if len(sys.argv) > 1 else None)
    worker = Worker(client, task_queue="greetings", workflows=[GreetingWorkflow],
                    activities=[call_greeting_service],
                    workflow_task_lease=timedelta(seconds=1))
    print(f"worker {os.getpid()} polling task queue 'greetings'", flush=True)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
