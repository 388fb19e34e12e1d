"""Failures with very long cause chains, and the workflows that record them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from replay import activity, workflow
from replay.common import RetryPolicy
from replay.exceptions import ApplicationError


def deep_chain(causes: int) -> ApplicationError:
    """An ApplicationError whose ``__cause__`` chain holds ``causes`` more exceptions."""
    inner: BaseException | None = None
    for i in range(causes):
        outer = ValueError(f"cause {i}")
        outer.__cause__ = inner
        inner = outer
    top = ApplicationError("deep failure", non_retryable=True)
    top.__cause__ = inner
    return top


@activity.defn
async def fail_deeply(causes: int) -> None:
    raise deep_chain(causes)


@workflow.defn
class FailsDeeply:
    @workflow.run
    async def run(self, causes: int) -> None:
        raise deep_chain(causes)


@workflow.defn
class ActivityFailsDeeply:
    @workflow.run
    async def run(self, causes: int) -> None:
        await workflow.execute_activity(
            fail_deeply, causes, start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=1))


@workflow.defn
class Echo:
    @workflow.run
    async def run(self, value: Any) -> Any:
        await workflow.wait_condition(lambda: False)
        return value

    @workflow.signal
    async def poke(self, value: Any) -> None:
        pass
