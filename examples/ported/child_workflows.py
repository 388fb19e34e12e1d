"""Child workflows: a parent fans out one child per chapter, awaits them together, and
starts one more child through a handle.

Written for the familiar SDK; docs/migrating.md says what to change to run it here.
"""

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

TASK_QUEUE = "books"


@activity.defn
async def count_words(text: str) -> int:
    return len(text.split())


@workflow.defn
class ChapterWorkflow:
    @workflow.run
    async def run(self, text: str) -> int:
        return await workflow.execute_activity(count_words, text,
                                               start_to_close_timeout=timedelta(seconds=5))


@workflow.defn
class BookWorkflow:
    @workflow.run
    async def run(self, chapters: list[str]) -> str:
        book_id = workflow.info().workflow_id
        counts = await asyncio.gather(*(
            workflow.execute_child_workflow(ChapterWorkflow.run, text,
                                            id=f"{book_id}-chapter-{i}")
            for i, text in enumerate(chapters)))
        epilogue = await workflow.start_child_workflow(ChapterWorkflow.run, "the end",
                                                       id=f"{book_id}-epilogue")
        extra = await epilogue
        return f"{len(chapters)} chapters, {sum(counts)} words, epilogue {extra} words"


async def main() -> None:
    client = await Client.connect("localhost:7233")
    async with Worker(client, task_queue=TASK_QUEUE, workflows=[BookWorkflow, ChapterWorkflow],
                      activities=[count_words]):
        result = await client.execute_workflow(
            BookWorkflow.run, ["call me ishmael", "it was the best of times", "once upon"],
            id="book-1", task_queue=TASK_QUEUE)
        print(result)


if __name__ == "__main__":
    asyncio.run(main())
