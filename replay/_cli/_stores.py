"""``replay`` commands about whole stores: migrate (copy between stores), prune (retention)."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import click

from replay.history import (
    CopiedRun,
    PrunedRun,
    Store,
    copy_store,
    prune_closed_runs,
)

from ._common import CliError, db_option, open_store
from ._escape import visible

_AGO = re.compile(r"(\d+)([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
_STATUSES = ("completed", "failed", "canceled", "terminated", "continued_as_new", "timed_out")


def _open_source(url: str) -> Store:
    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else url
    if "://" not in path and not os.path.exists(path):
        raise CliError(f"no store at {url!r}: --from must name an existing store")
    return open_store(url)


def _name(store: Store) -> str:
    return visible(repr(store))


@click.command()
@click.option("--from", "source_url", required=True, metavar="PATH|URL",
              help="The store to copy from: a SQLite file, sqlite:///PATH or "
                   "postgresql://user@host/db (?schema=NAME).")
@click.option("--to", "target_url", required=True, metavar="PATH|URL",
              help="The store to copy into (created if missing); it must hold none of "
                   "the runs.")
def migrate(source_url: str, target_url: str) -> None:
    """Copy every run from one store into another (SQLite <-> PostgreSQL).

    All runs, open and closed, are copied in start order, each as one append of
    its whole history, so the target derives its own runs index, tasks, timers
    and pending activities; each copy is read back and compared. A target that
    already holds any of the runs is refused before anything is written.
    Progress goes to stderr, the summary to stdout. Stop the workers on the
    source first: runs that change during the copy are copied as they were.
    To also replay every copy through your code, run
    `replay check --workflows MODULE --from-db --db TARGET` afterwards.

    \b
    Examples:
      replay migrate --from sqlite:///app.db --to postgresql://app@db/prod
      replay migrate --from 'postgresql://app@db/prod?schema=replay' --to back.db
    """
    source = _open_source(source_url)
    try:
        target = open_store(target_url, create=True)
        try:
            copied = copy_store(source, target, progress=_copied)
        finally:
            target.close()
    finally:
        source.close()
    events = sum(c.event_count for c in copied)
    open_runs = sum(1 for c in copied if c.run.status == "running")
    click.echo(f"copied {len(copied)} runs ({open_runs} open, {events} events) from "
               f"{_name(source)} to {_name(target)}; every copy verified")


def _copied(done: CopiedRun) -> None:
    run = done.run
    click.echo(f"copied {visible(run.run_id)} ({visible(run.workflow_type)} "
               f"{visible(run.workflow_id)}, {run.status}, {done.event_count} events)",
               err=True)


def parse_cutoff(text: str, now: datetime | None = None) -> datetime:
    """``2026-01-31``, ``2026-01-31T12:00`` (UTC unless it names an offset) or an age
    such as ``30d``, ``12h``, ``90m`` (that long before ``now``)."""
    ago = _AGO.fullmatch(text.strip())
    if ago:
        span = timedelta(**{_UNITS[ago.group(2)]: int(ago.group(1))})
        return (now or datetime.now(UTC)) - span
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date: use 2026-01-31, 2026-01-31T12:00 or an age like 30d"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@click.command()
@click.option("--closed-before", "closed_before", required=True, metavar="DATE|AGE",
              help="Prune runs that closed before this: a date, a date and time (UTC "
                   "unless an offset is given) or an age such as 30d, 12h.")
@click.option("--status", "statuses", multiple=True, type=click.Choice(_STATUSES),
              help="Only runs that ended this way (repeat for several). Default: every "
                   "closed status.")
@click.option("--export-to", "export_to", metavar="DIR",
              help="First save each run's history in DIR as <run id>.json (the history "
                   "file format), read back and compared before the run is removed.")
@click.option("--dry-run", is_flag=True, help="List what would be pruned; change nothing.")
@db_option
def prune(closed_before: str, statuses: tuple[str, ...], export_to: str | None,
          dry_run: bool, db: str) -> None:
    """Remove closed runs past their retention (running runs are never touched).

    Each run's events and index rows go through the store's one audited path
    for deleting (a row in pruned_runs per run); every other DELETE or UPDATE
    of events stays refused. Progress goes to stderr, the summary to stdout.

    \b
    Examples:
      replay prune --closed-before 30d --export-to archive/ --dry-run
      replay prune --closed-before 2026-01-01 --status completed --status canceled
    """
    cutoff = parse_cutoff(closed_before)
    store = open_store(db)
    try:
        pruned = prune_closed_runs(store, cutoff, statuses=statuses, export_to=export_to,
                                   dry_run=dry_run,
                                   progress=lambda p: _pruned(p, dry_run))
    finally:
        store.close()
    events = sum(p.event_count for p in pruned)
    verb = "would prune" if dry_run else "pruned"
    where = f"; exported to {visible(export_to)}" if export_to and not dry_run else ""
    click.echo(f"{verb} {len(pruned)} runs ({events} events) closed before "
               f"{cutoff.isoformat()}{where}")


def _pruned(done: PrunedRun, dry_run: bool) -> None:
    run = done.run
    verb = "would prune" if dry_run else "pruned"
    closed = run.close_time.isoformat() if run.close_time else "?"
    click.echo(f"{verb} {visible(run.run_id)} ({visible(run.workflow_id)}, {run.status}, "
               f"closed {closed}, {done.event_count} events)", err=True)


COMMANDS = [migrate, prune]
