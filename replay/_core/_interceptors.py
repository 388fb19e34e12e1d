"""Workflow interceptors: the inbound and outbound chains around workflow code.

A worker's ``Interceptor.workflow_interceptor_class`` names a
:class:`WorkflowInboundInterceptor` subclass; each run builds one chain of them
(the first interceptor given is the outermost) ending in the engine's own
implementation. The inbound chain sees what reaches the run (its start,
signals, queries, updates); ``init`` hands it the outbound chain, which sees
what the run asks for (activities, children, signals to other runs,
continue-as-new, ``info()``).

Interceptors on this side are workflow code: they run inside the deterministic
loop and under the sandbox, and a replay calls the inbound chain again (check
``workflow.unsafe.is_replaying()`` before reporting anything). ``headers`` are
``name -> payload`` (JSON data, e.g. from ``workflow.payload_converter()``):
what the outbound chain sets on an activity, child or continue-as-new is
recorded with its command and reaches the receiving side's inbound chain.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, NoReturn

import attrs

from ._common import ActivityCancellationType, RetryPolicy
from ._info import WorkflowInfo
from ._parent_close import ParentClosePolicy
from ._search_attributes import TypedSearchAttributes

# The outbound chain returns the workflow API's handles (``workflow.ActivityHandle``, a
# task; ``workflow.ChildWorkflowHandle``, awaitable); typed by what they are, as the
# modules that define them import this one.
ActivityHandleLike = asyncio.Task[Any]
ChildHandleLike = Awaitable[Any]

Headers = Mapping[str, Any]
"""Header name -> payload (JSON-able data)."""


# --- inbound: what reaches the run ---------------------------------------------------------


@attrs.define(kw_only=True)
class ExecuteWorkflowInput:
    """The run method about to run: ``run_fn(*args)`` (bound to the workflow object)."""

    type: type
    run_fn: Callable[..., Any]
    args: Sequence[Any]
    headers: Headers = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class HandleSignalInput:
    """A signal for the run, its arguments decoded for its handler."""

    signal: str
    args: Sequence[Any]
    headers: Headers = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class HandleQueryInput:
    """A query of the run, its arguments decoded for its handler (read-only)."""

    id: str
    query: str
    args: Sequence[Any]
    headers: Headers = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class HandleUpdateInput:
    """An update of the run (its validator, then its handler)."""

    id: str
    update: str
    args: Sequence[Any]
    headers: Headers = attrs.field(factory=dict)


class WorkflowInboundInterceptor:
    """Base of inbound workflow interceptors: each method passes to ``next`` by default."""

    def __init__(self, next: WorkflowInboundInterceptor) -> None:
        self.next = next

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        """Called once per run object, before the workflow's ``__init__``; wrap
        ``outbound`` in an outbound interceptor to see what the run asks for."""
        self.next.init(outbound)

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        """Run the workflow's run method; its return value is the run's result."""
        return await self.next.execute_workflow(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        """Run a signal handler."""
        await self.next.handle_signal(input)

    def handle_query(self, input: HandleQueryInput) -> Any:
        """Run a query handler (synchronous and read-only)."""
        return self.next.handle_query(input)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        """Run an update's validator (read-only); raising rejects the update."""
        self.next.handle_update_validator(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        """Run an accepted update's handler; its return value is the update's result."""
        return await self.next.handle_update_handler(input)


# --- outbound: what the run asks for ---------------------------------------------------------


@attrs.define(kw_only=True)
class StartActivityInput:
    """An activity workflow code is scheduling (also a local one: ``is_local``)."""

    activity: str
    args: Sequence[Any]
    activity_id: str | None
    task_queue: str | None
    schedule_to_close_timeout: timedelta | None
    schedule_to_start_timeout: timedelta | None
    start_to_close_timeout: timedelta | None
    heartbeat_timeout: timedelta | None
    retry_policy: RetryPolicy | None
    cancellation_type: ActivityCancellationType
    ret_type: Any
    is_local: bool = False
    headers: Headers = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class StartChildWorkflowInput:
    """A child run workflow code is starting."""

    workflow: str
    args: Sequence[Any]
    id: str | None
    task_queue: str | None
    memo: Mapping[str, Any] | None
    ret_type: Any
    headers: Headers = attrs.field(factory=dict)
    search_attributes: TypedSearchAttributes | None = None
    parent_close_policy: ParentClosePolicy = ParentClosePolicy.TERMINATE


@attrs.define(kw_only=True)
class SignalChildWorkflowInput:
    """A signal to a child run started by this one."""

    signal: str
    args: Sequence[Any]
    child_workflow_id: str
    headers: Headers = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class SignalExternalWorkflowInput:
    """A signal to another run, by workflow id (and run id)."""

    signal: str
    args: Sequence[Any]
    namespace: str
    workflow_id: str
    workflow_run_id: str | None
    headers: Headers = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class ContinueAsNewInput:
    """The run is handing over to a new run of its workflow id."""

    workflow: str | None
    args: Sequence[Any]
    task_queue: str | None
    memo: Mapping[str, Any] | None
    headers: Headers = attrs.field(factory=dict)
    search_attributes: TypedSearchAttributes | None = None
    """The new run's search attributes; None carries the current ones over."""


class WorkflowOutboundInterceptor:
    """Base of outbound workflow interceptors: each method passes to ``next`` by default."""

    def __init__(self, next: WorkflowOutboundInterceptor) -> None:
        self.next = next

    def info(self) -> WorkflowInfo:
        """What ``workflow.info()`` returns."""
        return self.next.info()

    def start_activity(self, input: StartActivityInput) -> ActivityHandleLike:
        """Schedule an activity (``workflow.start_activity`` and ``execute_activity``)."""
        return self.next.start_activity(input)

    def start_local_activity(self, input: StartActivityInput) -> ActivityHandleLike:
        """Schedule a local activity (here run as a regular one)."""
        return self.next.start_local_activity(input)

    async def start_child_workflow(self, input: StartChildWorkflowInput) -> ChildHandleLike:
        """Start a child run."""
        return await self.next.start_child_workflow(input)

    async def signal_child_workflow(self, input: SignalChildWorkflowInput) -> None:
        """Signal a child run."""
        await self.next.signal_child_workflow(input)

    async def signal_external_workflow(self, input: SignalExternalWorkflowInput) -> None:
        """Signal another run."""
        await self.next.signal_external_workflow(input)

    def continue_as_new(self, input: ContinueAsNewInput) -> NoReturn:
        """End this run and start a new one (raises ContinueAsNewError)."""
        self.next.continue_as_new(input)


@attrs.frozen(kw_only=True)
class WorkflowInterceptorClassInput:
    """What ``Interceptor.workflow_interceptor_class`` is told (nothing needed yet)."""


WorkflowInterceptorClasses = Sequence[type[WorkflowInboundInterceptor]]
"""The classes a worker builds each run's inbound chain from, outermost first."""


@attrs.frozen
class WorkflowInterceptors:
    """A worker's workflow interceptor classes and the engine's outbound implementation
    (given by ``_interceptor_roots``, which the instance cannot import)."""

    classes: WorkflowInterceptorClasses
    outbound_root: Callable[[], WorkflowOutboundInterceptor]

    def build(self, root: RootInbound) -> tuple[WorkflowInboundInterceptor,
                                                 WorkflowOutboundInterceptor]:
        """One run's chains: the inbound one (outermost first) and, after ``init``, the
        outbound one its interceptors wrapped."""
        inbound: WorkflowInboundInterceptor = root
        for cls in reversed(self.classes):
            inbound = cls(inbound)
        inbound.init(self.outbound_root())
        assert root.outbound is not None, "an interceptor's init() did not call next.init()"
        return inbound, root.outbound


class RootInbound(WorkflowInboundInterceptor):
    """The end of an inbound chain: keeps the outbound chain ``init`` hands it down."""

    def __init__(self) -> None:  # the end of the chain has no next
        self.outbound: WorkflowOutboundInterceptor | None = None

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        self.outbound = outbound
