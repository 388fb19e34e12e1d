"""``replay debug``: the replay debugger as a pdb-like shell (``cmd.Cmd``).

At a terminal the shell reads lines through readline: line editing, history
(Up-arrow) and tab completion of command names, event ids, event kinds,
``file:line`` locations that issue commands, query names and help topics.
From a pipe or a file it reads plain lines and prints no prompt, so a script
can be fed to it.
"""

from __future__ import annotations

import cmd
import json
import os
import sys
from collections.abc import Callable
from typing import IO, Any, ClassVar

import click

from replay.converter import DataConverter
from replay.debug import Debugger, Stop
from replay.history import EVENT_KINDS, ReplayError

from ._common import (
    data_converter_option,
    db_option,
    load_code,
    load_history,
    need_workflows,
    to_json,
)
from ._escape import visible
from ._summary import format_history, summarize

PROMPT = "(replay) "


class Shell(cmd.Cmd):
    """Reads debugger commands and prints what they show.

    ``stdin``/``stdout`` default to the process's; readline (editing, history,
    completion) is used when ``stdin`` is the process's standard input and a
    terminal, as ``cmd.Cmd`` does with ``use_rawinput``.
    """

    #: each command's names: the first is the command (``do_<name>``), the rest its
    #: aliases. docs/debugging.md documents every first name (a test checks it).
    COMMANDS: tuple[tuple[str, ...], ...] = (
        ("step", "s"), ("next", "n"), ("until", "u"), ("continue", "c", "cont"),
        ("back",), ("restart",),
        ("break", "b"), ("clear",),
        ("state",), ("query",), ("pending",), ("where", "w", "bt"), ("source",),
        ("history", "l"), ("help", "h", "?"), ("quit", "q", "exit"),
    )
    ALIASES: ClassVar[dict[str, str]] = {
        alias: names[0] for names in COMMANDS for alias in names[1:]}

    def __init__(self, dbg: Debugger, stdin: IO[str] | None = None,
                 stdout: IO[str] | None = None) -> None:
        super().__init__(stdin=stdin, stdout=stdout)
        self.dbg = dbg
        self.interactive = self.stdin is sys.stdin and _isatty(self.stdin)
        self.use_rawinput = self.interactive
        self.prompt = PROMPT if self.interactive else ""

    # --- the loop ------------------------------------------------------------------------

    def say(self, text: Any = "") -> None:
        """Print one block of text. Everything the shell prints passes here: histories,
        payloads and code carry text from elsewhere, escaped before it reaches a terminal."""
        self.stdout.write(visible(text, keep_newlines=True) + "\n")

    def run(self) -> None:
        """Read and run commands until ``quit`` or the end of the input."""
        h = self.dbg.history
        self.say(f"replaying run {h.run_id} of {h.workflow_type} ({len(h)} events, "
                 f"{len(self.dbg.activations)} activations). Type 'help' for commands.")
        delims = _completer_delims(" \t\n") if self.use_rawinput else None
        try:
            while True:
                try:
                    self.cmdloop()
                    return
                except KeyboardInterrupt:  # at the prompt, or a long replay: as pdb does
                    if not self.interactive:
                        raise
                    self.say("\n--KeyboardInterrupt--")
        finally:
            if delims is not None:
                _completer_delims(delims)

    def parseline(self, line: str) -> tuple[str | None, str | None, str]:
        name, arg, line = super().parseline(line)
        if name in self.ALIASES:
            name = self.ALIASES[name]
            line = f"{name} {arg}".rstrip()
        return name, arg, line

    def onecmd(self, line: str) -> bool:
        try:
            return bool(super().onecmd(line))
        except (ReplayError, ValueError) as exc:
            self.say(f"error: {exc}")
            return False

    def emptyline(self) -> bool:
        """At a terminal an empty line repeats the last command (as in pdb); in a
        script it does nothing."""
        if self.interactive and self.lastcmd:
            return self.onecmd(self.lastcmd)
        return False

    def default(self, line: str) -> None:
        word = line.split()[0] if line.split() else line
        self.say(f"unknown command {word!r}; type 'help'")

    def do_EOF(self, arg: str) -> bool:  # the end of the input (Ctrl-D at a terminal)
        if self.interactive:
            self.say()
        return True

    def do_quit(self, arg: str) -> bool:
        """quit
        Leave the debugger. So does the end of the input (Ctrl-D)."""
        return True

    # --- movement --------------------------------------------------------------------------

    def show_stop(self, stop: Stop) -> None:
        dbg = self.dbg
        if stop.reason == "divergence" and stop.divergence is not None:
            self.say(f"stopped: replay diverged in the activation starting at event "
                     f"{stop.divergence.activation_start}")
            self.say(str(stop.divergence.error))
            self.say(stop.divergence.side_by_side())
            return
        if stop.event is None:
            self.say("at the start (no event yet)")
            return
        if stop.reason == "breakpoint":
            self.say(f"breakpoint {stop.breakpoint}")
        e = stop.event
        index = dbg.activation_index()
        where = f"activation {index + 1}" if index is not None else "after the last activation"
        self.say(f"-> {e.event_id} {type(e).__name__} {summarize(e)}".rstrip()
                 + f"  [{where}]")
        src = dbg.source()
        if src is not None:
            self.say(f"   {src}")
        if stop.reason == "end" and dbg.at_end:
            self.say("end of history")

    def do_step(self, arg: str) -> None:
        """step [N]
        Move one event (N events; a negative N moves back). Entering an activation
        executes it; a negative N moves back as 'back' does."""
        count = _int(arg, 1, "step takes a number of events, e.g. 'step 3' or 'step -1'")
        if count < 0:
            self.show_stop(self.dbg.back(-count))
            return
        stop = self.dbg.step() if count else Stop("step", self.dbg.event)
        for _ in range(count - 1):
            if stop.reason != "step":
                break
            stop = self.dbg.step()
        self.show_stop(stop)

    def do_next(self, arg: str) -> None:
        """next
        Move to the end of the activation holding the next event."""
        self.show_stop(self.dbg.next())

    def do_until(self, arg: str) -> None:
        """until N
        Move to event N, forward or back. Forward it stops early at a breakpoint; back
        it replays from the start to event N."""
        if not arg.isdigit():
            raise ValueError("until needs an event id, e.g. 'until 12'")
        self.show_stop(self.dbg.until(int(arg)))

    def do_continue(self, arg: str) -> None:
        """continue
        Move to the next breakpoint, divergence or the end."""
        self.show_stop(self.dbg.continue_())

    def do_back(self, arg: str) -> None:
        """back [N]
        Move one event (N events) back. Workflow code cannot run backwards: a fresh
        replay runs from the start to that event, without stopping at breakpoints."""
        count = _int(arg, 1, "back takes a number of events, e.g. 'back 3'")
        if count < 0:
            raise ValueError("back takes a positive number of events, e.g. 'back 3'")
        self.show_stop(self.dbg.back(count))

    def do_restart(self, arg: str) -> None:
        """restart
        Go back to before the first event. The workflow starts afresh; breakpoints stay."""
        self.show_stop(self.dbg.restart())

    def do_break(self, arg: str) -> None:
        """break [KIND|EVENT_ID|FILE:LINE]
        Set a breakpoint, or list them. next, until and continue stop at an event kind
        (any case), an event id, or the command events a line of workflow code issues.
        A breakpoint that could never stop is refused: an unknown kind or file, an
        event id outside the history, a line that issues no command (with the
        nearest lines that do)."""
        if not arg:
            for i, bp in enumerate(self.dbg.breakpoints, 1):
                self.say(f"{i}: {bp}")
            if not self.dbg.breakpoints:
                self.say("no breakpoints")
            return
        bp = self.dbg.add_breakpoint(arg)
        self.say(f"breakpoint {len(self.dbg.breakpoints)} at {bp}")
        kind = (bp.kind or "").lower()
        if kind and not any(type(e).__name__.lower() == kind for e in self.dbg.history.events):
            self.say(f"note: this history holds no {bp.kind} event")

    def do_clear(self, arg: str) -> None:
        """clear [NUMBER]
        Remove one breakpoint, or every one. NUMBER is as 'break' lists them."""
        number = _int(arg, None, "clear takes a breakpoint number, e.g. 'clear 2'")
        self.dbg.clear_breakpoints(number)
        self.say("breakpoints cleared" if number is None else f"breakpoint {number} cleared")

    # --- inspection --------------------------------------------------------------------------

    def do_state(self, arg: str) -> None:
        """state
        Show the workflow object's attributes."""
        state = self.dbg.state()
        if not state:
            self.say("(no workflow object yet: step into the first activation)")
        for name, value in state.items():
            self.say(f"{name} = {value!r}")

    def do_query(self, arg: str) -> None:
        """query NAME [JSON...]
        Run a query handler. Each JSON value is one argument."""
        name, _, rest = arg.partition(" ")
        if not name:
            raise ValueError("query needs a name, e.g. 'query count'")
        self.say(to_json(self.dbg.query(name, *_json_values(rest))))

    def do_pending(self, arg: str) -> None:
        """pending
        Show open timers, activities, children and running handlers."""
        pending = self.dbg.pending()
        for key in ("commands", "handlers"):
            items = pending.get(key, [])
            self.say(f"{key}:" + (" none" if not items else ""))
            for item in items:
                self.say(f"  {item}")

    def do_where(self, arg: str) -> None:
        """where
        Show every task's stack of workflow code. Tasks come in creation order, frames
        innermost last; engine and asyncio frames are hidden."""
        self.say(self.dbg.where() or "(no task is waiting)")

    def do_source(self, arg: str) -> None:
        """source
        Show the source line that issued the command at the cursor."""
        src = self.dbg.source()
        event = self.dbg.event
        if src is not None:
            self.say(src)
        elif event is None:
            self.say("at the start: no event yet")
        else:
            self.say(f"event {event.event_id} {type(event).__name__} was not issued by a "
                     "line of workflow code (an input, a task boundary, or an event the "
                     "engine records itself)")

    def do_history(self, arg: str) -> None:
        """history [N]
        Show the events around the cursor. N on each side, default 3."""
        n = int(arg) if arg.isdigit() else 3
        events = self.dbg.events_around(n, n)
        lines = format_history(events).splitlines()
        self.say("   " + lines[0])
        for event, line in zip(events, lines[1:], strict=True):
            mark = "-> " if event.event_id == self.dbg.cursor else "   "
            self.say(mark + line)

    def do_help(self, arg: str) -> None:
        """help [COMMAND]
        List the commands, or show one in full."""
        if arg:
            name = self.ALIASES.get(arg, arg)
            usage, text = self._doc(name)
            if not usage:
                raise ValueError(f"no command {arg!r}; 'help' lists them")
            self.say(f"{self._usage(name, usage)}\n  " + "\n  ".join(text))
            return
        rows = [(self._usage(names[0], self._doc(names[0])[0]), self._doc(names[0])[1])
                for names in self.COMMANDS]
        width = max(len(u) for u, _ in rows) + 2
        self.say("commands (abbreviations in brackets; 'help COMMAND' for one):\n" + "\n".join(
            f"  {u.ljust(width)}{' '.join(text).split('. ')[0].rstrip('.')}"
            for u, text in rows))

    def _doc(self, name: str) -> tuple[str, list[str]]:
        fn: Callable[..., Any] | None = getattr(self, f"do_{name}", None)
        lines = [ln.strip() for ln in (fn.__doc__ or "").strip().splitlines()] if fn else []
        return (lines[0], lines[1:]) if lines else ("", [])

    def _usage(self, name: str, usage: str) -> str:
        aliases = next((names[1:] for names in self.COMMANDS if names[0] == name), ())
        shown = f" [{', '.join(aliases)}]" if aliases else ""
        return usage.replace(name, name + shown, 1)

    # --- completion ------------------------------------------------------------------------

    def completenames(self, text: str, *ignored: Any) -> list[str]:
        # with the space that follows a command name (readline adds none by itself)
        return [name + " " for name in self.complete_help(text, "", 0, 0)]

    def complete_help(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        return sorted(names[0] for names in self.COMMANDS if names[0].startswith(text))

    def complete_until(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        return self._event_ids(text)

    def complete_break(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        if text.isdigit():
            return self._event_ids(text)
        kinds = [k for k in sorted(EVENT_KINDS) if k.lower().startswith(text.lower())]
        return kinds + self._locations(text)

    def complete_clear(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        numbers = (str(i) for i in range(1, len(self.dbg.breakpoints) + 1))
        return [n for n in numbers if n.startswith(text)]

    def complete_query(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        if line[:begidx].split()[1:]:  # past the name: the arguments are JSON
            return []
        return [n for n in self.dbg.query_names() if n.startswith(text)]

    def _event_ids(self, text: str) -> list[str]:
        ids = (str(e.event_id) for e in self.dbg.history.events)
        return [i for i in ids if i.startswith(text)]

    def _locations(self, text: str) -> list[str]:
        """``file:line`` of each line that issues a command; the base name of the file
        unless ``text`` holds a path separator."""
        found = []
        for file, lines in self.dbg.command_lines().lines.items():
            shown = file if os.sep in text else os.path.basename(file)
            found += [f"{shown}:{n}" for n in lines]
        matches = [f for f in found if f.startswith(text)]
        files = {m.rpartition(":")[0] + ":" for m in matches}
        if ":" not in text and len(files) > 1:
            return sorted(files)  # first the file, then its lines
        return matches


def _int(arg: str, default: int | None, usage: str) -> Any:
    if not arg:
        return default
    try:
        return int(arg)
    except ValueError:
        raise ValueError(usage) from None


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _completer_delims(delims: str) -> str | None:
    """Set readline's word delimiters (only blanks: ``file.py:12`` is one word) and
    return the previous ones; None without readline."""
    try:
        import readline
    except ImportError:
        return None
    previous = readline.get_completer_delims()
    readline.set_completer_delims(delims)
    return previous


def _json_values(text: str) -> list[Any]:
    decoder = json.JSONDecoder()
    values: list[Any] = []
    text = text.strip()
    while text:
        try:
            value, end = decoder.raw_decode(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"query arguments must be JSON values: {exc.msg} in "
                             f"{text!r}") from exc
        values.append(value)
        text = text[end:].strip()
    return values


@click.command()
@click.argument("ident", metavar="FILE|ID")
@click.option("--workflows", "-w", "modules", multiple=True, required=True, metavar="MODULE",
              help="Module (or module:attr, or file.py) with the workflow code.")
@click.option("--break", "-b", "breaks", multiple=True, metavar="SPEC",
              help="A breakpoint to set before starting (KIND, EVENT_ID or file:line).")
@data_converter_option
@db_option
def debug(ident: str, modules: tuple[str, ...], breaks: tuple[str, ...],
          data_converter: DataConverter | None, db: str) -> None:
    """Step a history through the workflow code, reading commands from stdin.

    FILE is a history file; ID a run id or workflow id in the database.
    Type 'help' at the prompt for the commands (step, next, until, continue,
    back, restart, break, clear, state, query, pending, where, source,
    history, quit). At a terminal the prompt has line editing, history and
    tab completion. breakpoint() in workflow code drops into pdb during the
    replay.

    \b
    Example:
      replay debug histories/greet-1.json --workflows myapp.workflows -b TimerStarted
    """
    workflows = need_workflows(load_code(modules), "debug")
    with Debugger(load_history(db, ident, data_converter), workflows=workflows,
                  data_converter=data_converter) as dbg:
        for spec in breaks:
            try:
                dbg.add_breakpoint(spec)
            except ValueError as exc:
                raise click.BadParameter(visible(exc, keep_newlines=True),
                                         param_hint="--break") from exc
        Shell(dbg).run()
