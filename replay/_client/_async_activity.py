"""Asynchronous activity completion: ``Client.get_async_activity_handle()``.

An activity that calls ``activity.raise_complete_async()`` ends its attempt
without an outcome; its worker hands the task's lease to an *async owner*
(:func:`async_owner`) that no worker process holds, lasting until the attempt's
start-to-close deadline (or its heartbeat timeout, whichever is first). Any
process holding the task token (or the workflow id, run id and activity id) then
completes, fails, heartbeats or reports the cancellation of that attempt through
an :class:`AsyncActivityHandle`.

Every outcome is one conditional store commit: the first one recorded wins and any
later one raises :class:`AsyncActivityNotFoundError`, so a completer that is killed
and retried records its outcome exactly once. The activity's timeouts still apply
while it waits: when the lease ends unrenewed, a worker leases the task again as
the next attempt (which records the timeout once the retry policy's attempts are
spent).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from replay.history import (
    ActivityCanceled,
    ActivityCompleted,
    ActivityFailed,
    ActivityScheduled,
    Deliver,
    Event,
    PendingActivity,
    ReplayError,
    RetryPolicyData,
    RunClosedError,
    RunNotFoundError,
    StaleResultError,
)

from .._core._common import backoff_delay
from .._core._exceptions import ApplicationError
from .._core._failure import to_failure
from ._handle import HandleClient

_OWNER_PREFIX = "async-completion/"


class AsyncActivityNotFoundError(ReplayError):
    """The activity (attempt) an async handle names is not waiting for an outcome.

    The familiar SDK raises an RPC error with status NOT_FOUND here.
    """

    code = "RPL-A02"

    def __init__(self, what: str, target: str, why: str) -> None:
        super().__init__(f"cannot {what} activity {target}: {why}. Nothing was written; "
                         "an outcome is recorded once, and this activity's attempt already "
                         "has one, timed out, or never existed.")
        self.what = what
        self.target = target
        self.status = "NOT_FOUND"


class AsyncActivityCancelledError(ReplayError):
    """``AsyncActivityHandle.heartbeat()``: the activity's cancellation was requested.

    Report it with ``report_cancellation()`` (or complete the activity anyway).
    """

    code = "RPL-A03"

    def __init__(self, target: str) -> None:
        super().__init__(f"activity {target} was asked to cancel; call "
                         "report_cancellation() once it has stopped")
        self.target = target


class InvalidTaskTokenError(ReplayError, ValueError):
    """A task token that this engine did not make (or that was damaged)."""

    code = "RPL-A04"

    def __init__(self, token: object, why: str) -> None:
        super().__init__(f"invalid activity task token {token!r:.80}: {why}. Pass "
                         "activity.info().task_token unchanged, or address the activity "
                         "with workflow_id=, run_id= and activity_id=.")


@attrs.frozen
class TaskToken:
    """What a task token names: one attempt of one activity of one run."""

    run_id: str
    scheduled_event_id: int
    attempt: int

    def encode(self) -> bytes:
        data = {"v": 1, "run": self.run_id, "event": self.scheduled_event_id,
                "attempt": self.attempt}
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())

    @staticmethod
    def decode(token: object) -> TaskToken:
        if not isinstance(token, bytes | bytearray):
            raise InvalidTaskTokenError(token, "a task token is bytes")
        try:
            data = json.loads(base64.urlsafe_b64decode(bytes(token)))
            found = TaskToken(data["run"], data["event"], data["attempt"])
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidTaskTokenError(token, f"it does not decode ({exc})") from None
        if (data.get("v") != 1 or not isinstance(found.run_id, str)
                or not isinstance(found.scheduled_event_id, int)
                or not isinstance(found.attempt, int)):
            raise InvalidTaskTokenError(token, "its fields are not what a token holds")
        return found


def async_owner(attempt: int, deadline: datetime | None) -> str:
    """The lease owner of an attempt waiting for async completion (no worker's identity,
    so no dead-worker sweep frees it); it carries the attempt's start-to-close deadline."""
    stamp = "" if deadline is None else str(int(deadline.timestamp() * 1_000_000))
    return f"{_OWNER_PREFIX}{attempt}/{stamp}"


