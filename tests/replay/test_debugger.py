"""The replay debugger's Python API (replay.debug.Debugger)."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from replay.debug import Breakpoint, BreakpointError, Debugger
from replay.history import ReplayError

from .cli_workflows import fanout, fanout_changed, greeter, greeter_changed, pausing
from .cli_workflows.recordings import (
    fanout_history,
    greeter_history,
    marker_line,
    pausing_history,
)

ACTIVITY_LINE = marker_line(greeter.__file__, "activity")
TIMER_LINE = marker_line(greeter.__file__, "timer")


@pytest.fixture
def dbg() -> Iterator[Debugger]:
    with Debugger(greeter_history(), workflows=[greeter.Greeter]) as debugger:
        yield debugger


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


# --- breakpoints are checked when set ----------------------------------------------------


def test_the_command_lines_come_from_a_replay_of_the_history(dbg: Debugger) -> None:
    lines = dbg.command_lines()
    assert list(lines.lines) == [greeter.__file__]
    found = lines.lines[greeter.__file__]
    assert found == sorted(found)
    assert {ACTIVITY_LINE, TIMER_LINE} <= set(found)
    assert not {ACTIVITY_LINE - 1, ACTIVITY_LINE + 1} & set(found)
    assert lines.complete
    assert dbg.cursor == 0 and dbg.state() == {}  # learnt aside: the debugger did not move


def test_a_line_that_issues_no_command_is_refused_with_the_nearest_that_do(
        dbg: Debugger) -> None:
    with pytest.raises(BreakpointError) as err:
        dbg.add_breakpoint(f"greeter.py:{ACTIVITY_LINE - 2}")
    assert err.value.nearest == [(greeter.__file__, ACTIVITY_LINE),
                                 (greeter.__file__, TIMER_LINE)]
    message = str(err.value)
    assert f"greeter.py:{ACTIVITY_LINE - 2} issues no command in this history" in message
    assert f"greeter.py:{ACTIVITY_LINE}: greeting = await workflow.execute_activity(" in message
    assert f"greeter.py:{TIMER_LINE}: await asyncio.sleep(0.01)" in message
    assert dbg.breakpoints == []


def test_an_unknown_file_is_refused(dbg: Debugger) -> None:
    with pytest.raises(BreakpointError, match=r"unknown file 'nowhere\.py'.*greeter\.py"):
        dbg.add_breakpoint("nowhere.py:3")


def test_a_loaded_file_that_issues_no_command_is_refused(dbg: Debugger) -> None:
    with pytest.raises(BreakpointError, match=r"no line of cli_workflows/recordings\.py does"):
        dbg.add_breakpoint("cli_workflows/recordings.py:20")


def test_an_unknown_kind_is_refused_with_the_usage_and_close_kinds(dbg: Debugger) -> None:
    with pytest.raises(BreakpointError, match=r"unknown event kind 'nonsense'.*file:line"):
        dbg.add_breakpoint("nonsense")
    with pytest.raises(BreakpointError, match="did you mean TimerFired"):
        dbg.add_breakpoint("TimerFird")
    assert dbg.add_breakpoint("timerfired") == Breakpoint(kind="timerfired")  # any case


def test_an_event_id_outside_the_history_is_refused(dbg: Debugger) -> None:
    with pytest.raises(BreakpointError, match="no event 19: this history holds events 1 to 18"):
        dbg.add_breakpoint(19)
    with pytest.raises(BreakpointError, match="cannot read breakpoint 'a b'"):
        dbg.add_breakpoint("a b")


def test_command_lines_stop_at_a_divergence() -> None:
    with Debugger(greeter_history(), workflows=[greeter_changed.Greeter]) as dbg:
        lines = dbg.command_lines()
        assert (lines.complete, lines.stopped_at) == (False, 9)
        changed = marker_line(greeter_changed.__file__, "changed")
        with pytest.raises(BreakpointError, match="the replay diverges at event 9"):
            dbg.add_breakpoint(f"greeter_changed.py:{changed}")


def test_learning_the_command_lines_does_not_run_breakpoint_builtin(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(sys, "breakpointhook", lambda *a, **k: calls.append(1))
    with Debugger(pausing_history(2), workflows=[pausing.Pausing]) as dbg:
        (file, lines), = dbg.command_lines().lines.items()
        assert calls == []
        dbg.add_breakpoint(f"{file}:{lines[0]}")
        dbg.clear_breakpoints()
        dbg.continue_()
        assert calls == [1, 1]  # during the stepping, as before


# --- moving back ----------------------------------------------------------------------------


def test_until_an_earlier_event_replays_from_the_start(dbg: Debugger) -> None:
    dbg.until(12)
    first = dbg.instance
    assert dbg.state()["names"] == ["Ada", "Bo"]
    stop = dbg.until(3)
    assert (stop.reason, dbg.cursor) == ("until", 3)
    assert dbg.instance is not first
    assert dbg.state()["names"] == ["Ada", "Bob"]  # before the update renamed Bob
    assert dbg.source() is None
    dbg.add_breakpoint(6)
    assert dbg.continue_().reason == "breakpoint"  # forward again, breakpoints honoured
    assert dbg.until(12).event is not None
    assert dbg.source() is not None and "execute_activity" in dbg.source()  # type: ignore[operator]


def test_moving_back_does_not_stop_at_breakpoints(dbg: Debugger) -> None:
    dbg.until(15)
    dbg.add_breakpoint("SignalReceived")  # events 3 and 8
    assert (dbg.until(9).reason, dbg.cursor) == ("until", 9)


def test_back_and_restart(dbg: Debugger) -> None:
    dbg.until(12)
    stop = dbg.back()
    assert (stop.reason, dbg.cursor) == ("back", 11)
    assert dbg.query("count") == 1
    dbg.back(3)
    assert dbg.cursor == 8
    assert dbg.restart().event is None
    assert (dbg.cursor, dbg.state()) == (0, {})
    assert dbg.back().event is None and dbg.cursor == 0


def test_moving_back_from_a_divergence() -> None:
    with Debugger(greeter_history(), workflows=[greeter_changed.Greeter]) as dbg:
        assert dbg.continue_().reason == "divergence"
        stop = dbg.until(4)
        assert (stop.reason, dbg.cursor, dbg.divergence) == ("until", 4, None)
        assert dbg.state()["names"] == ["Ada", "Bob"]
        assert dbg.continue_().reason == "divergence"  # and forward into it again
        assert dbg.cursor == 9


# --- where ------------------------------------------------------------------------------------


def test_where_shows_every_task_full_user_stack_in_creation_order() -> None:
    def line(module: Any, marker: str, kind: str = "cmd") -> int:
        text = Path(module.__file__).read_text().splitlines()
        return next(n for n, ln in enumerate(text, start=1) if f"# {kind}: {marker}" in ln)

    with Debugger(fanout_history(), workflows=[fanout.Fanout]) as dbg:
        dbg.until(7)
        stacks = dbg.stacks()
        assert [s.name for s in stacks] == ["workflow-run", stacks[1].name, stacks[2].name,
                                            "update:label:u1"]
        f = fanout.__file__
        run, children, update = stacks[0], stacks[1:3], stacks[3]
        assert [(fr.file, fr.line, fr.function) for fr in run.frames] == [
            (f, line(fanout, "fanout", "wait"), "run"),
            (f, line(fanout, "group", "wait"), "fetch_all")]  # innermost last
        for child in children:
            assert [(fr.line, fr.function) for fr in child.frames] == [
                (line(fanout, "fetch"), "fetch_one")]
            assert child.waiting_for == "activity:double"
        # the handler's own line, not the engine's wrapper around it
        assert [(fr.file, fr.line, fr.function) for fr in update.frames] == [
            (f, line(fanout, "label"), "label")]
        text = dbg.where()
        assert text == dbg.where()  # the same every time
        assert f"{f}:{line(fanout, 'label')} in label\n      await asyncio.sleep(5)" in text
        assert "replay/_core" not in text and "asyncio/" not in text


# --- no stray warnings --------------------------------------------------------------------


@pytest.fixture
def unraisable(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the garbage collector reports as ignored (a coroutine ignoring GeneratorExit)."""
    seen: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook",
                        lambda u: seen.append(f"{u.exc_type.__name__}: {u.exc_value}"))
    return seen


