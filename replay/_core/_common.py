"""Values shared by workflows, activities and clients (re-exported by replay.common)."""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Any

import attrs


@attrs.frozen
class RawValue:
    """An undecoded payload, as dynamic handlers receive their arguments.

    Decode with ``workflow.payload_converter().from_payload(raw.payload, SomeType)``.
    """

    payload: Any


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How an activity is retried: backoff from ``initial_interval`` up to a maximum.

    ``maximum_attempts`` 0 means unlimited. Errors whose type is listed in
    ``non_retryable_error_types`` (or an ApplicationError with
    ``non_retryable=True``) fail at once.
    """

    initial_interval: timedelta = timedelta(seconds=1)
    backoff_coefficient: float = 2.0
    maximum_interval: timedelta | None = None
    maximum_attempts: int = 0
    non_retryable_error_types: tuple[str, ...] | list[str] | None = None

    def delay_for(self, attempt: int) -> timedelta:
        """The wait before attempt ``attempt + 1`` after attempt ``attempt`` failed."""
        return backoff_delay(self.initial_interval, self.backoff_coefficient,
                             self.maximum_interval, attempt)


def backoff_delay(initial: timedelta, coefficient: float, maximum: timedelta | None,
                  attempt: int) -> timedelta:
    """Exponential backoff after attempt ``attempt`` failed, capped at ``maximum``
    (100 times the initial interval when none is given)."""
    cap = (maximum or initial * 100).total_seconds()
    try:
        seconds = initial.total_seconds() * coefficient ** (attempt - 1)
    except OverflowError:  # thousands of attempts: long past the cap
        seconds = cap
    return timedelta(seconds=min(seconds, cap))


class ActivityCancellationType(enum.Enum):
    """What awaiting code sees when an activity it waits on is cancelled."""

    TRY_CANCEL = "try_cancel"
    WAIT_CANCELLATION_COMPLETED = "wait_cancellation_completed"
    ABANDON = "abandon"


class WorkflowIDReusePolicy(enum.Enum):
    """May a new run reuse the workflow id of a closed run?"""

    ALLOW_DUPLICATE = 1
    ALLOW_DUPLICATE_FAILED_ONLY = 2
    REJECT_DUPLICATE = 3
    TERMINATE_IF_RUNNING = 4


class WorkflowIDConflictPolicy(enum.Enum):
    """What to do when a run with this workflow id is still open."""

    UNSPECIFIED = 0
    FAIL = 1
    USE_EXISTING = 2
    TERMINATE_EXISTING = 3