def _deadline_of(owner: str) -> datetime | None:
    stamp = owner.rsplit("/", 1)[-1]
    if not stamp:
        return None
    return datetime.fromtimestamp(int(stamp) / 1_000_000, tz=UTC)


def async_lease_until(now: datetime, deadline: datetime | None,
                      heartbeat_timeout: timedelta | None, default: timedelta) -> datetime:
    """How long an async attempt's lease lasts from ``now``: to its heartbeat timeout or
    its deadline, whichever is first (``default`` when it has neither)."""
    ends = [t for t in (deadline, now + heartbeat_timeout if heartbeat_timeout else None)
            if t is not None]
    return min(ends) if ends else now + default


class AsyncActivityHandle:
    """Completes, fails or heartbeats an activity that called ``raise_complete_async()``.

    Made by ``Client.get_async_activity_handle``; usable from any process that opens
    the same store. Each outcome is recorded once: a second one (or one for an
    activity that ended, timed out or never was) raises
    :class:`AsyncActivityNotFoundError` and writes nothing.
    """

    def __init__(self, client: HandleClient, *, task_token: bytes | None = None,
                 workflow_id: str | None = None, run_id: str | None = None,
                 activity_id: str | None = None) -> None:
        self._client = client
        self.task_token = task_token
        self._token = TaskToken.decode(task_token) if task_token is not None else None
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.activity_id = activity_id
        self._target = (f"(task token of run {self._token.run_id!r}, event "
                        f"{self._token.scheduled_event_id}, attempt {self._token.attempt})"
                        if self._token is not None else
                        f"{activity_id!r} of workflow {workflow_id!r} run {run_id!r}")

    def __repr__(self) -> str:
        return f"AsyncActivityHandle({self._target})"

    # --- what the handle addresses ----------------------------------------------------------

    def _pending(self, what: str) -> PendingActivity:
        """The open activity (this attempt of it, for a token), or the familiar error."""
        store = self._client.store
        if self._token is not None:
            run_id = self._token.run_id
            found = [p for p in store.pending_activities(run_id)
                     if p.scheduled_event_id == self._token.scheduled_event_id]
        else:
            assert self.workflow_id is not None
            run = store.get_run(self.run_id) if self.run_id else store.latest_run(
                self.workflow_id)
            if run is None or run.workflow_id != self.workflow_id:
                raise AsyncActivityNotFoundError(what, self._target, "no such run")
            found = [p for p in store.pending_activities(run.run_id)
                     if p.activity_id == self.activity_id]
        if not found:
            raise AsyncActivityNotFoundError(what, self._target, "it has no open task")
        pending = found[0]
        if self._token is not None and pending.attempt != self._token.attempt:
            raise AsyncActivityNotFoundError(
                what, self._target, f"the activity is on attempt {pending.attempt} now")
        return pending

    def _record(self, what: str, pending: PendingActivity, event: Event) -> None:
        try:
            self._client.store.commit([Deliver(pending.run_id, event)])
        except (StaleResultError, RunClosedError, RunNotFoundError) as exc:
            raise AsyncActivityNotFoundError(what, self._target, str(exc)) from exc

    def _now(self) -> datetime:
        return self._client.clock.now()

    # --- outcomes -------------------------------------------------------------------------------

    async def complete(self, result: Any = None) -> None:
        """Record the activity's result (the workflow's ``execute_activity`` returns it)."""
        payload = self._client.converter.to_payload(result)
        await self._client.store_calls(self._complete, payload)

    def _complete(self, payload: Any) -> None:
        pending = self._pending("complete")
        self._record("complete", pending, ActivityCompleted(
            event_id=0, time=self._now(), scheduled_event_id=pending.scheduled_event_id,
            result=payload, attempt=pending.attempt))

    async def fail(self, error: BaseException,
                   last_heartbeat_details: Sequence[Any] = ()) -> None:
        """Fail this attempt with ``error``: retried as the activity's retry policy says
        (like an attempt that raised), else recorded as the activity's failure."""
        details = self._client.converter.to_payloads(last_heartbeat_details)
        await self._client.store_calls(self._fail, error, details)

    def _fail(self, error: BaseException, details: list[Any]) -> None:
        pending = self._pending("fail")
        store = self._client.store
        scheduled = store.read(pending.run_id, after_event_id=pending.scheduled_event_id - 1)[0]
        assert isinstance(scheduled, ActivityScheduled)
        failure = to_failure(error, self._client.converter)
        delay = _retry_delay(scheduled, error, pending.attempt)
        if delay is not None and pending.lease_owner is not None:
            if details:
                store.heartbeat_activity(pending.run_id, pending.scheduled_event_id,
                                         pending.lease_owner, details, self._now(),
                                         timedelta(0))
            store.retry_activity(pending.run_id, pending.scheduled_event_id,
                                 pending.lease_owner, self._now() + delay, failure)
            return
        self._record("fail", pending, ActivityFailed(
            event_id=0, time=self._now(), scheduled_event_id=pending.scheduled_event_id,
            failure=failure, attempt=pending.attempt))

    async def report_cancellation(self, *details: Any) -> None:
        """Record that the activity stopped because its cancellation was requested."""
        payloads = self._client.converter.to_payloads(details)
        await self._client.store_calls(self._cancelled, payloads)

    def _cancelled(self, details: list[Any]) -> None:
        what = "report cancellation of"
        pending = self._pending(what)
        self._record(what, pending, ActivityCanceled(
            event_id=0, time=self._now(), scheduled_event_id=pending.scheduled_event_id,
            details=details))

    async def heartbeat(self, *details: Any) -> None:
        """Record progress and renew the attempt's heartbeat timeout.

        Raises :class:`AsyncActivityCancelledError` once the activity's cancellation
        was requested (the details are still recorded).
        """
        payloads = self._client.converter.to_payloads(details)
        await self._client.store_calls(self._heartbeat, payloads)

    def _heartbeat(self, payloads: list[Any]) -> None:
        pending = self._pending("heartbeat")
        owner = pending.lease_owner
        store = self._client.store
        if owner is None:
            raise AsyncActivityNotFoundError("heartbeat", self._target,
                                             "no attempt of it is running")
        scheduled = store.read(pending.run_id, after_event_id=pending.scheduled_event_id - 1)[0]
        assert isinstance(scheduled, ActivityScheduled)
        now = self._now()
        current = pending.lease_expires_at or now
        deadline = _deadline_of(owner) if owner.startswith(_OWNER_PREFIX) else current
        until = async_lease_until(now, deadline, scheduled.heartbeat_timeout, current - now)
        if not store.heartbeat_activity(pending.run_id, pending.scheduled_event_id, owner,
                                        payloads, now, max(until - now, timedelta(0))):
            raise AsyncActivityNotFoundError("heartbeat", self._target,
                                             "its attempt ended meanwhile")
        if pending.cancel_requested:
            raise AsyncActivityCancelledError(self._target)


def _retry_delay(scheduled: ActivityScheduled, error: BaseException, attempt: int
                 ) -> timedelta | None:
    """When the next attempt may start after ``error``; None if it may not (the failure
    is final)."""
    policy = scheduled.retry_policy or RetryPolicyData()
    type_name = error.type if isinstance(error, ApplicationError) and error.type else \
        type(error).__name__
    if (isinstance(error, ApplicationError) and error.non_retryable) or \
            type_name in policy.non_retryable_error_types or \
            0 < policy.maximum_attempts <= attempt:
        return None
    return backoff_delay(policy.initial_interval, policy.backoff_coefficient,
                         policy.maximum_interval, attempt)
