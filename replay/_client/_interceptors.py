"""Client interceptors: the outbound chain around what a client asks of runs.

``Client.connect(interceptors=[...])`` wraps the client's own implementation in
each interceptor's ``intercept_client`` (the first given is the outermost), and
every start, signal, query, update, cancel, terminate and describe (from the
client or any handle it made) goes through the chain as an ``*Input``. The
inputs are mutable: an interceptor may change them (add ``headers``, say)
before passing them to ``next``. ``headers`` are ``name -> payload`` (JSON data,
e.g. ``client.converter.to_payload(value)``); those of a start or a signal are
recorded with the run's ``WorkflowStarted`` or ``SignalReceived`` and reach the
workflow's inbound interceptors.

``rpc_metadata`` and ``rpc_timeout`` exist because familiar code passes them:
replay makes no remote call, so they are checked for their types and otherwise
have no effect.
"""

from __future__ import annotations

from typing import Any

from ._handle import WorkflowExecutionDescription, WorkflowHandle, WorkflowUpdateHandle
from ._inputs import (
    CancelWorkflowInput,
    DescribeWorkflowInput,
    QueryWorkflowInput,
    SignalWorkflowInput,
    StartWorkflowInput,
    StartWorkflowUpdateInput,
    TerminateWorkflowInput,
)


class OutboundInterceptor:
    """Base of client interceptors' outbound part: each method passes to ``next``."""

    def __init__(self, next: OutboundInterceptor) -> None:
        self.next = next

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        return await self.next.start_workflow(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        await self.next.signal_workflow(input)

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        return await self.next.query_workflow(input)

    async def start_workflow_update(self, input: StartWorkflowUpdateInput
                                    ) -> WorkflowUpdateHandle[Any]:
        return await self.next.start_workflow_update(input)

    async def cancel_workflow(self, input: CancelWorkflowInput) -> None:
        await self.next.cancel_workflow(input)

    async def terminate_workflow(self, input: TerminateWorkflowInput) -> None:
        await self.next.terminate_workflow(input)

    async def describe_workflow(self, input: DescribeWorkflowInput
                                ) -> WorkflowExecutionDescription:
        return await self.next.describe_workflow(input)


class Interceptor:
    """Base of client interceptors. One that is also a ``replay.worker.Interceptor`` is
    used by every worker made with the client as well."""

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        """Wrap ``next`` (the rest of the chain) in an outbound interceptor."""
        return next
