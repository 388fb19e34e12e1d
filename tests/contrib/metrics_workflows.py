"""Workflows for the metrics tests: an activity that fails once, one that always fails,
a child."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from replay import activity, workflow
from replay.common import RetryPolicy
from replay.exceptions import ActivityError, ApplicationError

_ATTEMPTS: dict[str, int] = {}


@activity.defn
async def flaky(key: str) -> str:
    _ATTEMPTS[key] = _ATTEMPTS.get(key, 0) + 1
    if _ATTEMPTS[key] == 1:
        raise ApplicationError("first attempt fails")
    return key


@activity.defn
async def broken(key: str) -> str:
    raise ApplicationError(f"{key} never works", non_retryable=True)


@workflow.defn
class Leaf:
    @workflow.run
    async def run(self, value: int) -> int:
        return value + 1


@workflow.defn
class Tree:
    @workflow.run
    async def run(self, key: str) -> int:
        fast = RetryPolicy(initial_interval=timedelta(milliseconds=1))
        await workflow.execute_activity(flaky, key, retry_policy=fast,
                                        start_to_close_timeout=timedelta(seconds=30))
        with contextlib.suppress(ActivityError):
            await workflow.execute_activity(broken, key,
                                            start_to_close_timeout=timedelta(seconds=30))
        return await workflow.execute_child_workflow(Leaf.run, 41, id=f"{key}-leaf")


@workflow.defn
class Buggy:
    """A bug in workflow code: its workflow task fails (and is retried) until fixed."""

    @workflow.run
    async def run(self) -> None:
        raise RuntimeError("a bug in workflow code")


QUEUE = "metrics"
WORKFLOWS: list[type] = [Tree, Leaf, Buggy]
ACTIVITIES = [flaky, broken]
