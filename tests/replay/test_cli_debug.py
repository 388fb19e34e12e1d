"""``replay debug``: scripted sessions on standard input, and one at a terminal."""

from __future__ import annotations

import io
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from replay._cli._debug import Shell
from replay._cli._main import main
from replay.debug import Debugger

from .cli_workflows import fanout, fanout_changed, greeter
from .cli_workflows.recordings import fanout_history, greeter_history, marker_line

ROOT = Path(__file__).resolve().parents[2]
ACTIVITY_LINE = marker_line(greeter.__file__, "activity")
TIMER_LINE = marker_line(greeter.__file__, "timer")

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


# --- the shell through cmd's stdin interface ------------------------------------------------


@pytest.fixture
def dbg() -> Iterator[Debugger]:
    with Debugger(greeter_history(), workflows=[greeter.Greeter]) as debugger:
        yield debugger


def run_shell(dbg: Debugger, *lines: str) -> str:
    out = io.StringIO()
    shell = Shell(dbg, stdin=io.StringIO("".join(f"{ln}\n" for ln in lines)), stdout=out)
    assert shell.use_rawinput is False and shell.prompt == ""
    shell.run()
    return out.getvalue()


def test_completion_of_commands_ids_kinds_locations_and_queries(dbg: Debugger) -> None:
    shell = Shell(dbg, stdin=io.StringIO(), stdout=io.StringIO())
    assert shell.completenames("st") == ["state ", "step "]
    assert shell.complete_help("c", "help c", 5, 6) == ["clear", "continue"]
    assert shell.complete_until("1", "until 1", 6, 7) == ["1", *map(str, range(10, 19))]
    assert shell.complete_break("TimerF", "break TimerF", 6, 12) == ["TimerFired"]
    assert "ActivityScheduled" in shell.complete_break("", "break ", 6, 6)
    lines = dbg.command_lines().lines[greeter.__file__]
    assert {ACTIVITY_LINE, TIMER_LINE} <= set(lines)
    assert shell.complete_break("gre", "break gre", 6, 9) == [f"greeter.py:{n}" for n in lines]
    full = shell.complete_break(greeter.__file__[:-3], "break x", 6, 7)
    assert full == [f"{greeter.__file__}:{n}" for n in lines]
    assert shell.complete_query("gr", "query gr", 6, 8) == ["greeting_for"]
    assert shell.complete_query("", "query count ", 12, 12) == []  # arguments are JSON
    dbg.add_breakpoint(3)
    assert shell.complete_clear("", "clear ", 6, 6) == ["1"]


def test_breakpoints_are_checked_when_set(dbg: Debugger) -> None:
    out = run_shell(dbg, "break nonsense", "b TimerFird", f"break greeter.py:{ACTIVITY_LINE - 2}",
                    "break nowhere.py:4", "break 40", "break two words", "break TimerCanceled",
                    "break", "clear 2", "clear 1", "break")
    assert ("error: unknown event kind 'nonsense' (a breakpoint is an event id (12), an event "
            "kind (TimerStarted) or file:line (workflows.py:42))") in out
    assert "did you mean TimerFired" in out
    assert (f"error: greeter.py:{ACTIVITY_LINE - 2} issues no command in this history; the "
            "nearest lines that do:\n") in out
    assert f"greeter.py:{ACTIVITY_LINE}: greeting = await workflow.execute_activity(" in out
    assert f"greeter.py:{TIMER_LINE}: await asyncio.sleep(0.01)" in out
    assert "error: unknown file 'nowhere.py'" in out
    assert "error: there is no event 40" in out
    assert "error: cannot read breakpoint 'two words'" in out
    assert "breakpoint 1 at TimerCanceled\nnote: this history holds no TimerCanceled event" in out
    assert "1: TimerCanceled" in out
    assert "error: there is no breakpoint 2" in out
    assert out.endswith("breakpoint 1 cleared\nno breakpoints\n")


def test_until_and_step_backwards(dbg: Debugger) -> None:
    out = run_shell(dbg, "until 12", "state", "until 3", "state", "step -1", "back 2", "back",
                    "until 9", "restart", "state")
    blocks = out.split("-> ")
    assert blocks[1].startswith("12 ActivityScheduled") and "names = ['Ada', 'Bo']" in blocks[1]
    assert blocks[2].startswith("3 SignalReceived add") and "names = ['Ada', 'Bob']" in blocks[2]
    assert blocks[3].startswith("2 WorkflowTaskCompleted")
    assert "at the start (no event yet)\nat the start (no event yet)" in out  # back 2, back
    assert blocks[4].startswith("9 ActivityScheduled")
    assert out.endswith("at the start (no event yet)\n"
                        "(no workflow object yet: step into the first activation)\n")


