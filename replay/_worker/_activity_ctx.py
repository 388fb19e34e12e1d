"""What activity code can ask about itself: ``activity.info()``, ``heartbeat()``..."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

import attrs

from replay.history import PayloadConverter, ReplayError


@attrs.frozen(kw_only=True)
class ActivityInfo:
    """Facts about the running activity attempt."""

    activity_id: str
    activity_type: str
    attempt: int
    scheduled_time: datetime
    task_queue: str
    workflow_id: str
    workflow_run_id: str
    workflow_type: str
    scheduled_event_id: int
    heartbeat_details: list[Any] = attrs.field(factory=list)
    heartbeat_timeout: timedelta | None = None
    """As scheduled (``None`` when the activity has none), as in the familiar SDK."""
    schedule_to_close_timeout: timedelta | None = None
    start_to_close_timeout: timedelta | None = None
    is_local: bool = False
    """Always False: a local activity is scheduled, recorded and run as a regular one
    here (see ``workflow.start_local_activity``)."""
    task_token: bytes = b""
    """Names this attempt to ``Client.get_async_activity_handle(task_token=...)``, which
    completes, fails or heartbeats it from anywhere (see ``activity.raise_complete_async``)."""


class ActivityOutbound(Protocol):
    """The attempt's outbound interceptor chain, as ``activity.*`` calls it."""

    def info(self) -> ActivityInfo: ...
    def heartbeat(self, *details: Any) -> None: ...


_MAKING = threading.Lock()
"""Held while an attempt's event is made on first use."""


class ActivityContext:
    """Per-attempt state: info, the heartbeat sink and the cancellation flag."""

    outbound: ActivityOutbound | None = None
    """The outbound interceptor chain, when the worker has activity interceptors."""

    def __init__(self, info: ActivityInfo | Callable[[], ActivityInfo],
                 converter: PayloadConverter, heartbeat: Callable[[list[Any]], bool]) -> None:
        # given as a function, the info (and its task token) is made when first asked for
        self._info = info
        self.converter = converter
        self._heartbeat = heartbeat
        # made when first asked for: most attempts end without anyone looking
        self._cancelled: threading.Event | None = None
        self.worker_shutdown = False
        """True when the worker stopped with the attempt still running (``cancelled`` is
        set right after: the attempt is told to stop, its outcome is not recorded and its
        task is handed back)."""
        self.last_beat = time.monotonic()

    @property
    def cancelled(self) -> threading.Event:
        """Set when the attempt is asked to stop."""
        event = self._cancelled
        if event is None:
            with _MAKING:  # one event, whichever thread asks first
                if self._cancelled is None:
                    self._cancelled = threading.Event()
                event = self._cancelled
        return event

    @cancelled.setter
    def cancelled(self, event: threading.Event) -> None:
        self._cancelled = event

    def stop_for_shutdown(self) -> None:
        """The worker is stopping: the attempt's next heartbeat raises CancelledError."""
        self.worker_shutdown = True  # before the event whose waiters read it
        self.cancelled.set()

    @property
    def info(self) -> ActivityInfo:
        """Facts about the attempt."""
        info = self._info
        if not isinstance(info, ActivityInfo):
            info = self._info = info()
        return info

    def heartbeat(self, *details: Any) -> None:
        self.last_beat = time.monotonic()
        if self._heartbeat(self.converter.to_payloads(details)):
            self.cancelled.set()


_current: contextvars.ContextVar[ActivityContext | None] = contextvars.ContextVar(
    "replay_activity", default=None)


class NotInActivityError(ReplayError):
    """An ``activity.*`` function was called outside an activity."""

    code = "RPL-A01"

    def __init__(self, name: str) -> None:
        super().__init__(f"activity.{name}() can only be called while a worker runs an "
                         "activity")
        self.name = name


class _ActivityLogger(logging.LoggerAdapter[logging.Logger]):
    """Puts the activity's and its workflow's ids into each record.

    As the familiar SDK does, the message ends with the attempt's details
    (`` ({'activity_id': ..., 'activity_type': ..., 'attempt': ..., ...})``);
    set ``activity_info_on_message`` to False to keep the message as written.
    The same details are record attributes (``record.activity_id``...) and,
    together, ``record.replay_activity``.
    """

    activity_info_on_message = True

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        ctx = _current.get()
        if ctx is not None:
            i = ctx.info
            details = {"activity_id": i.activity_id, "activity_type": i.activity_type,
                       "attempt": i.attempt, "task_queue": i.task_queue,
                       "workflow_id": i.workflow_id, "workflow_run_id": i.workflow_run_id,
                       "workflow_type": i.workflow_type}
            kwargs.setdefault("extra", {}).update(details, run_id=i.workflow_run_id,
                                                  replay_activity=details)
            if self.activity_info_on_message:
                msg = f"{msg} ({details})"
        return msg, kwargs


logger = _ActivityLogger(logging.getLogger("replay.activity"), {})
"""Logger for activity code; records carry the activity's and its workflow's ids."""


def _ctx(name: str) -> ActivityContext:
    ctx = _current.get()
    if ctx is None:
        raise NotInActivityError(name)
    return ctx


def info() -> ActivityInfo:
    """Facts about the running attempt (type, attempt number, workflow ids...)."""
    ctx = _ctx("info")
    return ctx.info if ctx.outbound is None else ctx.outbound.info()


def heartbeat(*details: Any) -> None:
    """Report progress; ``details`` come back in ``info().heartbeat_details`` on retry.

    A sync activity learns here that it was cancelled: ``is_cancelled()``
    turns true and the next heartbeat raises ``CancelledError``.
    """
    ctx = _ctx("heartbeat")
    if ctx.outbound is None:
        beat(ctx, details)
    else:
        ctx.outbound.heartbeat(*details)


def beat(ctx: ActivityContext, details: tuple[Any, ...]) -> None:
    """Record a heartbeat of ``ctx``'s attempt (the end of the outbound chain)."""
    from .._core._exceptions import CancelledError

    if ctx.cancelled.is_set():
        raise CancelledError("activity cancelled")
    ctx.heartbeat(*details)
    if ctx.cancelled.is_set():
        raise CancelledError("activity cancelled")


def is_cancelled() -> bool:
    """True once cancellation of this activity was requested."""
    return _ctx("is_cancelled").cancelled.is_set()


def is_worker_shutdown() -> bool:
    """True once the worker running this attempt began stopping and gave up waiting for
    it (after its ``graceful_shutdown_timeout``): the attempt was cancelled, its outcome
    will not be recorded and its task was handed back, to run again on a worker."""
    return _ctx("is_worker_shutdown").worker_shutdown


def payload_converter() -> PayloadConverter:
    """The converter that decodes ``RawValue`` arguments in dynamic activities."""
    return _ctx("payload_converter").converter


def set_context(ctx: ActivityContext | None) -> contextvars.Token[ActivityContext | None]:
    return _current.set(ctx)


def reset_context(token: contextvars.Token[ActivityContext | None]) -> None:
    """Undo :func:`set_context`."""
    _current.reset(token)
