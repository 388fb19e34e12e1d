"""Timers and cancellation: a reminder that times out waiting for an acknowledgement,
and a long wait that is cancelled, cleans up in an activity and reports it.

Written for the familiar SDK; docs/migrating.md says what to change to run it here.
"""

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import CancelledError
from temporalio.worker import Worker

TASK_QUEUE = "timers"


@activity.defn
async def release_hold(booking: str) -> str:
    return f"released {booking}"


@workflow.defn
class ReminderWorkflow:
    def __init__(self) -> None:
        self.acknowledged = False

    @workflow.run
    async def run(self) -> str:
        await asyncio.sleep(0.05)  # a durable timer
        try:
            await workflow.wait_condition(lambda: self.acknowledged,
                                          timeout=timedelta(milliseconds=200))
        except TimeoutError:
            return "reminder: nobody acknowledged"
        return "reminder: acknowledged"

    @workflow.signal
    def acknowledge(self) -> None:
        self.acknowledged = True


@workflow.defn
class HoldWorkflow:
    def __init__(self) -> None:
        self.waiting = False

    @workflow.run
    async def run(self, booking: str) -> str:
        try:
            self.waiting = True
            await asyncio.sleep(timedelta(days=1).total_seconds())
            return f"{booking} expired"
        except asyncio.CancelledError:
            done = await workflow.execute_activity(
                release_hold, booking, start_to_close_timeout=timedelta(seconds=5))
            workflow.logger.info(done)
            raise

    @workflow.query
    def is_waiting(self) -> bool:
        return self.waiting


async def main() -> None:
    client = await Client.connect("localhost:7233")
    async with Worker(client, task_queue=TASK_QUEUE,
                      workflows=[ReminderWorkflow, HoldWorkflow], activities=[release_hold]):
        print(await client.execute_workflow(ReminderWorkflow.run, id="reminder-1",
                                            task_queue=TASK_QUEUE))
        handle = await client.start_workflow(HoldWorkflow.run, "room-12", id="hold-1",
                                             task_queue=TASK_QUEUE)
        while not await handle.query(HoldWorkflow.is_waiting):
            await asyncio.sleep(0.05)
        await handle.cancel()
        try:
            await handle.result()
        except WorkflowFailureError as err:
            print("hold:", type(err.cause).__name__, isinstance(err.cause, CancelledError))
        print("hold status:", (await handle.describe()).status.name)


if __name__ == "__main__":
    asyncio.run(main())