def test_closing_after_a_divergence_leaves_nothing_for_the_garbage_collector(
        unraisable: list[str]) -> None:
    dbg = Debugger(fanout_history(), workflows=[fanout_changed.Fanout])
    stop = dbg.continue_()
    assert (stop.reason, dbg.cursor) == ("divergence", 11)
    assert "update:label:u1" in dbg.where()  # the handler still waits at the divergence
    dbg.close()
    del dbg, stop
    gc.collect()
    assert unraisable == []


def test_without_closing_the_handler_coroutine_is_reported(unraisable: list[str]) -> None:
    # the counterpart of the test above: what close() prevents
    dbg = Debugger(fanout_history(), workflows=[fanout_changed.Fanout])
    dbg.continue_()
    del dbg
    gc.collect()
    assert any("GeneratorExit" in u for u in unraisable)


def test_moving_back_closes_the_replaced_instance(unraisable: list[str]) -> None:
    with Debugger(fanout_history(), workflows=[fanout.Fanout]) as dbg:
        dbg.until(9)
        dbg.until(2)
        gc.collect()
        assert unraisable == []
        dbg.add_breakpoint(f"fanout.py:{marker_line(fanout.__file__, 'label')}")
        gc.collect()
        assert unraisable == []  # nor the replay that learnt the command lines


def test_a_move_interrupted_halfway_is_replayed_again_by_the_next(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    with Debugger(pausing_history(2), workflows=[pausing.Pausing]) as dbg:
        dbg.until(3)
        monkeypatch.setattr(sys, "breakpointhook", interrupt)  # Ctrl-C inside the activation
        with pytest.raises(KeyboardInterrupt):
            dbg.step()
        assert dbg.cursor == 3
        monkeypatch.setattr(sys, "breakpointhook", lambda *a, **k: None)
        assert dbg.step().reason == "step"
        assert (dbg.cursor, dbg.state()["ticks"]) == (4, 1)  # not 2: ran once, afresh
