"""WorkflowEnvironment: an in-process store, client and workers for tests, with time skipping.

No server runs: ``env.client`` is a :class:`~replay.client.Client` on a
:class:`~history.MemoryStore` (or a temporary SQLite file), and workers made by
``env.worker(...)`` poll it on the test's event loop.

With time skipping, workflow time is a :class:`ManualClock`. A background task
(the *skipper*) watches the workers; when every worker has made a full polling
pass that found nothing to do (no workflow task ready, no activity running or
available, no timer due) and nothing was committed meanwhile, it moves the
clock to the next timer (or activity retry) and wakes the workers. A workflow
that sleeps for 30 days therefore finishes in milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from replay.history import MemoryStore, PayloadConverter, SqliteStore, Store

from .._client._client import Client
from .._core._clock import ManualClock, SystemClock
from .._core._data_converter import DataConverter
from .._worker._worker import Worker

_POLL = 0.001
"""Seconds between two looks of the skipper at the workers."""

_PROBE_TIMEOUT = 5.0
"""Wall seconds the skipper waits for a probing pass before looking again."""


class WorkflowEnvironment:
    """An in-process test environment: a store, a client bound to it, and a worker factory.

    Create one with :meth:`start_time_skipping` or :meth:`start_local` and use it as
    ``async with await WorkflowEnvironment.start_time_skipping() as env:`` (or call
    :meth:`shutdown`). Workers made by :meth:`worker` use ``env.client``.
    """

    def __init__(self, client: Client, *, time_skipping: bool,
                 tempdir: tempfile.TemporaryDirectory[str] | None = None) -> None:
        self.client = client
        self.supports_time_skipping = time_skipping
        self._tempdir = tempdir
        self._disabled = 0
        self._skipper: asyncio.Task[None] | None = None
        self._closed = False
        self.skips = 0
        """How many times the clock jumped on its own (for tests of the environment)."""
        if time_skipping:
            self._skipper = asyncio.get_running_loop().create_task(
                self._skip_loop(), name="replay-time-skipper")

    # --- construction ---------------------------------------------------------------------

    @classmethod
    async def start_time_skipping(
        cls, *, sqlite: bool = False, path: str | Path | None = None,
        start_time: datetime | None = None,
        payload_converter: PayloadConverter | None = None,
        store: Store | None = None,
        data_converter: DataConverter | None = None,
    ) -> WorkflowEnvironment:
        """An environment whose clock jumps to the next timer whenever all runs wait on one.

        The store is a MemoryStore, or with ``sqlite=True`` a SQLite file in a
        temporary directory removed on shutdown, or the SQLite file at ``path``,
        or ``store`` (any Store, e.g. a PostgresStore; closed on shutdown).
        ``start_time`` (default: now) is where workflow time begins.
        ``data_converter`` (or a bare ``payload_converter``) is the client's, and so
        every worker's made with ``env.client``.
        """
        store, tempdir = (store, None) if store is not None else _open_store(sqlite, path)
        clock = ManualClock(start_time or datetime.now(UTC))
        client = Client(store, data_converter=data_converter, converter=payload_converter,
                        clock=clock)
        return cls(client, time_skipping=True, tempdir=tempdir)

    @classmethod
    async def start_local(
        cls, *, sqlite: bool = False, path: str | Path | None = None,
        payload_converter: PayloadConverter | None = None,
        data_converter: DataConverter | None = None,
    ) -> WorkflowEnvironment:
        """An environment on real (wall-clock) time: timers take as long as they say."""
        store, tempdir = _open_store(sqlite, path)
        client = Client(store, data_converter=data_converter, converter=payload_converter,
                        clock=SystemClock())
        return cls(client, time_skipping=False, tempdir=tempdir)

    async def __aenter__(self) -> WorkflowEnvironment:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    async def shutdown(self) -> None:
        """Stop the skipper and every worker still running on ``client``; close the store."""
        if self._closed:
            return
        self._closed = True
        if self._skipper is not None:
            self._skipper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._skipper
        for worker in self._workers():
            await worker.shutdown()
            await worker.wait_stopped()  # a run() the test started itself ends first
        self.client.close()
        if self._tempdir is not None:
            self._tempdir.cleanup()

    # --- workers and time -------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The store ``client`` is bound to."""
        return self.client.store

    def worker(self, *, task_queue: str, workflows: Sequence[type] = (),
               activities: Sequence[Any] = (), **kwargs: Any) -> Worker:
        """A Worker on ``env.client``; use it as ``async with env.worker(...):``.

        Activities are looked up by name, so a test double declared with
        ``@activity.defn(name="real_name")`` replaces the real activity.
        """
        return Worker(self.client, task_queue=task_queue, workflows=workflows,
                      activities=activities, **kwargs)

    def now(self) -> datetime:
        """Current workflow time (what new events are stamped with)."""
        return self.client.clock.now()

    async def get_current_time(self) -> datetime:
        """The environment's current time, as the familiar SDK names it (the same as
        :meth:`now`; skipped time included)."""
        return self.now()

    async def sleep(self, duration: float | timedelta) -> None:
        """Let ``duration`` pass.

        With time skipping the clock advances by hand, stopping at each timer due
        on the way so that it fires at its own time and the workers run; without
        it this is ``asyncio.sleep``.
        """
        delta = duration if isinstance(duration, timedelta) else timedelta(seconds=duration)
        clock = self.client.clock
        if not isinstance(clock, ManualClock):
            await asyncio.sleep(delta.total_seconds())
            return
        target = clock.now() + delta
        with self.auto_time_skipping_disabled():
            await self._settle()
            while True:
                nxt = self._next_wake()
                if nxt is None or nxt > target:
                    break
                clock.set(nxt)
                self._wake_all()
                await self._settle()
            clock.set(target)
            self._wake_all()
            await self._settle()

    @contextlib.contextmanager
    def auto_time_skipping_disabled(self) -> Iterator[None]:
        """Within this block the clock moves only through :meth:`sleep`."""
        self._disabled += 1
        try:
            yield
        finally:
            self._disabled -= 1

    # --- the skipper ---------------------------------------------------------------------------

    def _workers(self) -> list[Worker]:
        """The workers running on ``client`` (each registers itself while it runs)."""
        return [w for w in self.client.local_workers if isinstance(w, Worker)]

    def _wake_all(self) -> None:
        for worker in self._workers():
            worker.wake()

    def _next_wake(self) -> datetime | None:
        """The earliest time something becomes due: a timer or an activity retry."""
        times = [t for t in (self.store.next_timer_at(),
                             *(w.next_retry_at for w in self._workers())) if t is not None]
        return min(times, default=None)

    async def _quiet_pass(self) -> bool:
        """Make every worker poll once more; True if all found nothing and nothing changed."""
        workers = self._workers()
        if not workers:
            return False
        if any(w.quiet_passes == 0 for w in workers):
            await asyncio.sleep(_POLL)  # busy: look again later
            return False
        marks = {w: w.quiet_passes for w in workers}
        version = self.store.change_token()
        for w in workers:
            w.wake()
        deadline = asyncio.get_running_loop().time() + _PROBE_TIMEOUT
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0)
            if any(w.quiet_passes < marks[w] for w in workers):
                return False  # someone found work (its count of quiet passes restarted)
            if all(w.quiet_passes > marks[w] for w in workers):
                return (set(self._workers()) == set(workers)
                        and version == self.store.change_token())
            await asyncio.sleep(_POLL)
        return False

    async def _settle(self) -> None:
        """Wait (boundedly) until every worker has made a quiet pass."""
        for _ in range(1000):
            if await self._quiet_pass() or not self._workers():
                return

    async def _skip_loop(self) -> None:
        clock = self.client.clock
        assert isinstance(clock, ManualClock)
        seen = self.store.change_token()
        while True:
            await asyncio.sleep(_POLL)
            version = self.store.change_token()
            if version != seen:
                # A worker that started waiting just after a commit would sleep through
                # its wake-up until its poll timeout; nudge it.
                seen = version
                self._wake_all()
                continue
            if self._disabled:
                continue
            nxt = self._next_wake()
            if nxt is None or nxt <= clock.now():
                continue
            if not await self._quiet_pass() or self._disabled:
                continue
            if self._next_wake() != nxt:
                continue
            clock.set(nxt)
            self.skips += 1
            self._wake_all()


def _open_store(sqlite: bool, path: str | Path | None
                ) -> tuple[Store, tempfile.TemporaryDirectory[str] | None]:
    if path is not None:
        return SqliteStore(path), None
    if sqlite:
        tempdir = tempfile.TemporaryDirectory(prefix="replay-test-")
        return SqliteStore(Path(tempdir.name) / "replay.db"), tempdir
    return MemoryStore(), None

