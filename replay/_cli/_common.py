"""What the ``replay`` commands share: the --db option, loading workflow code, runs,
JSON arguments, tables and turning errors into one line on stderr."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Coroutine, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import attrs
import click

from replay.activity import ActivityDefinition
from replay.converter import DataConverter, PayloadConverter
from replay.history import (
    History,
    HistoryError,
    ReplayError,
    RunInfo,
    SqliteStore,
    Store,
    store_from_url,
)
from replay.workflow import WorkflowDefinition

from ._escape import json_text, visible

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])



class CliError(click.ClickException):
    """A failure reported as one line on stderr, exit status 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {visible(self.format_message())}", err=True)


class ReplayGroup(click.Group):
    """The ``replay`` group: a ReplayError anywhere becomes one line on stderr, exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReplayError as exc:
            raise CliError(_one_line(error_text(exc))) from exc


def error_text(exc: ReplayError) -> str:
    """An error's message, with the rule a HistoryError names (as docs/errors.md lists)."""
    text = str(exc)
    if isinstance(exc, HistoryError) and exc.rule:
        text += f" (rule: {exc.rule})"
    return text


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def db_option(fn: F) -> F:
    """``--db PATH|URL``: the store (default $REPLAY_DB, else ./replay.db)."""
    return click.option(
        "--db", "db", envvar="REPLAY_DB", default="replay.db", show_default=True,
        show_envvar=True, metavar="PATH|URL",
        help="The store holding the runs: a SQLite file (or sqlite:///PATH), or a "
        "postgresql://user@host/db URL (the postgres extra; ?schema=NAME picks the "
        "schema).")(fn)


def open_store(db: str, *, create: bool = False) -> Store:
    """The store at ``db``: a SQLite file (or ``sqlite:///PATH``) or a store URL such as
    ``postgresql://...``.

    A missing SQLite file is an error for a command that only reads (nothing is
    created); a command that creates runs (``create``) creates it and says so on
    stderr, naming the file, so a start in the wrong directory does not pass unseen.
    """
    path = sqlite_path(db)
    if path is None:
        store = store_from_url(db)
        if store is None:
            raise CliError(f"{db!r} names no store: pass a SQLite file, sqlite:///PATH or "
                           "postgresql://user@host/db")
        return store
    existed = os.path.exists(path)
    if not create and not existed:
        raise CliError(f"no database at {db!r}: pass --db PATH or set REPLAY_DB (this "
                       "command only reads, so it creates no store)")
    store = SqliteStore(path)
    if not existed:
        shown = path if os.path.dirname(path) else os.path.join(".", path)
        click.echo(f"created new store {visible(shown)}", err=True)
    return store


def sqlite_path(db: str) -> str | None:
    """The file a ``--db`` value names, if it names a SQLite file (a path or sqlite:///)."""
    if db.startswith("sqlite:///"):
        return db[len("sqlite:///"):]
    return None if "://" in db else db


def data_converter_option(fn: F) -> F:
    """``--data-converter MODULE:ATTR``: the DataConverter (or payload converter) that
    wrote the payloads, e.g. one with a payload codec; passed as ``data_converter``."""
    return click.option(
        "--data-converter", "data_converter", envvar="REPLAY_DATA_CONVERTER",
        metavar="MODULE:ATTR", default=None, show_envvar=True, callback=_load_converter,
        help="The data converter the program uses (a replay.converter.DataConverter, "
        "or a payload converter, named as module:attribute): payloads are encoded and "
        "decoded with it, through its payload codec if it has one.")(fn)


CONVERTER_SPEC = "replay.data_converter_spec"
"""Key of ``click.Context.meta`` holding ``--data-converter``'s MODULE:ATTR as given."""


def _load_converter(ctx: click.Context, param: click.Parameter,
                    spec: str | None) -> DataConverter | None:
    if spec is None:
        return None
    ctx.meta[CONVERTER_SPEC] = spec  # for commands that start more processes
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise click.BadParameter(f"{spec!r} is not module:attribute", param=param)
    obj: Any = import_module(module_name)
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise click.BadParameter(f"module {module_name!r} has no attribute {attr!r}",
                                     param=param)
        obj = getattr(obj, part)
    if isinstance(obj, DataConverter):
        return obj
    if isinstance(obj, PayloadConverter):
        return DataConverter.wrapping(obj)
    raise click.BadParameter(f"{spec} is a {type(obj).__name__}, not a DataConverter or a "
                             "PayloadConverter", param=param)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


