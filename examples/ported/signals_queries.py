"""Signals and queries: a workflow collects greetings sent as signals, answers queries
about them, and ends on an exit signal.

Written for the familiar SDK; docs/migrating.md says what to change to run it here.
"""

import asyncio

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

TASK_QUEUE = "greetings"


@workflow.defn
class GreetingWorkflow:
    def __init__(self) -> None:
        self._names: list[str] = []
        self._exit = False

    @workflow.run
    async def run(self, salutation: str) -> list[str]:
        await workflow.wait_condition(lambda: self._exit)
        return [f"{salutation}, {name}!" for name in self._names]

    @workflow.signal
    async def submit_name(self, name: str) -> None:
        self._names.append(name)

    @workflow.signal
    def exit(self) -> None:
        self._exit = True

    @workflow.query
    def names(self) -> list[str]:
        return list(self._names)

    @workflow.query
    def count(self) -> int:
        return len(self._names)


async def main() -> None:
    client = await Client.connect("localhost:7233")
    async with Worker(client, task_queue=TASK_QUEUE, workflows=[GreetingWorkflow]):
        handle = await client.start_workflow(GreetingWorkflow.run, "Hello",
                                             id="greetings-1", task_queue=TASK_QUEUE)
        for name in ["Ada", "Grace", "Barbara"]:
            await handle.signal(GreetingWorkflow.submit_name, name)
        print("count:", await handle.query(GreetingWorkflow.count))
        print("names:", ", ".join(await handle.query(GreetingWorkflow.names)))
        await handle.signal(GreetingWorkflow.exit)
        for line in await handle.result():
            print(line)


if __name__ == "__main__":
    asyncio.run(main())
