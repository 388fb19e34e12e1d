"""Fixtures for the UI's tests: a SQLite store, a worker and the UI server, each on its
own thread and event loop, all stopped and closed at the end of the test."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest

pytest.importorskip("starlette", reason="the UI needs the 'ui' extra")

import uvicorn

from replay._ui import create_app
from replay.client import Client
from replay.history import ChildWorkflowCompleted
from replay.worker import Worker

from ..replay.workers.harness import wait_until
from .workflows import ACTIVITIES, QUEUE, WORKFLOWS

T = TypeVar("T")


class LoopThread:
    """An event loop on its own thread; ``call`` runs a coroutine there and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def submit(self, coro: Awaitable[T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]

    def call(self, fn: Callable[[], Awaitable[T]], timeout: float = 60.0) -> T:
        return self.submit(fn()).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ui.db'}"


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.stop()


@pytest.fixture
def client(loop_thread: LoopThread, db_url: str) -> Iterator[Client]:
    client = loop_thread.call(lambda: Client.connect(db_url))
    yield client
    client.close()


class RunningWorker:
    def __init__(self, loop_thread: LoopThread, client: Client) -> None:
        self.worker = Worker(client, task_queue=QUEUE, workflows=WORKFLOWS,
                             activities=ACTIVITIES)
        self.loop_thread = loop_thread
        self.task: Future[None] = loop_thread.submit(self.worker.run())

    def stop(self) -> None:
        self.loop_thread.call(self.worker.shutdown)
        self.task.result(60)


@pytest.fixture
def worker(loop_thread: LoopThread, client: Client) -> Iterator[RunningWorker]:
    running = RunningWorker(loop_thread, client)
    yield running
    running.stop()


class UiServer:
    """The UI served by uvicorn on a socket bound before the server starts (so
    connections made at once wait in the backlog instead of failing)."""

    def __init__(self, loop_thread: LoopThread, client: Client, workflows: list[type],
                 token: str | None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(client, workflows=workflows, token=token)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.done = loop_thread.submit(self.server.serve(sockets=[self.sock]))

    def stop(self) -> None:
        self.server.should_exit = True
        self.done.result(60)
        self.sock.close()


@pytest.fixture
def ui_factory(loop_thread: LoopThread, client: Client) -> Iterator[Callable[..., UiServer]]:
    servers: list[UiServer] = []

    def start(workflows: list[type] | None = None, token: str | None = None) -> UiServer:
        server = UiServer(loop_thread, client, WORKFLOWS if workflows is None else workflows,
                          token)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def start_order(loop_thread: LoopThread, client: Client, name: str) -> Any:
    from .workflows import Order

    return loop_thread.call(lambda: client.start_workflow(
        Order.run, name, id=name, task_queue=QUEUE))


async def waiting_for_approval(client: Client, run_id: str) -> None:
    """Wait until the Order run's child has completed (the run then waits for approval):
    signals sent after that land at the same place in its history every time."""
    await wait_until(lambda: any(isinstance(e, ChildWorkflowCompleted)
                                 for e in client.store.read(run_id)))
