"""``replay ui``: serve the web UI over a store."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util

import click

from replay.converter import DataConverter

from ._common import CliError, data_converter_option, db_option, load_code, open_store
from ._escape import visible


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on; anything but loopback needs --token.")
@click.option("--port", default=8233, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token", envvar="REPLAY_UI_TOKEN", default=None, show_envvar=True,
              help="A secret every request must carry (open the UI once with "
                   "?token=SECRET; it is kept in a cookie).")
@click.option("--workflows", "modules", multiple=True, metavar="MODULE",
              help="Modules with the workflow code, for the debugger page (repeat).")
@data_converter_option
def ui(db: str, host: str, port: int, token: str | None, modules: tuple[str, ...],
       data_converter: DataConverter | None) -> None:
    """Browse runs, histories and timelines, step the debugger, and signal, update,
    cancel or terminate runs, in a local web app.

    \b
    Example:
      replay ui --db app.db --workflows myapp.workflows
      replay ui --db postgresql://app@db/prod --host 0.0.0.0 --token "$SECRET"
    """
    missing = [m for m in ("starlette", "uvicorn", "jinja2") if importlib.util.find_spec(m) is None]
    if missing:
        raise CliError(f"replay ui needs the 'ui' extra ({', '.join(missing)} missing): "
                       "pip install 'replay-engine[ui]'")
    from replay._ui import check_binding, serve

    try:
        check_binding(host, token)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    open_store(db).close()  # a missing SQLite file is an error here, as for other readers
    code = load_code(modules)
    target = db if "://" in db else f"sqlite:///{db}"
    click.echo(f"replay ui on http://{visible(host)}:{port}/ (Ctrl-C stops it)", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(target, host=host, port=port, token=token, workflows=code.workflows,
                          data_converter=data_converter))
