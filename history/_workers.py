"""Worker heartbeats: how workers on other hosts tell that a worker is dead.

A worker on the same machine is known dead when its process is gone (the
identity names the host and PID). Across hosts that is unknowable, so a store
shared by hosts (:class:`~history.PostgresStore`) also keeps a table of
workers and their last heartbeat, timed by the database server's clock: a
worker whose heartbeat is older than the grace it declared is dead, and any
live worker frees its leases.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class WorkerHeartbeats(Protocol):
    """A store that keeps worker heartbeats (optional beside :class:`~history.Store`)."""

    def beat_worker(self, identity: str, grace: timedelta) -> None:
        """Record that ``identity`` is alive now; it is dead once ``grace`` passes without
        another beat."""
        ...

    def retire_worker(self, identity: str) -> None:
        """Forget ``identity`` (it shut down, or its leases were freed as dead)."""
        ...

    def dead_workers(self) -> set[str]:
        """Identities whose last beat is older than their grace."""
        ...


WorkerHeartbeats.__module__ = "replay.history"
