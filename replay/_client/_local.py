"""Workers in this process that a client may ask about workflow code and failing tasks.

The client knows nothing of how a worker works: a worker registers itself
while it runs, as a :class:`LocalWorker`, and the client only asks it the
questions below.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any, Protocol

from .._core._definition import WorkflowDefinition


class LocalWorker(Protocol):
    """What a worker running in this process answers to a client it registered with."""

    def workflow_definition(self, workflow_type: str) -> WorkflowDefinition | None:
        """The code the worker runs for ``workflow_type``, if it registered that type."""
        ...

    def task_failure(self, run_id: str) -> str | None:
        """Why the run's last workflow task failed on this worker, if it did."""
        ...

    def commit_in_flight(self, run_id: str) -> concurrent.futures.Future[Any] | None:
        """The worker's commit being written that appends to the run, if there is one
        (it is done once written, whatever its outcome)."""
        ...


class LocalWorkers:
    """The workers registered with one client, in registration order.

    A worker registers when it starts running and unregisters when it stops;
    ``Client`` uses them to check messages against the code a worker runs and
    to report a run's last task failure in ``describe()``.
    """

    def __init__(self) -> None:
        self._workers: dict[LocalWorker, None] = {}
        self._sending: dict[str, int] = {}  # run id -> messages being written to it

    def register(self, worker: LocalWorker) -> None:
        """Add ``worker`` (registering twice is the same as once)."""
        self._workers[worker] = None

    def unregister(self, worker: LocalWorker) -> None:
        """Remove ``worker``, if registered."""
        self._workers.pop(worker, None)

    def __iter__(self) -> Iterator[LocalWorker]:
        return iter(list(self._workers))

    def __contains__(self, worker: object) -> bool:
        return worker in self._workers

    def __len__(self) -> int:
        return len(self._workers)

    def workflow_definition(self, workflow_type: str) -> WorkflowDefinition | None:
        """The code the first worker that registered ``workflow_type`` runs for it."""
        for worker in self._workers:
            found = worker.workflow_definition(workflow_type)
            if found is not None:
                return found
        return None

    def task_failure(self, run_id: str) -> str | None:
        """Why the run's last workflow task failed on a worker of this process, if it did."""
        for worker in self._workers:
            failure = worker.task_failure(run_id)
            if failure is not None:
                return failure
        return None

    @contextlib.asynccontextmanager
    async def sending(self, run_id: str) -> AsyncIterator[None]:
        """Around a client's commit that appends a message (a signal, a cancellation
        request) to the run: first waits until no worker of this process is writing a
        commit that appends to the run, then, until the block ends, tells the workers
        the run is being sent to (:meth:`is_sending`), so they activate it after.

        Written while the worker's activation of the run is in flight, the message would
        make that activation conflict and the run be built again from its history
        (everything its workflow code did in that activation done twice, interceptors
        included). This keeps the order the two would have on one event loop.
        """
        for worker in list(self._workers):
            fut = worker.commit_in_flight(run_id)
            if fut is not None and not fut.done():
                await asyncio.wait([asyncio.wrap_future(fut)])
        self._sending[run_id] = self._sending.get(run_id, 0) + 1
        try:
            yield
        finally:
            left = self._sending[run_id] - 1
            if left:
                self._sending[run_id] = left
            else:
                del self._sending[run_id]

    def is_sending(self, run_id: str) -> bool:
        """True while a client of this process writes a message to the run."""
        return run_id in self._sending
