"""Helpers shared by the engine's tests: record with the driver, replay, compare."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from replay.history import Event, History
from replay.testing import WorkflowDriver
from replay.worker import Replayer, WorkflowReplayResult

Scenario = Callable[[WorkflowDriver], Any]


def kinds(events: Sequence[Event]) -> list[str]:
    """Event class names, in order."""
    return [type(e).__name__ for e in events]


def record(workflow: type, scenario: Scenario, *args: Any, **driver_kw: Any
           ) -> tuple[WorkflowDriver, Any]:
    """Run ``scenario`` against a fresh driver; returns the driver and what it returned."""
    driver = WorkflowDriver(workflow, *args, **driver_kw)
    return driver, scenario(driver)


def replay(history: History, *workflows: type) -> WorkflowReplayResult:
    """Replay ``history`` (raising on any replay failure)."""
    return Replayer(workflows=list(workflows)).replay_sync(history)


def assert_replays(driver: WorkflowDriver, *workflows: type,
                   queries: Sequence[tuple[Any, ...]] = ()) -> WorkflowReplayResult:
    """Replay the driver's history and check it reproduces its end state.

    Replay succeeding means every recorded command was reissued; on top of
    that the status, result, failure and the given queries' answers must
    equal the live run's.
    """
    history = driver.history()
    result = replay(history, *(workflows or (type(driver.instance.workflow),)))
    live = driver.instance
    assert result.replay_failure is None
    assert result.instance is not None
    assert result.result == live.result_payload
    assert result.failure == live.failure
    assert result.instance.closed == live.closed
    assert result.instance.last_event_id == live.last_event_id
    for name, *args in queries:
        assert result.query(name, *args) == driver.query(name, *args), name
    return result
