"""End-to-end demo: a durable greeting workflow survives its worker being SIGKILLed.

1. start a worker process on ./replay.db and a GreetingWorkflow run;
2. send an update whose handler calls a slow activity, and kill -9 the worker
   while that activity runs;
3. signal the run while no worker is alive (the signal is durable);
4. start a new worker: it rebuilds the run by replaying its history, retries
   the interrupted activity, applies the signal and completes the run;
5. print the result and the history.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from examples.greeting import ApproveInput, GreetingWorkflow, Language
from replay._cli._summary import format_history
from replay.client import Client, WorkflowUpdateStage

DB = os.environ.get("REPLAY_DB", "replay.db")
HERE = os.path.dirname(os.path.abspath(__file__))


def start_worker() -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "demo_worker.py"), DB])
    return proc


async def main() -> None:
    client = await Client.connect(DB if DB.endswith(".db") else None)
    worker = start_worker()
    handle = await client.start_workflow(GreetingWorkflow.run, id=f"greeting-{uuid.uuid4()}",
                                         task_queue="greetings")
    print(f"started {handle.id}")
    update = await handle.start_update(GreetingWorkflow.set_language, Language.FRENCH,
                                       wait_for_stage=WorkflowUpdateStage.ACCEPTED)
    print("update set_language(FRENCH) accepted; its activity is running...")
    time.sleep(0.2)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    print(f"killed worker {worker.pid} with SIGKILL in the middle of the activity")
    await handle.signal(GreetingWorkflow.approve, ApproveInput(name="Ada"))
    print("signalled approve while no worker was running")
    worker = start_worker()
    try:
        previous = await asyncio.wait_for(update.result(), 30)
        print(f"update finished on the new worker: previous language was {previous!r}")
        result = await asyncio.wait_for(handle.result(), 30)
        print(f"result: {result}")
        print(f"query get_language: {await handle.query(GreetingWorkflow.get_language)!r}")
        history = await handle.fetch_history()
        print(format_history(history.events))
    finally:
        worker.terminate()
        worker.wait()


if __name__ == "__main__":
    asyncio.run(main())
