"""OpenTelemetry tracing on the interceptor API: one interceptor for clients and workers.

Spans, with the familiar SDK's names:

- client (kind CLIENT): ``StartWorkflow:TYPE``, ``SignalWorkflow:NAME``,
  ``QueryWorkflow:NAME``, ``StartWorkflowUpdate:NAME``; each puts its context in the
  call's headers (``_tracer-data``), which the history records with the start or
  signal;
- workflow (workflow code, on the deterministic loop): ``RunWorkflow:TYPE``,
  ``HandleSignal:NAME``, ``HandleQuery:NAME``, ``ValidateUpdate:NAME``,
  ``HandleUpdate:NAME``, ``StartActivity:TYPE``, ``StartChildWorkflow:TYPE``,
  ``SignalExternalWorkflow:NAME``, ``ContinueAsNew``; the outbound ones put their
  context in the command's headers, recorded with it;
- activity (kind SERVER): ``RunActivity:TYPE``, current while the activity runs, so
  the activity's own instrumentation nests under it.

Workflow spans are reported only while the run is live, never while it replays
(a rebuilt run, a worker restart, the Replayer, the debugger), so a restarted
worker adds no duplicates. They open and close at once (workflow code has no
trustworthy wall time), under ``workflow.unsafe.sandbox_unrestricted()``. They
all hang under the context the run was started with (the client's
``StartWorkflow`` span, or the parent's ``StartChildWorkflow``), not under
``RunWorkflow``: that span is reported once by whichever worker ran the first
activation, while later commands may be issued by another worker after a
restart, and the tree must not depend on which.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any, NoReturn

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Tracer

from replay import client, worker, workflow

__all__ = ["HEADER", "TracingInterceptor"]

#: The header that carries a span context (W3C trace context fields, as JSON data).
HEADER = "_tracer-data"


def _carrier(headers: Mapping[str, Any]) -> dict[str, str]:
    value = headers.get(HEADER)
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {}


def _extract(headers: Mapping[str, Any]) -> otel_context.Context:
    return propagate.extract(_carrier(headers))


def _inject(headers: Any) -> dict[str, Any]:
    """A copy of ``headers`` with the current span context added."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    out = dict(headers or {})
    if carrier:
        out[HEADER] = carrier
    return out


class TracingInterceptor(client.Interceptor, worker.Interceptor):
    """Traces clients, workflows and activities; give it to ``Client.connect`` (its
    workers use it too) or to ``Worker(interceptors=...)``.

    ``tracer`` defaults to ``opentelemetry.trace.get_tracer("replay")`` from the
    global tracer provider.
    """

    def __init__(self, tracer: Tracer | None = None) -> None:
        self.tracer = tracer or trace.get_tracer("replay")
        interceptor = self

        class _BoundWorkflowInbound(_TracingWorkflowInbound):
            root = interceptor

        self._workflow_class = _BoundWorkflowInbound

    # --- client -----------------------------------------------------------------------------

    def intercept_client(self, next: client.OutboundInterceptor) -> client.OutboundInterceptor:
        return _TracingClientOutbound(next, self)

    # --- worker -----------------------------------------------------------------------------

    def intercept_activity(self, next: worker.ActivityInboundInterceptor
                           ) -> worker.ActivityInboundInterceptor:
        return _TracingActivityInbound(next, self)

    def workflow_interceptor_class(self, input: worker.WorkflowInterceptorClassInput
                                   ) -> type[worker.WorkflowInboundInterceptor]:
        return self._workflow_class

    @contextmanager
    def client_span(self, name: str, attributes: Mapping[str, str]) -> Iterator[None]:
        with self.tracer.start_as_current_span(name, kind=SpanKind.CLIENT,
                                               attributes=dict(attributes)):
            yield


class _TracingClientOutbound(client.OutboundInterceptor):
    def __init__(self, next: client.OutboundInterceptor, root: TracingInterceptor) -> None:
        super().__init__(next)
        self.root = root

    async def start_workflow(self, input: client.StartWorkflowInput
                             ) -> client.WorkflowHandle[Any, Any]:
        with self.root.client_span(f"StartWorkflow:{input.workflow}",
                                   {"replay.workflow_id": input.id}):
            input.headers = _inject(input.headers)
            return await super().start_workflow(input)

    async def signal_workflow(self, input: client.SignalWorkflowInput) -> None:
        with self.root.client_span(f"SignalWorkflow:{input.signal}",
                                   {"replay.workflow_id": input.id}):
            input.headers = _inject(input.headers)
            await super().signal_workflow(input)

    async def query_workflow(self, input: client.QueryWorkflowInput) -> Any:
        with self.root.client_span(f"QueryWorkflow:{input.query}",
                                   {"replay.workflow_id": input.id}):
            input.headers = _inject(input.headers)
            return await super().query_workflow(input)

    async def start_workflow_update(self, input: client.StartWorkflowUpdateInput
                                    ) -> client.WorkflowUpdateHandle[Any]:
        with self.root.client_span(f"StartWorkflowUpdate:{input.update}",
                                   {"replay.workflow_id": input.id}):
            input.headers = _inject(input.headers)
            return await super().start_workflow_update(input)


