"""``replay`` commands about histories: show, export, import, check."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

from replay.converter import DataConverter
from replay.exceptions import NondeterminismError
from replay.history import (
    Append,
    CodecStore,
    History,
    HistoryError,
    ReplayError,
    Start,
    event_to_data,
)
from replay.worker import Replayer

from ._common import (
    CliError,
    data_converter_option,
    db_option,
    error_text,
    load_code,
    load_history,
    need_workflows,
    open_store,
    resolve_run,
    run_async,
    to_json,
)
from ._escape import visible
from ._summary import HEADER, event_row, failing_note, format_history

_WIDTHS = (5, 12, 24)


def _fixed_row(cells: tuple[str, str, str, str]) -> str:
    head = "  ".join(c.ljust(w) for c, w in zip(cells, _WIDTHS, strict=False))
    return f"{head}  {cells[3]}".rstrip()


@click.command()
@click.argument("ident", metavar="ID|FILE")
@click.option("--json", "as_json", is_flag=True,
              help="The history in the JSON file format (with --follow: one JSON "
                   "event per line) instead of a table.")
@click.option("--follow", "-f", is_flag=True,
              help="Keep printing events as they are appended until the run closes.")
@data_converter_option
@db_option
def show(ident: str, as_json: bool, follow: bool, data_converter: DataConverter | None,
         db: str) -> None:
    """Show a run's history (ID: run id or workflow id) or a history FILE.

    \b
    Examples:
      replay show greet-1
      replay show greet-1 --follow
      replay show saved/greet-1.json --json

    Payloads a codec encoded show as <encoded ENCODING, N bytes> (in --json: as
    stored, {"$payload": ...}) unless --data-converter names the converter with
    the codec that wrote them.
    """
    if not follow:
        hist = load_history(db, ident, data_converter)
        click.echo(visible(hist.to_json(), keep_newlines=True) if as_json
                   else format_history(hist.events))
        note = None if as_json else failing_note(hist.events)
        if note is not None:
            click.echo(note)
        return
    if os.path.isfile(ident):
        raise click.UsageError("--follow needs a run in the database, not a file")
    store = open_store(db)
    if data_converter is not None and data_converter.payload_codec is not None:
        store = CodecStore(store, data_converter.payload_codec)
    try:
        run_id = resolve_run(store, ident).run_id
        if not as_json:
            click.echo(_fixed_row(HEADER))

        async def tail() -> None:
            async for event in store.tail(run_id, 0):
                if as_json:
                    click.echo(to_json(event_to_data(event)))
                else:
                    click.echo(_fixed_row(event_row(event)))

        with contextlib.suppress(KeyboardInterrupt):
            run_async(tail())
    finally:
        store.close()


@click.command()
@click.argument("ident", metavar="ID")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="The file to write ('-' for standard output).")
@db_option
def export(ident: str, output: str, db: str) -> None:
    """Write a run's history to a JSON file (the format ``replay import`` and
    ``replay check`` read).

    \b
    Example:
      replay export greet-1 -o histories/greet-1.json
    """
    hist = load_history(db, ident) if not os.path.isfile(ident) else None
    if hist is None:
        raise click.UsageError(f"{ident!r} is a file; export reads runs from the database")
    if output == "-":
        click.echo(visible(hist.to_json(), keep_newlines=True))
        return
    try:
        hist.save(output)
    except OSError as exc:
        raise CliError(f"cannot write {output!r}: {exc.strerror}") from exc
    click.echo(f"wrote {len(hist)} events of run {visible(hist.run_id)} to {visible(output)}",
               err=True)


@click.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False))
@db_option
def import_(file: str, db: str) -> None:
    """Add a history file's run to the database (validated first; nothing is
    written if the file is invalid or the run id exists).

    An imported open run is picked up by a worker like any other.

    \b
    Example:
      replay import histories/greet-1.json --db staging.db
    """
    hist = History.load(file)
    store = open_store(db, create=True)
    try:
        if store.get_run(hist.run_id) is not None:
            raise CliError(f"run {hist.run_id!r} already exists in {db}; nothing was written")
        ops: list[Start | Append] = [Start(hist.run_id, hist.started)]
        if len(hist) > 1:
            ops.append(Append(hist.run_id, list(hist.events[1:]), 1))
        store.commit(ops)
    finally:
        store.close()
    click.echo(f"imported run {visible(hist.run_id)} of workflow {visible(hist.workflow_id)} "
               f"({len(hist)} events) into {visible(db)}")


# --- check ------------------------------------------------------------------------------------

Loader = Callable[[], History]


def _file_sources(paths: tuple[str, ...]) -> list[tuple[str, Loader]]:
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found.extend(sorted(p.rglob("*.json")))
        elif p.exists():
            found.append(p)
        else:
            raise click.BadParameter(f"no such file or directory {raw!r}", param_hint="PATH")
    return [(str(p), functools.partial(History.load, p)) for p in found]


def _check_one(replayer: Replayer, load: Loader) -> tuple[str, str] | None:
    """Load and replay one history: None if it is ok, else (kind of problem, message).

    Whatever goes wrong with one history is reported and the batch goes on.
    """
    try:
        result = replayer.replay_sync(load(), raise_on_replay_failure=False)
    except HistoryError as bad:
        return "invalid", error_text(bad)
    except ReplayError as exc:
        return "failed", error_text(exc)
    except Exception as exc:  # a bug must not end the batch: report it with the others
        return "failed", (f"unexpected {type(exc).__name__}: {exc} (a bug in replay or in "
                          "the workflow code; please report it)")
    failure = result.replay_failure
    if failure is None:
        return None
    kind = "diverged" if isinstance(failure, NondeterminismError) else "failed"
    text = error_text(failure) if isinstance(failure, ReplayError) else repr(failure)
    return kind, text


@click.command()
@click.argument("paths", nargs=-1, metavar="PATH...")
@click.option("--workflows", "-w", "modules", multiple=True, required=True, metavar="MODULE",
              help="Module (or module:attr, or file.py) with the current workflow code.")
@click.option("--from-db", is_flag=True, help="Check the runs in the database instead.")
@click.option("--status", help="With --from-db: only runs with this status.")
@click.option("--type", "workflow_type", metavar="TYPE",
              help="With --from-db: only runs of this workflow type.")
@click.option("--strict-result/--no-strict-result", default=True, show_default=True,
              help="Also compare each closed run's result, failure or continue-as-new "
                   "arguments with the recorded ones (a difference diverges).")
@data_converter_option
@db_option
def check(paths: tuple[str, ...], modules: tuple[str, ...], from_db: bool, status: str | None,
          workflow_type: str | None, strict_result: bool, data_converter: DataConverter | None,
          db: str) -> None:
    """Replay saved histories through the current workflow code.

    PATHs are history files or directories (searched for *.json). Each
    invalid, diverging or failing history is reported in full and the others
    are still checked; exits 1 at the end if any was not ok. A closed run must
    also end as recorded: the same result, failure or continue-as-new arguments
    (--no-strict-result compares commands only).

    \b
    Examples:
      replay check --workflows myapp.workflows fixtures/histories/
      replay check --workflows myapp.workflows --from-db --status completed
    """
    replayer = Replayer(workflows=need_workflows(load_code(modules), "check"),
                        strict_result=strict_result, data_converter=data_converter)
    if from_db == bool(paths):
        raise click.UsageError("name history files or directories, or pass --from-db "
                               "(not both)")
    if not from_db and (status or workflow_type):
        raise click.UsageError("--status and --type filter runs of --from-db")
    store = open_store(db) if from_db else None
    try:
        sources: list[tuple[str, Loader]] = _file_sources(paths) if store is None else [
            (f"run {r.run_id} ({r.workflow_id})", functools.partial(store.history, r.run_id))
            for r in store.list_runs(status=status, workflow_type=workflow_type)]
        if not sources:
            raise CliError("no histories to check")
        problems: list[tuple[str, str, str]] = []
        with click.progressbar(sources, label="replaying", file=sys.stderr,
                               item_show_func=lambda s: visible(s[0]) if s else None) as bar:
            for name, load in bar:
                problem = _check_one(replayer, load)
                if problem is not None:
                    problems.append((problem[0], name, problem[1]))
    finally:
        if store is not None:
            store.close()
    for kind, name, text in problems:
        click.echo(f"{kind.upper()} {visible(name)}:\n  {visible(text, keep_newlines=True)}\n")
    counts = {k: sum(1 for p in problems if p[0] == k) for k in ("diverged", "failed",
                                                                 "invalid")}
    ok = len(sources) - len(problems)
    noun = "history" if len(sources) == 1 else "histories"
    click.echo(f"checked {len(sources)} {noun}: {ok} ok, {counts['diverged']} diverged, "
               f"{counts['failed']} failed, {counts['invalid']} invalid")
    if problems:
        click.get_current_context().exit(1)


COMMANDS = [show, export, import_, check]
