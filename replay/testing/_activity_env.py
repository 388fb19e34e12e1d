"""``ActivityEnvironment``: run activity code outside a worker, with a fake context."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from replay.history import PayloadConverter, default_converter

from .._worker._activity_ctx import ActivityContext, ActivityInfo, set_context


def default_info() -> ActivityInfo:
    """The info an :class:`ActivityEnvironment` starts with (change it with ``attrs.evolve``)."""
    return ActivityInfo(
        activity_id="test", activity_type="unknown", attempt=1,
        scheduled_time=datetime(1970, 1, 1, tzinfo=UTC), task_queue="test",
        workflow_id="test", workflow_run_id="test-run", workflow_type="test",
        scheduled_event_id=1, task_token=b"test")


class _FakeContext(ActivityContext):
    """A context whose heartbeats go to the environment's ``on_heartbeat`` as given."""

    def __init__(self, env: ActivityEnvironment) -> None:
        super().__init__(env.info, env.payload_converter, lambda _: False)
        self._env = env

    def heartbeat(self, *details: Any) -> None:
        self._env.on_heartbeat(*details)


class ActivityEnvironment:
    """Runs an activity function (async or sync) in an activity context, without a worker.

    ``activity.info()`` returns :attr:`info`, ``activity.heartbeat(*details)`` calls
    :attr:`on_heartbeat` with the details as given, ``activity.payload_converter()``
    returns :attr:`payload_converter`, and :meth:`cancel` cancels the activity as a
    worker would: an async activity's task is cancelled (it sees
    ``asyncio.CancelledError``); a sync one sees ``activity.is_cancelled()`` turn true
    and its next heartbeat raise ``CancelledError``. Set the attributes before
    :meth:`run`; one environment runs one activity at a time.
    """

    def __init__(self) -> None:
        self.info: ActivityInfo = default_info()
        """What ``activity.info()`` returns."""
        self.on_heartbeat: Callable[..., None] = lambda *details: None
        """Called with the details of each ``activity.heartbeat(*details)``."""
        self.payload_converter: PayloadConverter = default_converter()
        """What ``activity.payload_converter()`` returns."""
        self._ctx: _FakeContext | None = None
        self._task: asyncio.Task[Any] | None = None
        self._cancelled = False

    @staticmethod
    def default_info() -> ActivityInfo:
        """The info a new environment starts with."""
        return default_info()

    def cancel(self) -> None:
        """Cancel the running activity (or, before :meth:`run`, the next one it runs).

        Safe to call from any thread for a sync activity; a second call does nothing.
        """
        if self._cancelled:
            return
        self._cancelled = True
        if self._ctx is not None:
            self._ctx.cancelled.set()
        task = self._task
        if task is not None and not task.done():
            task.get_loop().call_soon_threadsafe(task.cancel)

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Call ``fn(*args)`` in the fake activity context.

        A sync function runs here and its result is returned; for an ``async def``
        function, a coroutine is returned: await it for the result.
        """
        ctx = self._ctx = _FakeContext(self)
        if self._cancelled:
            ctx.cancelled.set()
        context = contextvars.copy_context()
        context.run(set_context, ctx)
        if inspect.iscoroutinefunction(fn):
            return self._run_async(fn, args, context)
        return context.run(fn, *args)

    async def _run_async(self, fn: Callable[..., Any], args: tuple[Any, ...],
                         context: contextvars.Context) -> Any:
        self._task = asyncio.get_running_loop().create_task(fn(*args), context=context)
        if self._cancelled:
            self._task.cancel()
        try:
            return await self._task
        finally:
            self._task = None

