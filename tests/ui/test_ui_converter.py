"""The UI with a data converter: over a client made with the codec that wrote the
histories, the run page shows values and the debugger page replays the run; without
it, encoded payloads show as they are stored and no plain text leaks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the UI needs the 'ui' extra")

import httpx

from replay.client import Client
from replay.history import SqliteStore
from replay.worker import Worker
from tests.replay.workflows import sealed
from tests.replay.workflows.sealed import Order, SealedWorkflow

from .conftest import LoopThread, UiServer


async def _record(path: Path) -> str:
    sealed.ATTEMPTS.clear()
    client = await Client.connect(f"sqlite:///{path}", data_converter=sealed.sealed_converter)
    try:
        async with Worker(client, task_queue=sealed.QUEUE, workflows=sealed.WORKFLOWS,
                          activities=sealed.ACTIVITIES):
            handle = await client.start_workflow(
                SealedWorkflow.run, Order(sealed.SECRET, ["pen"]), id="sealed-ui",
                task_queue=sealed.QUEUE)
            await handle.signal(SealedWorkflow.approve, "fine")
            await asyncio.wait_for(handle.result(), 20)
            return (await handle.describe()).run_id
    finally:
        client.close()


def test_pages_decode_with_the_converter_and_show_envelopes_without(
        tmp_path: Path, loop_thread: LoopThread) -> None:
    path = tmp_path / "ui.db"
    run_id = asyncio.run(_record(path))

    with_codec = Client(SqliteStore(path), data_converter=sealed.sealed_converter)
    ui = UiServer(loop_thread, with_codec, list(sealed.WORKFLOWS), None)
    try:
        with httpx.Client(base_url=ui.url) as http:
            page = http.get(f"/runs/{run_id}")
            assert page.status_code == 200 and sealed.SECRET in page.text
            debug = http.get(f"/runs/{run_id}/debug", params={"event": "999"})
            assert debug.status_code == 200
            assert "RPL-CV01" not in debug.text and "RPL-" not in debug.text
    finally:
        ui.stop()
        with_codec.close()

    without = Client(SqliteStore(path))
    ui = UiServer(loop_thread, without, list(sealed.WORKFLOWS), None)
    try:
        with httpx.Client(base_url=ui.url) as http:
            page = http.get(f"/runs/{run_id}")
            assert page.status_code == 200
            assert sealed.SECRET not in page.text
            assert "binary/sealed" in page.text
            debug = http.get(f"/runs/{run_id}/debug", params={"event": "999"})
            assert "RPL-CV01" in debug.text
    finally:
        ui.stop()
        without.close()
