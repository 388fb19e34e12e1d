"""Workers in this process that a client may ask about workflow code and failing tasks.

The client knows nothing of how a worker works: a worker registers itself
while it runs, as a :class:`LocalWorker`, and the client only asks it the two
questions below.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from .._core._definition import WorkflowDefinition


class LocalWorker(Protocol):
    """What a worker running in this process answers to a client it registered with."""

    def workflow_definition(self, workflow_type: str) -> WorkflowDefinition | None:
        """The code the worker runs for ``workflow_type``, if it registered that type."""
        ...

    def task_failure(self, run_id: str) -> str | None:
        """Why the run's last workflow task failed on this worker, if it did."""
        ...


class LocalWorkers:
    """The workers registered with one client, in registration order.

    A worker registers when it starts running and unregisters when it stops;
    ``Client`` uses them to check messages against the code a worker runs and
    to report a run's last task failure in ``describe()``.
    """

    def __init__(self) -> None:
        self._workers: dict[LocalWorker, None] = {}

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
