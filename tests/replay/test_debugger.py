"""The replay debugger's Python API (replay.debug.Debugger)."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest

from replay.debug import Breakpoint, Debugger
from replay.history import ReplayError

from .cli_workflows import greeter, greeter_changed, pausing
from .cli_workflows.recordings import greeter_history, marker_line, pausing_history

ACTIVITY_LINE = marker_line(greeter.__file__, "activity")
TIMER_LINE = marker_line(greeter.__file__, "timer")


@pytest.fixture
def dbg() -> Debugger:
    return Debugger(greeter_history(), workflows=[greeter.Greeter])


def test_public_names_live_in_replay_debug() -> None:
    assert Debugger.__module__ == "replay.debug"
    assert Breakpoint.__module__ == "replay.debug"


def test_starts_before_the_first_event_with_no_workflow_object(dbg: Debugger) -> None:
    assert dbg.cursor == 0
    assert dbg.event is None
    assert dbg.state() == {}
    with pytest.raises(ReplayError, match="RPL-DBG01"):
        dbg.query("count")


def test_step_moves_one_event_and_runs_an_activation_on_entering_it(dbg: Debugger) -> None:
    stop = dbg.step()
    assert (stop.reason, dbg.cursor, type(stop.event).__name__) == ("step", 1,
                                                                    "WorkflowStarted")
    assert dbg.state()["names"] == ["Ada"]
    dbg.step()  # the WorkflowTaskCompleted closing activation 1: nothing runs
    assert dbg.state()["names"] == ["Ada"]
    assert dbg.activation_index() == 0
    dbg.step()  # enters activation 2: the signal is delivered
    assert dbg.cursor == 3
    assert dbg.activation_index() == 1
    assert dbg.state()["names"] == ["Ada", "Bob"]


def test_stepping_every_event_reaches_the_end(dbg: Debugger) -> None:
    seen = []
    while (stop := dbg.step()).reason == "step":
        seen.append(dbg.cursor)
    assert seen == list(range(1, 19))
    assert stop.reason == "end"
    assert dbg.at_end
    assert dbg.query("count") == 2


def test_next_moves_one_activation(dbg: Debugger) -> None:
    closings = []
    while (stop := dbg.next()).reason == "activation":
        closings.append(dbg.cursor)
    assert closings == [2, 4, 7, 10, 13, 16, 18]
    assert stop.reason == "end"
    assert dbg.cursor == 18


def test_next_from_inside_an_activation_finishes_it(dbg: Debugger) -> None:
    dbg.until(5)
    assert dbg.next().event is not None
    assert dbg.cursor == 7


def test_until_stops_at_the_event_and_source_names_the_line(dbg: Debugger) -> None:
    stop = dbg.until(9)
    assert stop.reason == "until"
    assert dbg.cursor == 9
    assert dbg.location() == (greeter.__file__, ACTIVITY_LINE)
    source = dbg.source()
    assert source is not None and "workflow.execute_activity" in source
    assert dbg.state()["done"] is True


def test_inputs_and_engine_issued_events_have_no_source(dbg: Debugger) -> None:
    dbg.until(3)
    assert dbg.source() is None  # a signal: an input
    dbg.until(5)
    assert dbg.source() is None  # an update acceptance is recorded by the engine


def test_breakpoint_on_a_kind(dbg: Debugger) -> None:
    dbg.add_breakpoint("ActivityScheduled")
    assert dbg.continue_().reason == "breakpoint"
    assert dbg.cursor == 9
    stop = dbg.continue_()
    assert (stop.reason, dbg.cursor) == ("breakpoint", 12)
    assert stop.breakpoint == Breakpoint(kind="ActivityScheduled")
    assert dbg.continue_().reason == "end"


def test_breakpoint_on_an_event_id_and_until_stops_early(dbg: Debugger) -> None:
    dbg.add_breakpoint(6)
    stop = dbg.until(15)
    assert (stop.reason, dbg.cursor) == ("breakpoint", 6)


def test_breakpoint_on_a_file_and_line(dbg: Debugger) -> None:
    dbg.add_breakpoint(f"greeter.py:{TIMER_LINE}")
    stop = dbg.continue_()
    assert (stop.reason, dbg.cursor, type(stop.event).__name__) == (
        "breakpoint", 15, "TimerStarted")


def test_breakpoint_specs() -> None:
    assert Breakpoint.parse("7") == Breakpoint(event_id=7)
    assert Breakpoint.parse(7) == Breakpoint(event_id=7)
    assert Breakpoint.parse("TimerFired") == Breakpoint(kind="TimerFired")
    assert Breakpoint.parse("a/b.py:3") == Breakpoint(file="a/b.py", line=3)
    with pytest.raises(ValueError, match="file:line"):
        Breakpoint.parse("not a spec")


def test_pending_and_where_show_the_open_activity(dbg: Debugger) -> None:
    dbg.until(9)
    pending = dbg.pending()
    assert any("event 9" in c and "compose" in c for c in pending["commands"])
    where = dbg.where()
    assert f"{greeter.__file__}:{ACTIVITY_LINE} in run" in where
    dbg.until(11)  # the result arrived; the next activity is open
    assert any("event 12" in c for c in dbg.pending()["commands"])


def test_query_with_arguments(dbg: Debugger) -> None:
    dbg.until(14)
    assert dbg.query("greeting_for", 1) == "Hello, Bo!"


def test_events_around_the_cursor(dbg: Debugger) -> None:
    dbg.until(9)
    assert [e.event_id for e in dbg.events_around(2, 2)] == [7, 8, 9, 10, 11]


def test_divergence_stops_with_expected_and_actual() -> None:
    dbg = Debugger(greeter_history(), workflows=[greeter_changed.Greeter])
    stop = dbg.continue_()
    assert stop.reason == "divergence"
    assert stop.divergence is not None
    assert dbg.cursor == 9
    assert stop.divergence.event_id == 9
    assert "RPL-ND01" in str(stop.divergence.error)
    table = stop.divergence.side_by_side()
    header, row = table.splitlines()[:2]
    assert "history (expected)" in header and "code (actual)" in header
    assert row.startswith(">>")
    assert "ActivityScheduled" in row.split("|")[0]
    assert "TimerStarted" in row.split("|")[1] and "greeter_changed.py" in row
    # the debugger stays at the divergence
    assert dbg.step().reason == "divergence"
    assert dbg.cursor == 9


def test_breakpoint_builtin_works_inside_workflow_code_during_replay(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    caller_thread = threading.current_thread()

    def recorder(*args: Any, **kwargs: Any) -> None:
        frame = sys._getframe(1)
        calls.append({"ticks": frame.f_locals["self"].ticks,
                      "file": frame.f_code.co_filename,
                      "same_thread": threading.current_thread() is caller_thread})

    history = pausing_history(2)
    monkeypatch.setattr(sys, "breakpointhook", recorder)
    dbg = Debugger(history, workflows=[pausing.Pausing])
    dbg.until(3)
    assert calls == []
    dbg.step()  # enters the activation where the first timer fired
    assert calls == [{"ticks": 1, "file": pausing.__file__, "same_thread": True}]
    dbg.continue_()
    assert [c["ticks"] for c in calls] == [1, 2]
