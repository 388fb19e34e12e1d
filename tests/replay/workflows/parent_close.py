"""A parent that starts one child with a parent close policy, then closes in a chosen way."""

from __future__ import annotations

from dataclasses import dataclass

from replay import workflow
from replay.exceptions import ApplicationError


@workflow.defn
class Waiter:
    """A child (or grandchild) that waits until it is cancelled or terminated."""

    @workflow.run
    async def run(self, grandchild: str | None) -> str:
        if grandchild is not None:
            await workflow.start_child_workflow(Waiter.run, None, id=grandchild)
        await workflow.wait_condition(lambda: False)
        return "never"


@dataclass
class Plan:
    close: str  # complete, fail, continue_as_new, or wait (cancel, terminate, timeout)
    policy: workflow.ParentClosePolicy
    child_id: str
    grandchild_id: str | None = None
    continued: bool = False


@workflow.defn
class Parent:
    @workflow.run
    async def run(self, plan: Plan) -> str:
        if plan.continued:
            return "continued"
        await workflow.start_child_workflow(Waiter.run, plan.grandchild_id, id=plan.child_id,
                                            parent_close_policy=plan.policy)
        if plan.close == "complete":
            return "done"
        if plan.close == "fail":
            raise ApplicationError("parent fails", non_retryable=True)
        if plan.close == "continue_as_new":
            plan.continued = True
            workflow.continue_as_new(plan)
        await workflow.wait_condition(lambda: False)
        return "never"


@workflow.defn
class BadPolicy:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_child_workflow(Waiter.run, None,
                                              parent_close_policy="ABANDON")
