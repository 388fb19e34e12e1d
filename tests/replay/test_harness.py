"""check_determinism and the schedule strategies."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.workflows import ApprovalWorkflow, OrderWorkflow
from fixtures.workflows.activities import Order
from fixtures.workflows.messages import Approval, Language
from replay.exceptions import NondeterminismError
from replay.history import History
from replay.testing import (
    Activate,
    ActivityOutcome,
    Crash,
    DeterminismViolation,
    Query,
    Signal,
    Step,
    Update,
    check_determinism,
    format_schedule,
    schedules,
)
from replay.worker import Replayer

from . import testing_samples
from .testing_samples import GlobalCounterWorkflow, ProcessMemoryWorkflow

QUICK = settings(derandomize=True, database=None, max_examples=30)


def test_a_deterministic_workflow_passes_and_reports_what_ran() -> None:
    report = check_determinism(ApprovalWorkflow, args=("Ada",), hypothesis_settings=QUICK)
    assert report.workflow_type == "ApprovalWorkflow"
    assert report.examples >= 30
    assert report.seconds_per_example > 0


def test_activity_doubles_give_results() -> None:
    seen: list[str] = []

    def charge(order: Order) -> str:
        seen.append(order.order_id)
        return f"r-{order.order_id}"

    two: list[Step] = [Activate(), ActivityOutcome("success"), Activate(),
                       ActivityOutcome("success"), Crash()]
    check_determinism(OrderWorkflow, args=(Order("Z9", 2),), activities={"charge_card": charge},
                      inputs=st.just(two), hypothesis_settings=QUICK)
    assert seen and set(seen) == {"Z9"}  # decoded into the annotated type


@pytest.fixture
def system_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What this process takes for the system temp dir, private to the test."""
    private = tmp_path / "system-tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    return private


def test_a_nondeterministic_workflow_fails_with_the_shrunk_schedule_and_a_saved_history(
        tmp_path: Path, system_tmp: Path) -> None:
    testing_samples.CALLS[0] = 0
    saves = tmp_path / "saved"
    with pytest.raises(DeterminismViolation) as info:
        check_determinism(GlobalCounterWorkflow, hypothesis_settings=QUICK, save_dir=saves)
    err = info.value
    message = str(err)
    assert message.startswith("[RPL-T01] determinism check of workflow 'GlobalCounterWorkflow'")
    assert "[RPL-ND01] nondeterminism" in message
    assert "Schedule:\n    0: Signal(name='bump', args=(" in message
    assert err.schedule == [Signal("bump", err.schedule[0].args)]  # shrunk to one step
    assert err.history_path == saves / "GlobalCounterWorkflow.json"
    assert f"Saved history: {err.history_path}" in message
    assert sorted(p.name for p in saves.iterdir()) == ["GlobalCounterWorkflow.json"]  # one
    saved = History.load(err.history_path)
    assert len(saved.events) > 1  # the shrunk schedule's history: it diverges on replay
    result = Replayer(workflows=[GlobalCounterWorkflow]).replay_sync(
        saved, raise_on_replay_failure=False)
    assert isinstance(result.replay_failure, NondeterminismError)
    assert not list(system_tmp.iterdir())


def test_without_a_save_dir_a_failing_check_writes_no_file(system_tmp: Path) -> None:
    testing_samples.CALLS[0] = 0
    with pytest.raises(DeterminismViolation) as info:
        check_determinism(GlobalCounterWorkflow, hypothesis_settings=QUICK)
    assert info.value.history_path is None
    assert "Saved history" not in str(info.value)
    assert not list(system_tmp.glob("replay-determinism-*"))
    assert not list(system_tmp.iterdir())


def test_process_memory_breaks_are_found(tmp_path: Path, system_tmp: Path) -> None:
    testing_samples.SEEN.clear()
    with pytest.raises(DeterminismViolation) as info:
        check_determinism(ProcessMemoryWorkflow, hypothesis_settings=QUICK, save_dir=tmp_path)
    assert "Signal(name='tag'" in str(info.value)
    assert "keeps state outside the run" in str(info.value)
    assert [p.name for p in tmp_path.glob("*.json")] in ([], ["ProcessMemoryWorkflow.json"])
    assert not list(system_tmp.iterdir())


def test_explicit_schedule_strategy_and_crashes() -> None:
    fixed: list[Step] = [Update("set_language", (Language.FRENCH,)), Activate(), Crash(),
             Query("get_language", ()), Signal("approve", (Approval("Bo"),)), Crash()]
    report = check_determinism(ApprovalWorkflow, args=("Ada",), inputs=st.just(fixed),
                               hypothesis_settings=settings(QUICK, max_examples=1))
    assert report.examples >= 1


def test_format_schedule_numbers_steps() -> None:
    text = format_schedule([Activate(), ActivityOutcome("timeout")])
    assert text == "    0: Activate()\n    1: ActivityOutcome(kind='timeout')"
    assert format_schedule([]) == "  (empty)"


@settings(derandomize=True, database=None, max_examples=40)
@given(schedules(ApprovalWorkflow, max_steps=10))
def test_schedules_use_the_declared_handlers_with_typed_arguments(schedule: list[object]
                                                                  ) -> None:
    assert len(schedule) <= 10
    for step in schedule:
        if isinstance(step, Signal):
            assert step.name in {"approve", "note"}
            assert isinstance(step.args[0], Approval if step.name == "approve" else str)
        elif isinstance(step, Update):
            assert step.name in {"set_language", "add_note"}
            if step.name == "set_language":
                assert isinstance(step.args[0], Language)
        elif isinstance(step, Query):
            assert step.name in {"get_language", "get_notes"}


def test_payload_strategies_per_handler_name(tmp_path: Path) -> None:
    strategy = schedules(ApprovalWorkflow, payloads={"note": st.just(("fixed",))},
                         min_steps=30, max_steps=30)

    @settings(derandomize=True, database=None, max_examples=10)
    @given(strategy)
    def check(schedule: list[object]) -> None:
        for step in schedule:
            if isinstance(step, Signal) and step.name == "note":
                assert step.args == ("fixed",)

    check()