def test_where_shows_full_stacks_innermost_last() -> None:
    with Debugger(fanout_history(), workflows=[fanout.Fanout]) as dbg:
        out = run_shell(dbg, "until 7", "where", "w")
    where = out.split("[activation 2]\n", 1)[1]
    first, second = where[: len(where) // 2], where[len(where) // 2:]
    assert first == second  # the same twice, in the same order
    assert first.index("task workflow-run:") < first.index("task update:label:u1:")
    assert f"{fanout.__file__}:{marker_line(fanout.__file__, 'label')} in label" in first
    run = first.split("task workflow-run:\n")[1].split("task ")[0]
    assert [ln.split()[-1] for ln in run.splitlines() if " in " in ln] == ["run", "fetch_all"]
    assert "(waiting for task activity:double)" in first
    assert "_handlers.py" not in out


def test_help_for_one_command_and_aliases(dbg: Debugger) -> None:
    out = run_shell(dbg, "help until", "? b", "help nothing", "s", "n", "u 9", "l 0", "bt",
                    "exit", "step")
    assert out.count("until [u] N\n  Move to event N, forward or back.") == 1
    assert "break [b] [KIND|EVENT_ID|FILE:LINE]" in out
    assert "error: no command 'nothing'" in out
    assert "-> 1 WorkflowStarted" in out and "-> 2 WorkflowTaskCompleted" in out
    assert "-> 9 ActivityScheduled" in out and "in run" in out
    assert out.count("->") == 4  # step, next, until, the history line; nothing after exit


def test_escape_sequences_are_an_unknown_command_shown_escaped(dbg: Debugger) -> None:
    out = run_shell(dbg, "\x1b[A")
    assert "unknown command '\\x1b[A'; type 'help'" in out


# --- subprocesses: a terminal, and standard error after a divergence ------------------------


def _command(*args: str) -> list[str]:
    return [sys.executable, "-X", "dev", "-W", "error", "-c",
            "from replay._cli import main; main()", "debug", *args]


class Terminal:
    """A subprocess on a pseudo-terminal; ``expect`` reads until a text appears."""

    def __init__(self, argv: list[str], inputrc: Path) -> None:
        import pty

        self.master, slave = pty.openpty()
        env = {**os.environ, "TERM": "xterm", "INPUTRC": str(inputrc), "COLUMNS": "200"}
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT,
                                     env=env, close_fds=True)
        os.close(slave)
        self.seen = b""

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def expect(self, text: str, timeout: float = 30.0) -> str:
        """Everything read up to and including ``text``; fails after ``timeout`` seconds."""
        wanted = text.encode()
        deadline = time.monotonic() + timeout
        while wanted not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"no {text!r} in {self.seen!r}"
            if select.select([self.master], [], [], left)[0]:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                assert chunk, f"no {text!r} before the end: {self.seen!r}"
                self.seen += chunk
        end = self.seen.index(wanted) + len(wanted)
        found, self.seen = self.seen[:end], self.seen[end:]
        return found.decode(errors="replace")

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            os.close(self.master)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_at_a_terminal_tab_completes_and_up_arrow_recalls(saved: Path, tmp_path: Path) -> None:
    pytest.importorskip("readline")
    inputrc = tmp_path / "inputrc"
    inputrc.write_text("set show-all-if-ambiguous on\n")  # one TAB lists the choices
    term = Terminal(_command(str(saved), "-w", GREETER), inputrc)
    try:
        term.expect("Type 'help' for commands.")
        term.expect("(replay) ")
        term.send("unt\t")
        assert term.expect("until ").endswith("until ")  # the command name, completed
        term.send("9\n")
        term.expect("-> 9 ActivityScheduled")
        term.expect("(replay) ")
        term.send("break TimerSt\t")
        term.expect("TimerStarted")
        term.send("\n")
        term.expect("breakpoint 1 at TimerStarted")
        term.expect("(replay) ")
        term.send("break greeter.py:\t")  # several lines: the TAB lists them
        listed = term.expect(f"greeter.py:{TIMER_LINE}")
        assert f"greeter.py:{ACTIVITY_LINE}" in listed
        term.send("\x15state\n")  # Ctrl-U clears the line first
        term.expect("done = True")
        term.expect("(replay) ")
        term.send("\x1b[A\n")  # Up-arrow: the last line again
        after = term.expect("done = True")
        assert "unknown command" not in after
        term.expect("(replay) ")
        term.send("quit\n")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()


def test_no_warning_on_stderr_after_a_divergence(tmp_path: Path) -> None:
    path = tmp_path / "fanout.json"
    fanout_history().save(path)
    result = subprocess.run(
        _command(str(path), "-w", fanout_changed.__name__), cwd=ROOT, capture_output=True,
        text=True, input="continue\nwhere\npending\nback 3\nwhere\ncontinue\nquit\n",
        timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("stopped: replay diverged") == 2
    assert "task update:label:u1:" in result.stdout
    assert result.stderr == ""
