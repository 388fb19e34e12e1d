"""Worker interceptors: the activity chains, and the worker's hook for workflow ones.

``Worker(interceptors=[...])`` (and every interceptor given to
``Client.connect(interceptors=...)`` that is also a worker :class:`Interceptor`)
wraps each activity attempt in an inbound chain, outermost first, ending in the
engine's own call of the activity; ``init`` hands it the outbound chain that
``activity.info()`` and ``activity.heartbeat()`` go through. The workflow side's
classes live in ``replay._core._interceptors``; ``workflow_interceptor_class``
names the one a worker adds to each run's chain.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from .._core._interceptors import (
    WorkflowInboundInterceptor,
    WorkflowInterceptorClasses,
    WorkflowInterceptorClassInput,
)
from . import _activity_ctx


@attrs.define(kw_only=True)
class ExecuteActivityInput:
    """One activity attempt about to run: ``fn(*args)``, a sync one on ``executor``.

    ``headers`` are those the scheduling workflow's outbound interceptors set
    (``StartActivityInput.headers``), as recorded with the activity.
    """

    fn: Callable[..., Any]
    args: Sequence[Any]
    executor: concurrent.futures.Executor | None
    headers: Mapping[str, Any] = attrs.field(factory=dict)


class ActivityOutboundInterceptor:
    """Base of outbound activity interceptors: what activity code asks of the worker."""

    def __init__(self, next: ActivityOutboundInterceptor) -> None:
        self.next = next

    def info(self) -> _activity_ctx.ActivityInfo:
        """What ``activity.info()`` returns."""
        return self.next.info()

    def heartbeat(self, *details: Any) -> None:
        """Record progress (``activity.heartbeat``)."""
        self.next.heartbeat(*details)


class ActivityInboundInterceptor:
    """Base of inbound activity interceptors: each method passes to ``next`` by default."""

    def __init__(self, next: ActivityInboundInterceptor) -> None:
        self.next = next

    def init(self, outbound: ActivityOutboundInterceptor) -> None:
        """Called once per attempt before ``execute_activity``; wrap ``outbound`` to see
        what the activity asks for."""
        self.next.init(outbound)

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        """Run the attempt; its return value is the activity's result."""
        return await self.next.execute_activity(input)


class Interceptor:
    """Base of worker interceptors (override either method; both add nothing by default)."""

    def intercept_activity(self, next: ActivityInboundInterceptor
                           ) -> ActivityInboundInterceptor:
        """Wrap ``next`` (the rest of the activity chain) in an inbound interceptor."""
        return next

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput
                                   ) -> type[WorkflowInboundInterceptor] | None:
        """The inbound workflow interceptor class to add to every run, or None."""
        return None


def workflow_classes(interceptors: Sequence[Interceptor]) -> WorkflowInterceptorClasses:
    """The workflow interceptor classes ``interceptors`` name, outermost first."""
    given = WorkflowInterceptorClassInput()
    found = (i.workflow_interceptor_class(given) for i in interceptors)
    return [cls for cls in found if cls is not None]


# --- the end of the chains: the engine's own work -------------------------------------------


class _EngineActivityOutbound(ActivityOutboundInterceptor):
    def __init__(self, ctx: _activity_ctx.ActivityContext) -> None:  # no next: the end
        self._ctx = ctx

    def info(self) -> _activity_ctx.ActivityInfo:
        return self._ctx.info

    def heartbeat(self, *details: Any) -> None:
        _activity_ctx.beat(self._ctx, details)


class _EngineActivityInbound(ActivityInboundInterceptor):
    def __init__(self, ctx: _activity_ctx.ActivityContext) -> None:  # no next: the end
        self._ctx = ctx

    def init(self, outbound: ActivityOutboundInterceptor) -> None:
        self._ctx.outbound = outbound

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        if inspect.iscoroutinefunction(input.fn):
            return await input.fn(*input.args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(input.executor, contextvars.copy_context().run,
                                          input.fn, *input.args)


def activity_chain(interceptors: Sequence[Interceptor], ctx: _activity_ctx.ActivityContext
                   ) -> ActivityInboundInterceptor:
    """One attempt's inbound chain, ``init`` already called (in the current context)."""
    chain: ActivityInboundInterceptor = _EngineActivityInbound(ctx)
    for interceptor in reversed(interceptors):
        chain = interceptor.intercept_activity(chain)
    chain.init(_EngineActivityOutbound(ctx))
    return chain
