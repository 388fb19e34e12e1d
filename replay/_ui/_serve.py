"""Serving the UI with uvicorn on one host and port."""

from __future__ import annotations

from collections.abc import Sequence

from replay.client import Client
from replay.converter import DataConverter

from ._app import create_app
from ._security import check_binding

__all__ = ["serve"]


async def serve(target: str, *, host: str = "127.0.0.1", port: int = 8233,
                token: str | None = None, workflows: Sequence[type] = (),
                log_level: str = "warning",
                data_converter: DataConverter | None = None) -> None:
    """Serve the UI over the store at ``target`` until cancelled.

    With ``data_converter`` (one with a payload codec) the pages show decoded payloads
    and the debugger replays encoded histories.

    Refuses (:class:`~replay._ui.UiBindingError`) a non-loopback ``host`` without a
    ``token``.
    """
    import uvicorn

    check_binding(host, token)
    client = await Client.connect(target, data_converter=data_converter)
    try:
        app = create_app(client, workflows=workflows, token=token)
        config = uvicorn.Config(app, host=host, port=port, log_level=log_level,
                                access_log=False, lifespan="off")
        await uvicorn.Server(config).serve()
    finally:
        client.close()
