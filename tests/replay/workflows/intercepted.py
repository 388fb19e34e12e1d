"""A workflow and activity run under client, workflow and activity interceptors.

The interceptors record what they see in ``SEEN`` (kind, header, replaying) and
carry a ``trace`` header from the client's start through the workflow to the
activity, which returns the value it received.
"""

from __future__ import annotations

import contextvars
from datetime import timedelta
from typing import Any

from replay import activity, workflow
from replay.client import (
    Interceptor as ClientInterceptor,
)
from replay.client import (
    OutboundInterceptor,
    SignalWorkflowInput,
    StartWorkflowInput,
)
from replay.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    ExecuteWorkflowInput,
    HandleQueryInput,
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    StartActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

SEEN: list[tuple[str, Any, bool]] = []
"""(kind, trace header or None, replaying) per interceptor call, in order."""
CLIENT_CALLS: list[str] = []
_TRACE: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace", default=None)


@activity.defn
async def traced_activity() -> dict[str, Any]:
    info = activity.info()
    return {"trace": _TRACE.get(), "heartbeat_timeout": info.heartbeat_timeout.total_seconds()
            if info.heartbeat_timeout else None, "is_local": info.is_local}


@workflow.defn
class TracedWorkflow:
    def __init__(self) -> None:
        self.notes: list[str] = []

    @workflow.run
    async def run(self) -> dict[str, Any]:
        await workflow.wait_condition(lambda: len(self.notes) >= 2)
        result = await workflow.execute_activity(
            traced_activity, start_to_close_timeout=timedelta(seconds=10),
            heartbeat_timeout=timedelta(seconds=5))
        return {"activity": result, "notes": self.notes}

    @workflow.signal
    def note(self, text: str) -> None:
        self.notes.append(text)

    @workflow.query
    def notes_so_far(self) -> list[str]:
        return list(self.notes)

    @workflow.update
    def add_note(self, text: str) -> int:
        self.notes.append(text)
        return len(self.notes)

    @add_note.validator
    def check_note(self, text: str) -> None:
        if not text:
            raise ValueError("empty note")


# --- client side -------------------------------------------------------------------------------


class TraceClient(ClientInterceptor):
    """Adds a ``trace`` header to starts and signals; counts the calls it sees."""

    def __init__(self, trace: str) -> None:
        self.trace = trace

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _TraceOutbound(next, self.trace)


class _TraceOutbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, trace: str) -> None:
        super().__init__(next)
        self.trace = trace

    async def start_workflow(self, input: StartWorkflowInput) -> Any:
        CLIENT_CALLS.append("start_workflow")
        input.headers = {**input.headers, "trace": self.trace}
        return await super().start_workflow(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        CLIENT_CALLS.append("signal_workflow")
        input.headers = {**input.headers, "trace": self.trace + "-signal"}
        await super().signal_workflow(input)

    async def query_workflow(self, input: Any) -> Any:
        CLIENT_CALLS.append("query_workflow")
        input.headers = {**input.headers, "trace": self.trace + "-query"}
        return await super().query_workflow(input)

    async def start_workflow_update(self, input: Any) -> Any:
        CLIENT_CALLS.append("start_workflow_update")
        input.headers = {**input.headers, "trace": self.trace + "-update"}
        return await super().start_workflow_update(input)

    async def describe_workflow(self, input: Any) -> Any:
        CLIENT_CALLS.append("describe_workflow")
        return await super().describe_workflow(input)


# --- worker side ---------------------------------------------------------------------------------


class TraceWorker(Interceptor):
    """Records workflow inbound calls, forwards the start's trace header to activities,
    and hands the header an activity receives to the activity."""

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput
                                   ) -> type[WorkflowInboundInterceptor]:
        return _TraceInbound

    def intercept_activity(self, next: ActivityInboundInterceptor
                           ) -> ActivityInboundInterceptor:
        return _TraceActivity(next)


def _record(kind: str, headers: Any) -> None:
    SEEN.append((kind, dict(headers).get("trace"), workflow.unsafe.is_replaying()))


class _TraceInbound(WorkflowInboundInterceptor):
    trace: Any = None

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        _record("init", {})
        super().init(_TraceOutboundWf(outbound, self))

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        _record("execute_workflow", input.headers)
        self.trace = input.headers.get("trace")
        return await super().execute_workflow(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        _record("handle_signal", input.headers)
        await super().handle_signal(input)

    def handle_query(self, input: HandleQueryInput) -> Any:
        _record("handle_query", input.headers)
        return super().handle_query(input)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        _record("handle_update_validator", input.headers)
        super().handle_update_validator(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        _record("handle_update_handler", input.headers)
        return await super().handle_update_handler(input)


class _TraceOutboundWf(WorkflowOutboundInterceptor):
    def __init__(self, next: WorkflowOutboundInterceptor, inbound: _TraceInbound) -> None:
        super().__init__(next)
        self.inbound = inbound

    def start_activity(self, input: StartActivityInput) -> Any:
        _record("start_activity", input.headers)
        input.headers = {**input.headers, "trace": self.inbound.trace}
        return super().start_activity(input)


class _TraceActivity(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        SEEN.append(("execute_activity", input.headers.get("trace"), False))
        token = _TRACE.set(input.headers.get("trace"))
        try:
            return await super().execute_activity(input)
        finally:
            _TRACE.reset(token)
