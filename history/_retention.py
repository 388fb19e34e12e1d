"""Retention: removing closed runs past their age, exported first if asked.

Deleting is the one exception to append-only, so it goes through one path per
store: ``prune_run`` (SQLite: a marker row the ``events_no_delete`` trigger
looks for, PostgreSQL: the privileged ``prune_run()`` function), which audits
each run in ``pruned_runs`` and refuses a running run. :func:`prune_closed_runs`
picks the runs, writes each history file (read back and compared before the
run is removed) and prunes them one by one, so an interruption leaves every
run either whole or pruned and audited.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

import attrs

from ._batch import RUNNING
from ._errors import HistoryError
from ._history import History
from ._store import RunInfo, Store

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@runtime_checkable
class PruningStore(Store, Protocol):
    """A store that can remove closed runs through its audited retention path."""

    def prune_run(self, run_id: str, exported_to: str | None = None) -> int:
        """Remove a closed run (RunNotPrunableError if it is running); its event count."""
        ...


@attrs.frozen(kw_only=True)
class PrunedRun:
    """One run removed (or, in a dry run, that would be) by :func:`prune_closed_runs`."""

    run: RunInfo
    event_count: int
    exported_to: str | None = None


def closed_before(store: Store, cutoff: datetime, statuses: Sequence[str] = ()
                  ) -> list[RunInfo]:
    """Closed runs whose close time is before ``cutoff`` (of ``statuses``, if given),
    oldest close first. Running runs are never listed."""
    runs = [r for r in store.list_runs() if r.status != RUNNING and r.close_time is not None
            and r.close_time < cutoff and (not statuses or r.status in statuses)]
    return sorted(runs, key=lambda r: (r.close_time or cutoff, r.run_id))


def export_path(directory: Path, run_id: str) -> Path:
    """Where a run's history file goes in ``directory`` (a safe file name)."""
    return directory / f"{_UNSAFE.sub('_', run_id)}.json"


def prune_closed_runs(
    store: Store, cutoff: datetime, *, statuses: Sequence[str] = (),
    export_to: str | os.PathLike[str] | None = None, dry_run: bool = False,
    progress: Callable[[PrunedRun], None] | None = None,
) -> list[PrunedRun]:
    """Remove the closed runs that ended before ``cutoff`` (only ``statuses``, if given).

    With ``export_to`` each run's history is first saved there in the history
    file format (``<run id>.json``), read back and compared; a file that does
    not match stops everything before that run is removed. ``dry_run`` lists
    what would go and changes nothing. ``progress`` is called after each run.
    TypeError if the store has no retention path.
    """
    if not isinstance(store, PruningStore):
        raise TypeError(f"{type(store).__name__} has no retention path (prune_run)")
    directory = Path(export_to) if export_to is not None else None
    if directory is not None and not dry_run:
        directory.mkdir(parents=True, exist_ok=True)
    done: list[PrunedRun] = []
    for run in closed_before(store, cutoff, statuses):
        target = export_path(directory, run.run_id) if directory is not None else None
        if dry_run:
            pruned = PrunedRun(run=run, event_count=run.last_event_id,
                               exported_to=str(target) if target else None)
        else:
            if target is not None:
                _export(store.history(run.run_id), target)
            count = store.prune_run(run.run_id, str(target) if target else None)
            pruned = PrunedRun(run=run, event_count=count,
                               exported_to=str(target) if target else None)
        done.append(pruned)
        if progress is not None:
            progress(pruned)
    return done


def _export(history: History, path: Path) -> None:
    history.save(path)
    if History.load(path) != history:
        raise HistoryError("the exported file does not read back as the stored history; "
                           "the run was not pruned", source=str(path), rule="io")
