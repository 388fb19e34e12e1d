"""Cron expressions: the five-field syntax and the ``@hourly``-style shorthands, in UTC.

A small parser of our own rather than a dependency: the syntax is fixed and short,
the only operation the engine needs is "the next matching minute after t", and an
error must name the column where the expression goes wrong (which the maintained
PyPI parsers do not report). ``CronSchedule.parse`` refuses a bad expression with
:class:`InvalidCronError`; ``next_after`` is pure and deterministic, so workflow
code and the engine can call it on replay.

Fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12 or JAN-DEC),
day of week (0-7, 0 and 7 are Sunday, or SUN-SAT). Each field is a comma list of
``*``, ``N``, ``N-M``, any of those followed by ``/STEP``. As in Vixie cron, when
both day fields are restricted a day matches if either does.
"""

from __future__ import annotations

import asyncio
import calendar
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from replay.history import ReplayError, WorkflowStarted


class InvalidCronError(ReplayError, ValueError):
    """A cron expression that cannot be parsed; ``position`` is the 1-based column."""

    code = "RPL-SC01"

    def __init__(self, expression: str, position: int, reason: str) -> None:
        pointer = " " * (position - 1) + "^"
        super().__init__(
            f"invalid cron expression {expression!r} at column {position}: {reason}. "
            f"Nothing was written.\n  {expression}\n  {pointer}\n"
            "Use five fields (minute hour day-of-month month day-of-week, e.g. '0 9 * * MON') "
            "or one of @yearly, @monthly, @weekly, @daily, @hourly.")
        self.expression = expression
        self.position = position
        self.reason = reason


SHORTHANDS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
"""The shorthands accepted, and the five-field expression each stands for."""

_MONTHS = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}


@attrs.frozen
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


_FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day of month", 1, 31, {}),
    _Field("month", 1, 12, _MONTHS),
    _Field("day of week", 0, 7, _DAYS),
)
_LIMIT = timedelta(days=366 * 8)  # every valid expression matches within 8 years


