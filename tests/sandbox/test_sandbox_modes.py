"""Warn and off modes, the guard's switch, and behaviour outside the guard."""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid

import pytest
from samples import violations
from sandbox_marks import mark_in, where

import replay.sandbox as sandbox


@pytest.fixture(scope="module", autouse=True)
def guarded_samples() -> None:
    sandbox.guard_module(violations)


def _ctx(mode: str | sandbox.Mode, seen: list[sandbox.Violation]) -> sandbox.GuardContext:
    # the converter accepts the plain string too
    return sandbox.GuardContext(
        workflow_type="OrderWorkflow", run_id="r-9", mode=mode, on_violation=seen.append
    )


def test_warn_mode_lets_the_call_through_reports_and_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[sandbox.Violation] = []
    with sandbox.guarded(_ctx("warn", seen)):
        value = violations.wall_clock()
        date = violations.datetime_now()
        home = violations.environ_item()
    assert isinstance(value, float) and value > 0
    assert date.year >= 2024
    assert home
    assert [v.rule.code for v in seen] == ["RPL-SB01", "RPL-SB01", "RPL-SB06"]
    warnings = [r for r in caplog.records if r.name == "replay.sandbox"]
    assert [r.levelno for r in warnings] == [logging.WARNING] * 3
    assert warnings[0].getMessage() == seen[0].message
    line = mark_in(violations, "wall_clock").line
    assert f"called time.time() at {where(violations, line)}" in warnings[0].getMessage()


def test_off_mode_does_nothing(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[sandbox.Violation] = []
    with sandbox.guarded(_ctx(sandbox.Mode.OFF, seen)):
        assert violations.wall_clock() > 0
        assert violations.random_uuid().version == 4
        assert violations.environ_get()
    assert seen == []
    assert not [r for r in caplog.records if r.name == "replay.sandbox"]


def test_mode_accepts_its_string_values() -> None:
    assert [sandbox.Mode(m) for m in ("strict", "warn", "off")] == list(sandbox.Mode)
    ctx = sandbox.GuardContext(workflow_type="W", run_id="r")
    assert ctx.mode is sandbox.Mode.STRICT
    assert ctx.error_type is sandbox.RestrictedCallError
    assert ctx.passthrough_modules == frozenset()


def test_guarded_sets_and_resets_current() -> None:
    outer = sandbox.GuardContext(workflow_type="A", run_id="1")
    inner = sandbox.GuardContext(workflow_type="B", run_id="2")
    assert sandbox.current() is None
    with sandbox.guarded(outer) as entered:
        assert entered is outer and sandbox.current() is outer
        with sandbox.guarded(inner):
            assert sandbox.current() is inner
        assert sandbox.current() is outer
    assert sandbox.current() is None


def test_the_guard_resets_after_an_error() -> None:
    ctx = sandbox.GuardContext(workflow_type="A", run_id="1")
    with pytest.raises(sandbox.RestrictedCallError), sandbox.guarded(ctx):
        violations.wall_clock()
    assert sandbox.current() is None
    assert violations.wall_clock() > 0


def test_other_threads_are_not_guarded() -> None:
    ready, done = threading.Event(), threading.Event()
    results: list[object] = []

    def other() -> None:
        ready.wait()
        results.extend([sandbox.current(), violations.wall_clock() > 0])
        done.set()

    thread = threading.Thread(target=other)
    thread.start()  # started outside the guard
    with sandbox.guarded(sandbox.GuardContext(workflow_type="A", run_id="1")):
        ready.set()
        assert done.wait(5)
    thread.join()
    assert results == [None, True]


def test_outside_the_guard_everything_behaves_as_before() -> None:
    sandbox.install()
    sandbox.install()  # idempotent
    assert violations.wall_clock() == pytest.approx(time.time(), abs=5)
    assert isinstance(violations.monotonic(), float)
    assert violations.random_uuid().version == 4
    assert violations.random_choice() in (1, 2, 3)
    assert len(violations.os_entropy()) == 8
    assert violations.getenv() == violations.environ_item()
    assert violations.environ_contains()
    assert "OrderWorkflow" not in repr(violations.datetime_now())
    random.seed(5)
    first = random.random()
    random.seed(5)
    assert random.random() == first
    assert uuid.uuid4() != uuid.uuid4()
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join()


def test_patched_functions_keep_their_names_and_originals() -> None:
    sandbox.install()
    assert time.time.__name__ == "time"
    assert time.time.__wrapped__() > 0  # type: ignore[attr-defined]
    assert random.choice.__name__ == "choice"
