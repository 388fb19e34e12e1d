"""The ``replay`` command: run workers, start and inspect workflows, show, export,
import and check histories, step a replay, lint workflow code.

Every command takes ``--db PATH`` (default ``$REPLAY_DB``, else ``./replay.db``).
Failures print one line on stderr and exit 1; usage errors exit 2.
"""

from __future__ import annotations

import click

from ._common import ReplayGroup
from ._debug import debug
from ._history import COMMANDS as HISTORY_COMMANDS
from ._runs import COMMANDS as RUN_COMMANDS
from ._schedules import COMMANDS as SCHEDULE_COMMANDS
from ._stores import COMMANDS as STORE_COMMANDS
from ._ui import ui


@click.group(cls=ReplayGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="replay-engine", prog_name="replay")
def main() -> None:
    """Durable workflows on an embedded SQLite history.

    \b
    Example session:
      replay worker myapp.workflows --task-queue greetings &
      replay start Greeter --id greet-1 --task-queue greetings --arg '"Ada"'
      replay show greet-1
      replay export greet-1 -o greet-1.json
      replay check --workflows myapp.workflows greet-1.json
    """


for _command in [*RUN_COMMANDS, *HISTORY_COMMANDS, *STORE_COMMANDS, *SCHEDULE_COMMANDS, debug,
                 ui]:
    main.add_command(_command)


@main.command(context_settings={"ignore_unknown_options": False})
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="One line per finding, or a JSON array.")
@click.option("--select", multiple=True, metavar="CODE",
              help="Only codes starting with CODE (repeat, or separate with commas).")
def lint(paths: tuple[str, ...], fmt: str, select: tuple[str, ...]) -> None:
    """Report nondeterministic calls in workflow code, before anything runs.

    Reads the source of the PATHs (files or directories) and reports clock
    reads, randomness, I/O, threads and shared-state writes inside workflow
    code, with file:line and the workflow-safe replacement. Exits 1 when it
    finds something.

    \b
    Example:
      replay lint myapp/workflows.py --select RPL-SB
    """
    from replay.sandbox import lint_main  # imported only when `replay lint` runs

    argv = [*paths, "--format", fmt]
    for code in select:
        argv += ["--select", code]
    click.get_current_context().exit(int(lint_main(argv)))
