"""guard_module: datetime stand-ins in one workflow module, type identity everywhere else."""

from __future__ import annotations

import datetime
import pickle
import time

import pytest
from samples import allowed, violations

import replay.sandbox as sandbox


@pytest.fixture(scope="module", autouse=True)
def guarded_samples() -> None:
    sandbox.guard_module(violations)


def test_guard_module_rebinds_datetime_names_and_early_imports() -> None:
    assert sandbox.guard_module(violations) == ()  # idempotent
    assert violations.datetime is not datetime.datetime
    assert violations.date is not datetime.date
    assert violations.dt is not datetime
    assert violations.clock is time.time  # `from time import time as clock` -> the wrapper
    assert violations.time is time


def test_unguarded_modules_and_the_datetime_module_are_untouched() -> None:
    assert datetime.datetime.__module__ == "datetime"
    assert type(datetime.datetime.now()) is datetime.datetime
    assert allowed.datetime is datetime
    assert datetime.datetime.now.__self__ is datetime.datetime  # type: ignore[attr-defined]


def test_stand_ins_make_plain_objects_and_pass_isinstance() -> None:
    made = violations.datetime(2024, 5, 1, 12, 30)
    assert type(made) is datetime.datetime
    assert type(violations.date(2024, 5, 1)) is datetime.date
    assert type(violations.datetime.fromisoformat("2024-05-01T12:30:00")) is datetime.datetime
    assert type(violations.dt.datetime.fromtimestamp(0, datetime.UTC)) is datetime.datetime
    plain = datetime.datetime(2024, 5, 1, 12, 30)
    assert isinstance(plain, violations.datetime)
    assert isinstance(plain, violations.date)
    assert isinstance(datetime.date(2024, 1, 1), violations.dt.date)
    assert not isinstance(datetime.date(2024, 1, 1), violations.datetime)
    assert issubclass(datetime.datetime, violations.datetime)
    assert violations.datetime.min == datetime.datetime.min
    assert violations.dt.timedelta is datetime.timedelta
    assert pickle.loads(pickle.dumps(made)) == made


def test_stand_ins_work_outside_the_guard() -> None:
    assert type(violations.datetime_now()) is datetime.datetime
    assert type(violations.date_today()) is datetime.date
    assert violations.module_datetime_now().tzinfo is datetime.UTC


def test_guard_module_refuses_stdlib_and_engine_modules() -> None:
    with pytest.raises(ValueError, match="workflow modules"):
        sandbox.guard_module(datetime)
    with pytest.raises(ValueError, match="workflow modules"):
        sandbox.guard_module("replay.sandbox")


def test_guard_module_accepts_a_module_name() -> None:
    assert sandbox.guard_module("samples.violations") == ()