class _TracingActivityInbound(worker.ActivityInboundInterceptor):
    def __init__(self, next: worker.ActivityInboundInterceptor,
                 root: TracingInterceptor) -> None:
        super().__init__(next)
        self.root = root
        self.outbound: worker.ActivityOutboundInterceptor | None = None

    def init(self, outbound: worker.ActivityOutboundInterceptor) -> None:
        self.outbound = outbound
        super().init(outbound)

    async def execute_activity(self, input: worker.ExecuteActivityInput) -> Any:
        assert self.outbound is not None
        info = self.outbound.info()
        attributes: dict[str, str | int] = {"replay.workflow_id": info.workflow_id,
                      "replay.run_id": info.workflow_run_id,
                      "replay.activity_id": info.activity_id,
                      "replay.attempt": info.attempt}
        with self.root.tracer.start_as_current_span(
                f"RunActivity:{info.activity_type}", context=_extract(input.headers),
                kind=SpanKind.SERVER, attributes=attributes):
            return await super().execute_activity(input)


class _TracingWorkflowInbound(worker.WorkflowInboundInterceptor):
    """The workflow side; a subclass per TracingInterceptor sets ``root``."""

    root: TracingInterceptor

    def __init__(self, next: worker.WorkflowInboundInterceptor) -> None:
        super().__init__(next)
        self.run_context: otel_context.Context = otel_context.Context()

    def init(self, outbound: worker.WorkflowOutboundInterceptor) -> None:
        super().init(_TracingWorkflowOutbound(outbound, self))

    def span(self, name: str, parent: otel_context.Context | None = None,
             headers: MutableMapping[str, Any] | None = None) -> dict[str, Any] | None:
        """Report a finished span (unless replaying); with ``headers``, return them with
        the span's context added."""
        if workflow.unsafe.is_replaying():
            return None
        info = workflow.info()
        with workflow.unsafe.sandbox_unrestricted():
            span = self.root.tracer.start_span(
                name, context=parent if parent is not None else self.run_context,
                attributes={"replay.workflow_id": info.workflow_id,
                            "replay.run_id": info.run_id})
            try:
                if headers is None:
                    return None
                token = otel_context.attach(trace.set_span_in_context(span))
                try:
                    return _inject(headers)
                finally:
                    otel_context.detach(token)
            finally:
                span.end()

    async def execute_workflow(self, input: worker.ExecuteWorkflowInput) -> Any:
        self.run_context = _extract(input.headers)
        self.span(f"RunWorkflow:{workflow.info().workflow_type}")
        return await super().execute_workflow(input)

    async def handle_signal(self, input: worker.HandleSignalInput) -> None:
        self.span(f"HandleSignal:{input.signal}", _extract(input.headers)
                  if input.headers.get(HEADER) else None)
        await super().handle_signal(input)

    def handle_query(self, input: worker.HandleQueryInput) -> Any:
        self.span(f"HandleQuery:{input.query}", _extract(input.headers)
                  if input.headers.get(HEADER) else None)
        return super().handle_query(input)

    def handle_update_validator(self, input: worker.HandleUpdateInput) -> None:
        self.span(f"ValidateUpdate:{input.update}", _extract(input.headers)
                  if input.headers.get(HEADER) else None)
        super().handle_update_validator(input)

    async def handle_update_handler(self, input: worker.HandleUpdateInput) -> Any:
        self.span(f"HandleUpdate:{input.update}", _extract(input.headers)
                  if input.headers.get(HEADER) else None)
        return await super().handle_update_handler(input)


class _TracingWorkflowOutbound(worker.WorkflowOutboundInterceptor):
    def __init__(self, next: worker.WorkflowOutboundInterceptor,
                 inbound: _TracingWorkflowInbound) -> None:
        super().__init__(next)
        self.inbound = inbound

    def _headers(self, name: str, headers: Mapping[str, Any]) -> Mapping[str, Any]:
        added = self.inbound.span(name, headers=dict(headers))
        return headers if added is None else added

    def start_activity(self, input: worker.StartActivityInput) -> Any:
        input.headers = self._headers(f"StartActivity:{input.activity}", input.headers)
        return super().start_activity(input)

    def start_local_activity(self, input: worker.StartActivityInput) -> Any:
        input.headers = self._headers(f"StartActivity:{input.activity}", input.headers)
        return super().start_local_activity(input)

    async def start_child_workflow(self, input: worker.StartChildWorkflowInput) -> Any:
        input.headers = self._headers(f"StartChildWorkflow:{input.workflow}", input.headers)
        return await super().start_child_workflow(input)

    async def signal_child_workflow(self, input: worker.SignalChildWorkflowInput) -> None:
        input.headers = self._headers(f"SignalChildWorkflow:{input.signal}", input.headers)
        await super().signal_child_workflow(input)

    async def signal_external_workflow(self, input: worker.SignalExternalWorkflowInput
                                       ) -> None:
        input.headers = self._headers(f"SignalExternalWorkflow:{input.signal}",
                                      input.headers)
        await super().signal_external_workflow(input)

    def continue_as_new(self, input: worker.ContinueAsNewInput) -> NoReturn:
        input.headers = self._headers("ContinueAsNew", input.headers)
        super().continue_as_new(input)
