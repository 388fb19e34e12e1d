"""``replay debug``: the replay debugger as a line-oriented shell on standard input."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from replay.history import ReplayError

from .._replay._debugger import Debugger, Stop
from ._common import db_option, load_code, load_history, need_workflows, to_json
from ._escape import echo  # every line the shell prints is escaped
from ._summary import format_history, summarize

HELP = """\
commands (abbreviations in brackets):
  step [s]             move one event; entering an activation executes it
  next [n]             move to the end of the activation holding the next event
  until [u] N          move to event N (stops early at a breakpoint)
  continue [c]         move to the next breakpoint, divergence or the end
  break [b] SPEC       stop at an event KIND, an EVENT_ID or file:line; no SPEC lists them
  clear                remove every breakpoint
  state                the workflow object's attributes
  query NAME [JSON..]  run a query handler (each JSON value is one argument)
  pending              open timers, activities, children and running handlers
  where                the workflow's await stack
  source               the source line that issued the command at the cursor
  history [N]          the events around the cursor (N on each side, default 3)
  help [h, ?]          this text
  quit [q]             leave"""


class Shell:
    """Reads debugger commands and prints what they show."""

    #: (names, method): the first name is the one documented in docs/debugging.md
    COMMANDS: tuple[tuple[tuple[str, ...], str], ...] = (
        (("step", "s"), "do_step"), (("next", "n"), "do_next"),
        (("until", "u"), "do_until"), (("continue", "c", "cont"), "do_continue"),
        (("break", "b"), "do_break"), (("clear",), "do_clear"),
        (("state",), "do_state"), (("query",), "do_query"),
        (("pending",), "do_pending"), (("where", "bt"), "do_where"),
        (("source",), "do_source"), (("history", "l"), "do_history"),
        (("help", "h", "?"), "do_help"),
    )

    def __init__(self, dbg: Debugger) -> None:
        self.dbg = dbg
        self.commands: dict[str, Callable[[str], None]] = {
            name: getattr(self, method) for names, method in self.COMMANDS for name in names}

    def run(self, lines: Any, interactive: bool) -> None:
        h = self.dbg.history
        echo(f"replaying run {h.run_id} of {h.workflow_type} ({len(h)} events, "
                   f"{len(self.dbg.activations)} activations). Type 'help' for commands.")
        while True:
            if interactive:
                echo("(replay) ", nl=False)
            line = lines.readline()
            if not line:
                return
            word, _, rest = line.strip().partition(" ")
            if not word:
                continue
            if word in ("quit", "q", "exit"):
                return
            fn = self.commands.get(word)
            if fn is None:
                echo(f"unknown command {word!r}; type 'help'")
                continue
            try:
                fn(rest.strip())
            except (ReplayError, ValueError) as exc:
                echo(f"error: {exc}")

    # --- movement --------------------------------------------------------------------------

    def show_stop(self, stop: Stop) -> None:
        dbg = self.dbg
        if stop.reason == "divergence" and stop.divergence is not None:
            echo(f"stopped: replay diverged in the activation starting at event "
                       f"{stop.divergence.activation_start}")
            echo(str(stop.divergence.error))
            echo(stop.divergence.side_by_side())
            return
        if stop.event is None:
            echo("at the start (no event yet)")
            return
        if stop.reason == "breakpoint":
            echo(f"breakpoint {stop.breakpoint}")
        e = stop.event
        index = dbg.activation_index()
        where = f"activation {index + 1}" if index is not None else "after the last activation"
        echo(f"-> {e.event_id} {type(e).__name__} {summarize(e)}".rstrip()
                   + f"  [{where}]")
        src = dbg.source()
        if src is not None:
            echo(f"   {src}")
        if stop.reason == "end" and dbg.at_end:
            echo("end of history")

    def do_step(self, arg: str) -> None:
        self.show_stop(self.dbg.step())

    def do_next(self, arg: str) -> None:
        self.show_stop(self.dbg.next())

    def do_until(self, arg: str) -> None:
        if not arg.isdigit():
            raise ValueError("until needs an event id, e.g. 'until 12'")
        self.show_stop(self.dbg.until(int(arg)))

    def do_continue(self, arg: str) -> None:
        self.show_stop(self.dbg.continue_())

    def do_break(self, arg: str) -> None:
        if not arg:
            for i, bp in enumerate(self.dbg.breakpoints, 1):
                echo(f"{i}: {bp}")
            if not self.dbg.breakpoints:
                echo("no breakpoints")
            return
        echo(f"breakpoint {len(self.dbg.breakpoints) + 1} at "
                   f"{self.dbg.add_breakpoint(arg)}")

    def do_clear(self, arg: str) -> None:
        self.dbg.clear_breakpoints()
        echo("breakpoints cleared")

    # --- inspection --------------------------------------------------------------------------

    def do_state(self, arg: str) -> None:
        state = self.dbg.state()
        if not state:
            echo("(no workflow object yet: step into the first activation)")
        for name, value in state.items():
            echo(f"{name} = {value!r}")

    def do_query(self, arg: str) -> None:
        name, _, rest = arg.partition(" ")
        if not name:
            raise ValueError("query needs a name, e.g. 'query count'")
        echo(to_json(self.dbg.query(name, *_json_values(rest))))

    def do_pending(self, arg: str) -> None:
        pending = self.dbg.pending()
        for key in ("commands", "handlers"):
            items = pending.get(key, [])
            echo(f"{key}:" + (" none" if not items else ""))
            for item in items:
                echo(f"  {item}")

    def do_where(self, arg: str) -> None:
        echo(self.dbg.where() or "(no task is waiting)")

    def do_source(self, arg: str) -> None:
        src = self.dbg.source()
        event = self.dbg.event
        if src is not None:
            echo(src)
        elif event is None:
            echo("at the start: no event yet")
        else:
            echo(f"event {event.event_id} {type(event).__name__} was not issued by a "
                       "line of workflow code (an input, a task boundary, or an event the "
                       "engine records itself)")

    def do_history(self, arg: str) -> None:
        n = int(arg) if arg.isdigit() else 3
        events = self.dbg.events_around(n, n)
        lines = format_history(events).splitlines()
        echo("   " + lines[0])
        for event, line in zip(events, lines[1:], strict=True):
            mark = "-> " if event.event_id == self.dbg.cursor else "   "
            echo(mark + line)

    def do_help(self, arg: str) -> None:
        echo(HELP)


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
@db_option
def debug(ident: str, modules: tuple[str, ...], breaks: tuple[str, ...], db: str) -> None:
    """Step a history through the workflow code, reading commands from stdin.

    FILE is a history file; ID a run id or workflow id in the database.
    Type 'help' at the prompt for the commands (step, next, until, continue,
    break, state, query, pending, where, source, history, quit).
    breakpoint() in workflow code drops into pdb during the replay.

    \b
    Example:
      replay debug histories/greet-1.json --workflows myapp.workflows -b TimerStarted
    """
    workflows = need_workflows(load_code(modules), "debug")
    dbg = Debugger(load_history(db, ident), workflows=workflows)
    for spec in breaks:
        try:
            dbg.add_breakpoint(spec)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--break") from exc
    Shell(dbg).run(sys.stdin, interactive=sys.stdin.isatty())

