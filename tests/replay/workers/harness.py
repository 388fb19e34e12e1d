"""Helpers for the worker/client tests: a client on a SQLite file, bounded waits, checks
of finished histories, log records."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from fixtures.workload import samples
from replay.client import Client
from replay.history import ActivityCompleted, ActivityScheduled, Event, History, Store
from replay.worker import Worker

T = TypeVar("T")
QUEUE = "tests"


OPENED: list[Client] = []
"""Clients :func:`sqlite_client` opened; the ``tests/replay`` conftest closes them after
each test (their store threads and connections do not outlive it)."""


async def sqlite_client(tmp_path: Path, name: str = "replay.db") -> Client:
    client = await Client.connect(f"sqlite:///{tmp_path / name}")
    OPENED.append(client)
    return client


def close_opened() -> None:
    """Close every client :func:`sqlite_client` opened (closing twice is harmless)."""
    while OPENED:
        OPENED.pop().close()


#: The default limit of a wait on a fact: generous, as CI machines are shared and slow;
#: a wait that succeeds returns as soon as its fact holds, so only a bug pays for it.
BOUND = 60.0


async def bounded(aw: Awaitable[T], timeout: float = BOUND) -> T:
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


# pred is Any: a lambda binding a loop variable by a default argument has no inferable type
async def wait_until(pred: Any, timeout: float = BOUND,
                     interval: float = 0.01) -> None:
    """Poll ``pred`` until it is true (a fact to wait on), failing after ``timeout``."""
    async def loop() -> None:
        while not pred():
            await asyncio.sleep(interval)
    await bounded(loop(), timeout)


def check_history(store: Store, run_id: str) -> History:
    """The run's history, checked: valid (History validates on construction), completed
    once, and every activity's result recorded exactly once."""
    history = store.history(run_id)  # validates: ids from 1, no gaps, one terminal...
    events = list(history.events)
    assert [e.event_id for e in events] == list(range(1, len(events) + 1))
    terminal = [k for k in kinds(events) if k in ("WorkflowCompleted", "WorkflowFailed",
                                                    "WorkflowTerminated", "WorkflowCanceled")]
    assert terminal == ["WorkflowCompleted"]
    scheduled = {e.event_id for e in events if isinstance(e, ActivityScheduled)}
    completed = collections.Counter(e.scheduled_event_id for e in events
                                    if isinstance(e, ActivityCompleted))
    assert set(completed) == scheduled
    assert all(n == 1 for n in completed.values()), completed
    return history


class Records(logging.Handler):
    """The log records of a logger (at ``level`` and up) while installed."""

    def __init__(self, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int | None = None) -> list[str]:
        return [r.getMessage() for r in self.records if level is None or r.levelno == level]


@contextlib.contextmanager
def log_records(name: str = "replay", level: int = logging.WARNING) -> Iterator[Records]:
    """Collect logger ``name``'s records at ``level`` and up (any propagation setting)."""
    logger = logging.getLogger(name)
    handler = Records(level)
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(min(level, old) if old else level)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
