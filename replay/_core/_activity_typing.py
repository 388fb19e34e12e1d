"""Typed signatures of the workflow API's activity calls (the overloads' parts).

``workflow.execute_activity(fn, arg)`` and ``start_activity`` are overloaded as in
the familiar SDK: given the activity function itself, the type checker knows the
argument it takes and what it returns, so ``execute_activity(fn, 42)`` for a
``fn(name: str)`` fails ``mypy --strict`` and the result is typed.
``ActivityOptions`` lists the keywords once, for every overload: a keyword
added to ``start_activity`` is added here too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypedDict, TypeVar

from ._common import ActivityCancellationType, RetryPolicy

ActivityReturn = TypeVar("ActivityReturn")
"""What an activity returns."""
ActivityParam = TypeVar("ActivityParam")
"""The single argument of an activity."""


class ActivityOptions(TypedDict, total=False):
    """``start_activity``'s keywords besides ``args`` and ``result_type``."""

    task_queue: str | None
    schedule_to_close_timeout: timedelta | None
    schedule_to_start_timeout: timedelta | None
    start_to_close_timeout: timedelta | None
    heartbeat_timeout: timedelta | None
    retry_policy: RetryPolicy | None
    cancellation_type: ActivityCancellationType
    activity_id: str | None
