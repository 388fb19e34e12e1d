"""The end of every run's outbound interceptor chain: the workflow API's own work.

Kept apart from ``_interceptors`` (which the instance imports) because it calls
the runtime API, which imports the instance. Workers and replayers give
:func:`workflow_interceptors` to the instances they create.
"""

from __future__ import annotations

from typing import Any, NoReturn

from ._current import instance_for
from ._info import WorkflowInfo
from ._interceptors import (
    ContinueAsNewInput,
    SignalChildWorkflowInput,
    SignalExternalWorkflowInput,
    StartActivityInput,
    StartChildWorkflowInput,
    WorkflowInterceptorClasses,
    WorkflowInterceptors,
    WorkflowOutboundInterceptor,
)
from ._runtime import raise_continue_as_new
from ._runtime_activity import ActivityHandle, schedule_activity
from ._runtime_child import ChildWorkflowHandle, signal_child, signal_external, start_child


class EngineOutbound(WorkflowOutboundInterceptor):
    """What the run asks for, done (commands issued on the current run)."""

    def __init__(self) -> None:  # the end of the chain has no next
        pass

    def info(self) -> WorkflowInfo:
        return instance_for("info").info

    def start_activity(self, input: StartActivityInput) -> ActivityHandle[Any]:
        return schedule_activity(input)

    def start_local_activity(self, input: StartActivityInput) -> ActivityHandle[Any]:
        return schedule_activity(input)

    async def start_child_workflow(self, input: StartChildWorkflowInput
                                   ) -> ChildWorkflowHandle:
        return start_child(input)

    async def signal_child_workflow(self, input: SignalChildWorkflowInput) -> None:
        await signal_child(input)

    async def signal_external_workflow(self, input: SignalExternalWorkflowInput) -> None:
        await signal_external(input)

    def continue_as_new(self, input: ContinueAsNewInput) -> NoReturn:
        raise_continue_as_new(input)


def workflow_interceptors(classes: WorkflowInterceptorClasses) -> WorkflowInterceptors | None:
    """What an instance needs to build its chains from ``classes`` (None if empty)."""
    return WorkflowInterceptors(tuple(classes), EngineOutbound) if classes else None
