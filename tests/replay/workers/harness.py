"""Helpers for the worker/client tests: a client on a SQLite file, bounded waits."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from replay.client import Client
from replay.history import Event, Store
from replay.worker import Worker

from . import samples

T = TypeVar("T")
QUEUE = "tests"


async def sqlite_client(tmp_path: Path, name: str = "replay.db") -> Client:
    return await Client.connect(f"sqlite:///{tmp_path / name}")


async def bounded(aw: Awaitable[T], timeout: float = 10.0) -> T:
    """Await with a limit, so a bug fails the test instead of hanging it."""
    return await asyncio.wait_for(aw, timeout)


@contextlib.asynccontextmanager
async def running(client: Client, *, activities: Sequence[Any] | None = None,
                  workflows: Sequence[type] | None = None, **kw: Any
                  ) -> AsyncIterator[Worker]:
    kw.setdefault("workflow_task_lease", timedelta(seconds=0.5))
    async with Worker(client, task_queue=kw.pop("task_queue", QUEUE),
                      workflows=samples.ALL_WORKFLOWS if workflows is None else workflows,
                      activities=samples.ALL_ACTIVITIES if activities is None else activities,
                      **kw) as worker:
        yield worker


def kinds(events: Sequence[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def count(store: Store, run_id: str, kind: str) -> int:
    return sum(1 for e in store.read(run_id) if type(e).__name__ == kind)


async def wait_until(pred: Any, timeout: float = 10.0, interval: float = 0.01) -> None:
    async def loop() -> None:
        while not pred():
            await asyncio.sleep(interval)
    await bounded(loop(), timeout)