# --- workflow code -----------------------------------------------------------------------


@attrs.frozen
class Code:
    """Workflow classes and activity functions found in the named modules."""

    workflows: list[type]
    activities: list[Callable[..., Any]]


def load_code(specs: Iterable[str]) -> Code:
    """Import each ``module``, ``module:attr`` or ``path/to/file.py`` and collect its
    @workflow.defn classes and @activity.defn functions (once each)."""
    workflows: list[type] = []
    activities: list[Callable[..., Any]] = []
    for spec in specs:
        for obj in _objects(spec):
            if WorkflowDefinition.find(obj) is not None:
                if obj not in workflows:
                    workflows.append(obj)
            elif ActivityDefinition.find(obj) is not None and obj not in activities:
                activities.append(obj)
    return Code(workflows, activities)


def _objects(spec: str) -> list[Any]:
    module_name, _, attr = spec.partition(":")
    module = import_module(module_name)
    if not attr:
        return list(vars(module).values())
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise click.BadParameter(f"module {module.__name__!r} has no attribute {attr!r}",
                                     param_hint=repr(spec))
        obj = getattr(obj, part)
    return list(obj) if isinstance(obj, list | tuple) else [obj]


def import_module(name: str) -> Any:
    """Import a dotted module name (found from the current directory too) or a .py file."""
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        if name.endswith(".py") or os.sep in name:
            return _import_file(Path(name))
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            raise click.BadParameter(f"no module named {name!r}", param_hint="MODULE") from exc
        raise CliError(f"cannot import {name!r}: {exc}") from exc
    except (click.ClickException, ReplayError):
        raise
    except Exception as exc:
        raise CliError(f"cannot import {name!r}: {type(exc).__name__}: {exc}") from exc


def _import_file(path: Path) -> Any:
    if not path.is_file():
        raise click.BadParameter(f"no such file {str(path)!r}", param_hint="MODULE")
    path = path.resolve()
    sys.path.insert(0, str(path.parent))
    module_name = path.stem
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise click.BadParameter(f"cannot load {str(path)!r} as Python", param_hint="MODULE")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def need_workflows(code: Code, what: str) -> list[type]:
    if not code.workflows:
        raise click.UsageError(f"{what} needs workflow code: --workflows MODULE names no "
                               "module with a @workflow.defn class")
    return code.workflows


# --- runs and histories ---------------------------------------------------------------------


def resolve_run(store: Store, ident: str) -> RunInfo:
    """The run with this run id, else the newest run of this workflow id."""
    run = store.get_run(ident) or store.latest_run(ident)
    if run is None:
        raise CliError(f"no run or workflow id {ident!r} in this database")
    return run


def load_history(store_db: str, ident: str,
                 data_converter: DataConverter | None = None) -> History:
    """A history from a JSON file (if ``ident`` is an existing path) or from the database,
    with its payloads decoded by ``data_converter``'s codec when it has one."""
    if os.path.isfile(ident) or ident.endswith(".json"):
        hist = History.load(ident)
    else:
        store = open_store(store_db)
        try:
            hist = store.history(resolve_run(store, ident).run_id)
        finally:
            store.close()
    if data_converter is None or data_converter.payload_codec is None:
        return hist
    return run_async(data_converter.decode_history(hist))


def json_args(values: Sequence[str], option: str = "--arg") -> list[Any]:
    """Each value is one JSON argument."""
    out: list[Any] = []
    for value in values:
        try:
            out.append(json.loads(value))
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"{value!r} is not JSON ({exc.msg}); quote strings "
                                     "as '\"text\"'", param_hint=option) from exc
    return out


def to_json(value: Any) -> str:
    """``value`` as one line of JSON for the terminal (control characters escaped)."""
    return json_text(value, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if attrs.has(type(value)):
        return attrs.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def run_data(run: RunInfo) -> dict[str, Any]:
    """A run as JSON-able data (times as ISO 8601), without its failing-task state (which
    ``describe`` and ``list`` show in their own words)."""
    data = attrs.asdict(run, filter=lambda a, _: not a.name.startswith("task_"))
    for key, value in data.items():
        if isinstance(value, datetime):
            data[key] = value.isoformat()
    return data


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; each cell shown with visible()."""
    body = [[visible(c) for c in r] for r in rows]
    widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in body]
    return "\n".join(lines)

