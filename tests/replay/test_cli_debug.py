"""``replay debug``: a scripted session on standard input."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from replay._cli._main import main

from .cli_workflows import greeter
from .cli_workflows.recordings import greeter_history, marker_line

GREETER = "tests.replay.cli_workflows.greeter"
CHANGED = "tests.replay.cli_workflows.greeter_changed"


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "greet-1.json"
    greeter_history().save(path)
    return path


def session(*args: str, script: str) -> Result:
    result = CliRunner().invoke(main, ["debug", *args], input=script, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_a_scripted_session(saved: Path) -> None:
    out = session(str(saved), "-w", GREETER, script="\n".join([
        "state", "step", "state", "break ActivityScheduled", "break", "continue", "source",
        "state", "pending", "where", "query count", "next", "query greeting_for 0",
        "history 1", "continue", "clear", "until 15", "source", "help", "bogus", "until x",
        "query nope", "continue", "step", "quit", "step",
    ]) + "\n").stdout
    assert "replaying run run-greeter of Greeter (18 events, 7 activations)" in out
    assert "(no workflow object yet" in out
    assert "-> 1 WorkflowStarted Greeter id=greet-1" in out
    assert "names = ['Ada']" in out
    assert "breakpoint 1 at ActivityScheduled" in out and "1: ActivityScheduled" in out
    assert "-> 9 ActivityScheduled compose #1" in out
    line = marker_line(greeter.__file__, "activity")
    assert f"{greeter.__file__}:{line}: greeting = await workflow.execute_activity(" in out
    assert "done = True" in out
    assert "event 9: ActivityScheduled(activity_type='compose')" in out
    assert f"{greeter.__file__}:{line} in run" in out
    assert "-> 10 WorkflowTaskCompleted" in out  # next: the end of the activation
    assert '"Hello, Ada!"' in out
    assert "-> 10  " in out  # history marks the cursor
    assert f"greeter.py:{marker_line(greeter.__file__, 'timer')}: await asyncio.sleep" in out
    assert "step [s]" in out  # help
    assert "unknown command 'bogus'" in out
    assert "until needs an event id" in out
    assert "error: [RPL-Q01]" in out
    assert "-> 12 ActivityScheduled compose #2" in out
    assert "end of history" in out
    assert out.count("end of history") == 2  # the step after quit never ran


def test_a_session_that_diverges_shows_both_sides(saved: Path) -> None:
    out = session(str(saved), "-w", CHANGED, "-b", "3", script="c\nc\nc\nstate\n").stdout
    assert "breakpoint event 3" in out
    assert "stopped: replay diverged in the activation starting at event 8" in out
    assert "[RPL-ND01]" in out
    assert "history (expected)" in out and "code (actual)" in out
    row = next(ln for ln in out.splitlines() if ln.startswith(">>"))
    assert "ActivityScheduled" in row and "TimerStarted" in row
    assert out.count("stopped: replay diverged") == 2  # it stays there


def test_debug_a_run_from_the_database(saved: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "d.db")
    CliRunner().invoke(main, ["import", str(saved), "--db", db])
    out = session("greet-1", "-w", GREETER, "--db", db, script="until 18\nquery count\n").stdout
    assert "-> 18 WorkflowCompleted" in out and "\n2\n" in out


def test_a_bad_breakpoint_option_is_a_usage_error(saved: Path) -> None:
    result = CliRunner().invoke(main, ["debug", str(saved), "-w", GREETER, "-b", "a b"])
    assert result.exit_code == 2
