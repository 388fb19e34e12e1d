"""Mutated copies of the fixture workflows, registered under the original names.

Each changes the commands the original issued along its recorded paths:
reordered, renamed, added or removed commands, or changed durations. Replaying
an original history through any of them must fail (DESIGN invariant 5).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from fixtures.workflows import activities as acts
from fixtures.workflows.activities import Order
from fixtures.workflows.family import ChildWorkflow
from fixtures.workflows.messages import Approval, Language
from replay import workflow
from replay.common import RetryPolicy
from replay.exceptions import ActivityError, ApplicationError

T = timedelta(seconds=30)


@workflow.defn(name="TimerWorkflow")
class TimerLongerSleep:
    """changed duration: 6 minutes instead of 5."""

    def __init__(self) -> None:
        self.stopped = False

    @workflow.run
    async def run(self, rounds: int) -> str:
        for i in range(rounds):
            await workflow.sleep(timedelta(minutes=6))
            workflow.emit({"round": i + 1})
        return "x"

    @workflow.signal
    def stop(self) -> None:
        self.stopped = True


@workflow.defn(name="TimerWorkflow")
class TimerEmitFirst:
    """reordered: emits before sleeping."""

    @workflow.run
    async def run(self, rounds: int) -> str:
        for i in range(rounds):
            workflow.emit({"round": i + 1})
            await workflow.sleep(timedelta(minutes=5))
        return "x"

    @workflow.signal
    def stop(self) -> None:
        pass


@workflow.defn(name="TimerWorkflow")
class TimerNoEmit:
    """removed: never emits."""

    @workflow.run
    async def run(self, rounds: int) -> str:
        for _ in range(rounds):
            await workflow.sleep(timedelta(minutes=5))
        await asyncio.sleep(3600)
        return "x"

    @workflow.signal
    def stop(self) -> None:
        pass


@workflow.defn(name="OrderWorkflow")
class OrderChargeFirst:
    """reordered: charges before reserving."""

    @workflow.run
    async def run(self, order: Order) -> list[str]:
        await workflow.execute_activity(acts.charge_card, order, start_to_close_timeout=T)
        await workflow.execute_activity(acts.reserve_stock, order, start_to_close_timeout=T,
                                        retry_policy=RetryPolicy(maximum_attempts=3))
        return []


@workflow.defn(name="OrderWorkflow")
class OrderRenamedActivity:
    """renamed: the first activity is another one."""

    @workflow.run
    async def run(self, order: Order) -> list[str]:
        await workflow.execute_activity(acts.refund, order, start_to_close_timeout=T)
        return []


@workflow.defn(name="OrderWorkflow")
class OrderSkipsCharge:
    """removed: goes straight from reserving to shipping."""

    @workflow.run
    async def run(self, order: Order) -> list[str]:
        await workflow.execute_activity(acts.reserve_stock, order, start_to_close_timeout=T,
                                        retry_policy=RetryPolicy(maximum_attempts=3))
        with contextlib.suppress(ActivityError):
            await workflow.execute_activity(acts.ship, order, start_to_close_timeout=T)
        return []


@workflow.defn(name="ApprovalWorkflow")
class ApprovalEmits:
    """added: emits an event when approved."""

    def __init__(self) -> None:
        self.approved_by: str | None = None
        self.language = Language.ENGLISH

    @workflow.run
    async def run(self, who: str) -> str:
        await workflow.wait_condition(lambda: self.approved_by is not None)
        workflow.emit("approved")
        return who

    @workflow.signal
    def approve(self, approval: Approval) -> None:
        self.approved_by = approval.name

    @workflow.signal
    def note(self, text: str) -> None:
        pass

    @workflow.update
    def set_language(self, language: Language) -> Language:
        previous, self.language = self.language, language
        return previous

    @workflow.update
    def add_note(self, text: str) -> int:
        if not text:
            raise ApplicationError("empty note")
        return 1


@workflow.defn(name="ParentWorkflow")
class ParentRenamedChild:
    """renamed: the first child gets another workflow id."""

    @workflow.run
    async def run(self, n: int) -> list[str]:
        await workflow.execute_child_workflow(ChildWorkflow.run, n, id=f"kid-{n}")
        return []


@workflow.defn(name="ParentWorkflow")
class ParentSignalsFirst:
    """reordered: signals a peer before starting children."""

    @workflow.run
    async def run(self, n: int) -> list[str]:
        await workflow.get_external_workflow_handle("peer-a").signal("ping", n)
        return []


@workflow.defn(name="BatchWorkflow")
class BatchShorterSleep:
    """changed duration: 5 s instead of 10."""

    @workflow.run
    async def run(self, remaining: int) -> str:
        await workflow.sleep(timedelta(seconds=5))
        if remaining > 0:
            workflow.continue_as_new(remaining - 1)
        return "all batches done"


@workflow.defn(name="BatchWorkflow")
class BatchNoContinue:
    """removed: completes instead of continuing as new."""

    ONLY_RUNS = ("run-batch-0", "run-batch-1")  # the last batch completes in both versions

    @workflow.run
    async def run(self, remaining: int) -> str:
        await workflow.sleep(timedelta(seconds=10))
        return "all batches done"


@workflow.defn(name="CancellableWorkflow")
class CancellableLongerSleep:
    """changed duration: two days."""

    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(timedelta(days=2))
        return "woke up"


@workflow.defn(name="FailingWorkflow")
class FailingWaitsFirst:
    """added: a timer before failing."""

    def __init__(self) -> None:
        self.go = False

    @workflow.run
    async def run(self, reason: str) -> None:
        await workflow.sleep(1)
        await workflow.wait_condition(lambda: self.go)
        raise ApplicationError(reason, non_retryable=True)

    @workflow.signal
    def proceed(self) -> None:
        self.go = True


@workflow.defn(name="PatchedWorkflow")
class PatchedNoMarker:
    """removed: the patch marker."""

    @workflow.run
    async def run(self, x: int) -> int:
        await workflow.sleep(timedelta(minutes=1))
        return x + 1


@workflow.defn(name="WaitingWorkflow")
class WaitingTimerFirst:
    """added: a timer before waiting."""

    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.sleep(60)
        await workflow.wait_condition(lambda: self.done)
        return []

    @workflow.signal
    def push(self, item: str) -> None:
        pass

    @workflow.signal
    def finish(self) -> None:
        self.done = True


MUTANTS: list[type] = [
    TimerLongerSleep, TimerEmitFirst, TimerNoEmit, OrderChargeFirst, OrderRenamedActivity,
    OrderSkipsCharge, ApprovalEmits, ParentRenamedChild, ParentSignalsFirst,
    BatchShorterSleep, BatchNoContinue, CancellableLongerSleep, FailingWaitsFirst,
    PatchedNoMarker, WaitingTimerFirst,
]
"""Every mutant; each is replayed against all histories of its workflow type."""
