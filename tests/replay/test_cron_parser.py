"""The cron parser (replay/_core/_cron.py): fields, shorthands, day-field semantics, next
matching minute checked against brute force, and errors naming the column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay._core._cron import SHORTHANDS, CronSchedule, InvalidCronError

T0 = datetime(2030, 1, 1, tzinfo=UTC)  # a Tuesday


def test_fields_lists_ranges_steps_and_names() -> None:
    c = CronSchedule.parse("0,30 9-17/4 1,15 JAN-mar/2 mon-FRI")
    assert c.minutes == {0, 30}
    assert c.hours == {9, 13, 17}
    assert c.days == {1, 15}
    assert c.months == {1, 3}
    assert c.weekdays == {1, 2, 3, 4, 5}
    assert CronSchedule.parse("5/20 * * * 7").minutes == {5, 25, 45}
    assert CronSchedule.parse("* * * * 7").weekdays == {0}  # 7 is Sunday, as 0


@pytest.mark.parametrize(("shorthand", "after", "expected"), [
    ("@hourly", datetime(2030, 1, 1, 10, 0, tzinfo=UTC), datetime(2030, 1, 1, 11, 0, tzinfo=UTC)),
    ("@daily", datetime(2030, 1, 1, 10, 0, tzinfo=UTC), datetime(2030, 1, 2, 0, 0, tzinfo=UTC)),
    ("@midnight", datetime(2030, 1, 1, 23, 59, 59, tzinfo=UTC),
     datetime(2030, 1, 2, tzinfo=UTC)),
    ("@weekly", T0, datetime(2030, 1, 6, tzinfo=UTC)),  # the next Sunday
    ("@monthly", T0, datetime(2030, 2, 1, tzinfo=UTC)),
    ("@yearly", T0, datetime(2031, 1, 1, tzinfo=UTC)),
    ("@ANNUALLY", T0, datetime(2031, 1, 1, tzinfo=UTC)),
])
def test_shorthands(shorthand: str, after: datetime, expected: datetime) -> None:
    assert CronSchedule.parse(shorthand).next_after(after) == expected


def test_next_is_strictly_after_and_whole_minutes() -> None:
    c = CronSchedule.parse("*/15 * * * *")
    assert c.next_after(datetime(2030, 1, 1, 0, 15, tzinfo=UTC)) == \
        datetime(2030, 1, 1, 0, 30, tzinfo=UTC)
    assert c.next_after(datetime(2030, 1, 1, 0, 14, 59, 999, tzinfo=UTC)) == \
        datetime(2030, 1, 1, 0, 15, tzinfo=UTC)


def test_both_day_fields_restricted_match_either_as_in_vixie_cron() -> None:
    c = CronSchedule.parse("0 0 13 * FRI")  # the 13th, and every Friday
    found = []
    t = T0
    for _ in range(4):
        t = c.next_after(t)
        found.append(t.date().isoformat())
    assert found == ["2030-01-04", "2030-01-11", "2030-01-13", "2030-01-18"]


def test_february_29th_is_found_in_the_next_leap_year() -> None:
    assert CronSchedule.parse("0 0 29 2 *").next_after(T0) == datetime(2032, 2, 29, tzinfo=UTC)


@pytest.mark.parametrize(("expression", "column", "reason"), [
    ("", 1, "expected 5 fields, found 0"),
    ("* * * *", 8, "expected 5 fields, found 4"),
    ("* * * * * *", 11, "expected 5 fields, found 6"),
    ("60 * * * *", 1, "minute: 60 is outside 0-59"),
    ("* */0 * * *", 5, "hour: step must be a positive number, got '0'"),
    ("* * 0 * *", 5, "day of month: 0 is outside 1-31"),
    ("* * * 1-13 *", 9, "month: 13 is outside 1-12"),
    ("* * * * 8", 9, "day of week: 8 is outside 0-7"),
    ("1,,2 * * * *", 3, "minute: empty list item"),
    ("10-5 * * * *", 1, "minute: range '10-5' runs backwards"),
    ("  x * * * *", 3, "minute: expected a number 0-59, got 'x'"),
    ("* * 30,31 2 *", 5, "the day of month never occurs in the months given"),
    ("@fortnightly", 1, "unknown shorthand '@fortnightly'"),
])
def test_errors_name_the_column(expression: str, column: int, reason: str) -> None:
    with pytest.raises(InvalidCronError) as info:
        CronSchedule.parse(expression)
    assert (info.value.position, info.value.reason) == (column, reason)
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(f"[RPL-SC01] invalid cron expression {expression!r} "
                                      f"at column {column}: {reason}")


def test_a_day_that_exists_in_one_of_the_months_is_accepted() -> None:
    c = CronSchedule.parse("0 0 31 2,3 *")
    assert c.next_after(T0) == datetime(2030, 3, 31, tzinfo=UTC)


def _field(low: int, high: int) -> st.SearchStrategy[str]:
    single = st.integers(low, high).map(str)
    ranged = st.tuples(st.integers(low, high), st.integers(low, high)).map(
        lambda p: f"{min(p)}-{max(p)}")
    stepped = st.tuples(st.sampled_from(["*", str(low)]), st.integers(1, high - low + 1)).map(
        lambda p: f"{p[0]}/{p[1]}")
    item = st.one_of(st.just("*"), single, ranged, stepped)
    return st.lists(item, min_size=1, max_size=3).map(",".join)


@settings(max_examples=60, deadline=None)
@given(minute=_field(0, 59), hour=_field(0, 23), dow=_field(0, 6),
       start=st.datetimes(min_value=datetime(2030, 1, 1), max_value=datetime(2031, 1, 1),
                          timezones=st.just(UTC)))
def test_next_after_is_the_first_matching_minute(minute: str, hour: str, dow: str,
                                                 start: datetime) -> None:
    c = CronSchedule.parse(f"{minute} {hour} * * {dow}")
    found = c.next_after(start)
    assert found > start and found.second == 0 and found.microsecond == 0
    assert c.matches(found)
    t = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while t < found:  # no matching minute is skipped (at most 8 days of minutes)
        assert not c.matches(t)
        t += timedelta(minutes=1)


def test_every_shorthand_parses() -> None:
    for name, fields in SHORTHANDS.items():
        assert CronSchedule.parse(name).minutes == CronSchedule.parse(fields).minutes
