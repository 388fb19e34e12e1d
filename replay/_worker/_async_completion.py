"""The worker's side of asynchronous activity completion.

``activity.raise_complete_async()`` ends an attempt without an outcome. The
worker then hands the task's lease over to an async owner (no worker process
holds it, so no dead-worker sweep frees it) until the attempt's start-to-close
deadline or heartbeat timeout; ``Client.get_async_activity_handle()`` records the
outcome from any process (see ``replay._client._async_activity``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import NoReturn

from replay.history import ActivityScheduled, ActivityTask, Store

from .._client._async_activity import TaskToken, async_lease_until, async_owner
from . import _activity_ctx

log = logging.getLogger("replay.worker")

NO_TIMEOUT_LEASE = timedelta(days=3650)
"""How long an attempt with neither a start-to-close, schedule-to-close nor heartbeat
timeout waits for its completer: for as long as it takes."""


class CompleteAsyncError(Exception):
    """Raised by ``activity.raise_complete_async()``; the worker catches it.

    Do not catch it in activity code (or re-raise it): it tells the worker that the
    outcome will come from an ``AsyncActivityHandle``.
    """


def raise_complete_async() -> NoReturn:
    """End this activity attempt without an outcome: it will be completed, failed or
    heartbeated from elsewhere through ``Client.get_async_activity_handle(task_token=
    activity.info().task_token)``. Its timeouts still apply while it waits."""
    _activity_ctx.info()  # NotInActivityError outside an activity
    raise CompleteAsyncError()


def task_token(task: ActivityTask) -> bytes:
    """The token that names this attempt to an async handle."""
    return TaskToken(task.run_id, task.scheduled_event_id, task.attempt).encode()


def hand_over(store: Store, task: ActivityTask, scheduled: ActivityScheduled, owner: str,
              now: datetime) -> None:
    """Move the attempt's lease from this worker to the async owner."""
    timed = scheduled.start_to_close_timeout or scheduled.schedule_to_close_timeout
    deadline = task.lease_expires_at if timed is not None else None
    until = async_lease_until(now, deadline, scheduled.heartbeat_timeout, NO_TIMEOUT_LEASE)
    if not store.hand_over_activity(task.run_id, task.scheduled_event_id, owner,
                                    async_owner(task.attempt, deadline), until):
        log.info("activity %s (run %s, event %d) asked for async completion, but this "
                 "worker no longer holds it (its outcome is recorded, or its lease ended)",
                 task.activity_type, task.run_id, task.scheduled_event_id)
