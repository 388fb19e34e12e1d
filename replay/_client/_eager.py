"""``start_workflow(request_eager_start=True)``: the first workflow task, run at once.

In the familiar SDK, eager start has the server hand a new run's first workflow
task straight back to a worker in the starting process, saving a poll round trip.
The embedded meaning: when a worker of this process polls the run's task queue on
the caller's event loop, the start call itself has that worker run the run's first
workflow task right after the start commits, instead of the worker learning of it
through the store's change notification on its next pass. When ``start_workflow``
returns, the first activation is committed (its timers, activities and child starts
recorded; activities it schedules are leased and started by that worker). With no
such worker, the request is ignored and the start is a normal one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable


@runtime_checkable
class EagerWorker(Protocol):
    """A worker of this process that can run a new run's first task at once."""

    def run_first_task(self, run_id: str, task_queue: str) -> bool:
        """Run the run's first workflow task now if this worker polls ``task_queue`` on the
        running event loop; False (nothing done) otherwise."""
        ...


def run_eagerly(workers: Iterable[object], run_id: str, task_queue: str) -> bool:
    """Hand the new run to the first local worker that takes it; True if one did."""
    return any(isinstance(w, EagerWorker) and w.run_first_task(run_id, task_queue)
               for w in workers)
