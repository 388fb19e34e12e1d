"""The timeline's layout, from recorded histories: bars, outcomes, marks, positions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from replay._ui._timeline import build_timeline
from replay.client import Client
from replay.history import (
    ActivityFailed,
    ActivityScheduled,
    Failure,
    SignalReceived,
    TimerFired,
    TimerStarted,
    WorkflowStarted,
    WorkflowTaskFailed,
)

from .conftest import LoopThread, RunningWorker, start_order
from .workflows import Order

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_finished_run_has_a_bar_per_command_and_a_mark_per_signal(
        loop_thread: LoopThread, client: Client, worker: RunningWorker) -> None:
    handle = start_order(loop_thread, client, "tl-1")

    async def finish() -> None:
        await handle.signal(Order.add_item, "tea")
        await handle.signal(Order.approve)
        await handle.result()

    loop_thread.call(finish)
    run = client.store.latest_run("tl-1")
    assert run is not None
    events = client.store.read(run.run_id)
    timeline = build_timeline(events)
    assert [(b.kind, b.label, b.outcome) for b in timeline.bars] == [
        ("activity", "greet", "completed"),
        ("timer", "timer 0.05s", "fired"),
        ("child", "Doubler tl-1-child", "completed"),
    ]
    assert [(m.kind, m.label) for m in timeline.marks] == [("signal", "add_item"),
                                                          ("signal", "approve")]
    for bar in timeline.bars:
        assert bar.closed_by is not None and bar.closed_by > bar.event_id
        assert 0 <= bar.left <= 100 and 0 <= bar.left + bar.width <= 100.001
    lefts = [b.left for b in timeline.bars]
    assert lefts == sorted(lefts)  # commands were issued in this order
    assert timeline.start == events[0].time and timeline.end == events[-1].time


def test_an_open_command_runs_to_now_and_failures_are_marked() -> None:
    failure = Failure(type="ValueError", message="boom")
    events = [
        WorkflowStarted(event_id=1, time=at(0), workflow_type="W", workflow_id="w",
                        task_queue="q"),
        ActivityScheduled(event_id=2, time=at(1), seq=1, activity_type="slow",
                          activity_id="1", task_queue="q"),
        TimerStarted(event_id=3, time=at(1), seq=2, duration=timedelta(seconds=2),
                     fire_at=at(3)),
        TimerFired(event_id=4, time=at(3), started_event_id=3),
        SignalReceived(event_id=5, time=at(4), signal_name="poke"),
        WorkflowTaskFailed(event_id=6, time=at(5), failure=failure, attempt=1),
    ]
    timeline = build_timeline(events, now=at(10))
    slow, timer = timeline.bars
    assert (slow.outcome, slow.closed_by, slow.end) == ("open", None, at(10))
    assert (slow.left, slow.width) == (10.0, 90.0)
    assert (timer.outcome, timer.left, timer.width) == ("fired", 10.0, 20.0)
    assert [(m.kind, m.left) for m in timeline.marks] == [("signal", 40.0),
                                                         ("task-failed", 50.0)]
    assert timeline.marks[1].label == "ValueError: boom"


def test_an_activity_that_failed_for_good_has_the_failed_outcome() -> None:
    events = [
        WorkflowStarted(event_id=1, time=at(0), workflow_type="W", workflow_id="w",
                        task_queue="q"),
        ActivityScheduled(event_id=2, time=at(0), seq=1, activity_type="a",
                          activity_id="1", task_queue="q"),
        ActivityFailed(event_id=3, time=at(2), scheduled_event_id=2,
                       failure=Failure(type="E", message="m"), attempt=3),
    ]
    (bar,) = build_timeline(events).bars
    assert (bar.outcome, bar.width, bar.closed_by) == ("failed", 100.0, 3)


def test_an_empty_history_gives_an_empty_timeline() -> None:
    timeline = build_timeline([], now=T0)
    assert (timeline.bars, timeline.marks, timeline.seconds) == ([], [], 0.0)
