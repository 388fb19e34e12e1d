"""When a schedule's actions are due: a ``ScheduleSpec``'s times, pure and deterministic.

The schedule workflow calls these on every activation (and again on replay), and
``describe`` uses them for ``next_action_times``, so they read no clock and draw
no random numbers: jitter is a hash of the schedule id and the due time.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from ._cron import CronSchedule
from ._schedule_types import ScheduleSpec

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def utc(t: datetime) -> datetime:
    """``t`` as an aware UTC datetime (a naive one is taken to be UTC already)."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def check_spec(spec: ScheduleSpec) -> None:
    """Refuse a spec that can never be used: InvalidCronError for a bad expression,
    ValueError for an interval that is not positive or a window that ends before it
    starts. Nothing has been written when it raises."""
    if isinstance(spec.cron_expressions, str):
        raise TypeError("ScheduleSpec.cron_expressions is a list of expressions, not a str")
    for expression in spec.cron_expressions:
        CronSchedule.parse(expression)
    for interval in spec.intervals:
        if interval.every <= timedelta(0):
            raise ValueError(f"ScheduleIntervalSpec.every must be positive, got {interval.every}")
        if interval.offset is not None and interval.offset < timedelta(0):
            raise ValueError(f"ScheduleIntervalSpec.offset must not be negative, got "
                             f"{interval.offset}")
    if spec.jitter is not None and spec.jitter < timedelta(0):
        raise ValueError(f"ScheduleSpec.jitter must not be negative, got {spec.jitter}")
    if spec.start_at is not None and spec.end_at is not None and \
            utc(spec.end_at) < utc(spec.start_at):
        raise ValueError("ScheduleSpec.end_at is before its start_at: the schedule would "
                         "never take an action")


def next_time(spec: ScheduleSpec, after: datetime) -> datetime | None:
    """The first due time strictly after ``after`` (jitter not included), or None."""
    after = utc(after)
    if spec.start_at is not None and after < utc(spec.start_at):
        after = utc(spec.start_at) - _US
    found = [t for t in _candidates(spec, after) if t is not None]
    if not found:
        return None
    first = min(found)
    if spec.end_at is not None and first > utc(spec.end_at):
        return None
    return first


def times_between(spec: ScheduleSpec, start: datetime, end: datetime) -> Iterator[datetime]:
    """Due times in (``start``, ``end``], oldest first."""
    t = next_time(spec, start)
    while t is not None and t <= utc(end):
        yield t
        t = next_time(spec, t)


def jitter_for(spec: ScheduleSpec, schedule_id: str, due: datetime) -> timedelta:
    """How long after ``due`` the action is taken: a stable fraction of ``spec.jitter``."""
    if not spec.jitter:
        return timedelta(0)
    digest = hashlib.sha256(f"{schedule_id}|{utc(due).isoformat()}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2 ** 64
    return timedelta(microseconds=int(spec.jitter / _US * fraction))


@functools.lru_cache(maxsize=256)
def _parsed(expression: str) -> CronSchedule:
    return CronSchedule.parse(expression)


def _candidates(spec: ScheduleSpec, after: datetime) -> Iterator[datetime | None]:
    for expression in spec.cron_expressions:
        yield _parsed(expression).next_after(after)
    for interval in spec.intervals:
        anchor = EPOCH + (interval.offset or timedelta(0))
        every = interval.every // _US
        elapsed = (after - anchor) // _US
        yield anchor + timedelta(microseconds=(elapsed // every + 1) * every)