@attrs.frozen
class CronSchedule:
    """A parsed cron expression: the sets of values each field allows (UTC)."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    """0 is Sunday (a 7 in the expression is stored as 0)."""
    days_restricted: bool
    weekdays_restricted: bool

    @staticmethod
    def parse(expression: str) -> CronSchedule:
        """Parse ``expression``; InvalidCronError naming the column of the first mistake."""
        if not isinstance(expression, str):
            raise TypeError(f"a cron expression must be a str, got {type(expression).__name__}")
        text = expression.strip()
        offset = len(expression) - len(expression.lstrip())
        if text.startswith("@"):
            if text.lower() not in SHORTHANDS:
                raise InvalidCronError(expression, offset + 1,
                                       f"unknown shorthand {text!r}")
            return _parse_fields(expression, SHORTHANDS[text.lower()], shorthand=True)
        return _parse_fields(expression, expression, shorthand=False)

    def matches(self, t: datetime) -> bool:
        """Whether minute ``t`` (UTC) is one the expression selects."""
        t = t.astimezone(UTC)
        return (t.minute in self.minutes and t.hour in self.hours
                and t.month in self.months and self._day_matches(t))

    def _day_matches(self, t: datetime) -> bool:
        dom = t.day in self.days
        dow = (t.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return dom or dow
        return dom and dow

    def next_after(self, t: datetime) -> datetime:
        """The first matching minute strictly after ``t`` (an aware UTC datetime)."""
        t = t.astimezone(UTC)
        cur = t.replace(second=0, microsecond=0) + timedelta(minutes=1)
        end = t + _LIMIT
        while cur <= end:
            if cur.month not in self.months:
                year, month = (cur.year + 1, 1) if cur.month == 12 else (cur.year, cur.month + 1)
                cur = cur.replace(year=year, month=month, day=1, hour=0, minute=0)
            elif not self._day_matches(cur):
                cur = (cur + timedelta(days=1)).replace(hour=0, minute=0)
            elif cur.hour not in self.hours:
                cur = (cur + timedelta(hours=1)).replace(minute=0)
            elif cur.minute not in self.minutes:
                cur += timedelta(minutes=1)
            else:
                return cur
        raise ValueError(f"cron expression {self.expression!r} has no match after {t}")


def _parse_fields(expression: str, text: str, *, shorthand: bool) -> CronSchedule:
    spans = _split(text)
    if len(spans) != 5:
        where = spans[5][0] + 1 if len(spans) > 5 else len(text) + 1
        raise InvalidCronError(expression, 1 if shorthand else where,
                               f"expected 5 fields, found {len(spans)}")
    sets: list[frozenset[int]] = []
    for field, (start, part) in zip(_FIELDS, spans, strict=True):
        sets.append(_parse_field(expression, field, part, start))
    minutes, hours, days, months, weekdays = sets
    weekdays = frozenset(d % 7 for d in weekdays)
    schedule = CronSchedule(
        expression=expression, minutes=minutes, hours=hours, days=days, months=months,
        weekdays=weekdays, days_restricted=spans[2][1] != "*",
        weekdays_restricted=spans[4][1] != "*")
    if not (schedule.days_restricted and schedule.weekdays_restricted) and not any(
            min(days) <= _longest_month(m) for m in months):
        raise InvalidCronError(expression, spans[2][0] + 1,
                               "the day of month never occurs in the months given")
    return schedule


def _longest_month(month: int) -> int:
    return 29 if month == 2 else calendar.monthrange(2001, month)[1]


def _split(text: str) -> list[tuple[int, str]]:
    """Whitespace-separated parts with their 0-based offsets."""
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        start = i
        while i < len(text) and not text[i].isspace():
            i += 1
        out.append((start, text[start:i]))
    return out


def _parse_field(expression: str, field: _Field, part: str, start: int) -> frozenset[int]:
    values: set[int] = set()
    pos = start
    for item in part.split(","):
        values |= _parse_item(expression, field, item, pos)
        pos += len(item) + 1
    return frozenset(values)


def _parse_item(expression: str, field: _Field, item: str, pos: int) -> set[int]:
    def fail(at: int, reason: str) -> InvalidCronError:
        return InvalidCronError(expression, pos + at + 1, f"{field.name}: {reason}")

    if not item:
        raise fail(0, "empty list item")
    body, _, step_text = item.partition("/")
    step = 1
    if "/" in item:
        if not step_text.isdigit() or int(step_text) == 0:
            raise fail(len(body) + 1, f"step must be a positive number, got {step_text!r}")
        step = int(step_text)
    if body == "*":
        low, high = field.low, field.high
    else:
        first, dash, last = body.partition("-")
        low = _value(first, field, lambda reason: fail(0, reason))
        if dash:
            high = _value(last, field, lambda reason: fail(len(first) + 1, reason))
            if high < low:
                raise fail(0, f"range {body!r} runs backwards")
        else:
            high = field.high if "/" in item else low
    return set(range(low, high + 1, step))


def _value(text: str, field: _Field, fail: Callable[[str], InvalidCronError]) -> int:
    upper = text.upper()
    if upper in field.names:
        return field.names[upper]
    if not text.isdigit():
        names = f" or a name ({', '.join(field.names)})" if field.names else ""
        raise fail(f"expected a number {field.low}-{field.high}{names}, got {text!r}")
    value = int(text)
    if not field.low <= value <= field.high:
        raise fail(f"{value} is outside {field.low}-{field.high}")
    return value


def cron_wait(expression: str, started: datetime) -> timedelta:
    """How long a cron run started at ``started`` waits before its code runs: until the
    expression's next matching minute."""
    return CronSchedule.parse(expression).next_after(started) - started


async def after_cron_wait(started: WorkflowStarted,
                          run: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """A cron run's main task: a durable timer to the next matching time, then the run.

    The timer is the run's first command, so a replay of the history reproduces it;
    cancelling the run while it waits cancels the timer and ends the run cancelled.
    """
    await asyncio.sleep(cron_wait(started.cron_schedule, started.time).total_seconds())
    return await run()
