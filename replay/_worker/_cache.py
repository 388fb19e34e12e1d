"""The sticky cache: the live workflow instances a worker holds, least recently used first."""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator

from .._core._instance import WorkflowInstance


class StickyCache:
    """Live instances by run id; past ``capacity`` the least recently used is evicted.

    A cached run costs one activation per new input; a run that is not here is
    rebuilt by replaying its history. Iterating yields run ids, least recently
    used first.

    An instance that leaves the cache (taken, dropped or evicted) may come back
    within the worker's pass (an activation's commit puts it back); those that
    have not by the pass's end are discarded by :meth:`discard_departed`, so their
    tasks are finished now rather than by the garbage collector.
    """

    def __init__(self, capacity: int, on_evict: Callable[[int], None] | None = None) -> None:
        self.capacity = capacity
        self.on_evict = on_evict
        """Told how many instances each ``remember`` evicted (when it evicted any)."""
        self._runs: collections.OrderedDict[str, WorkflowInstance] = collections.OrderedDict()
        self._departed: list[WorkflowInstance] = []

    def get(self, run_id: str) -> WorkflowInstance | None:
        """The run's instance, if held (its place in the eviction order is kept)."""
        return self._runs.get(run_id)

    def take(self, run_id: str) -> WorkflowInstance | None:
        """Remove the run's instance and return it, if held; ``remember`` puts it back."""
        return self._depart(self._runs.pop(run_id, None))

    def drop(self, run_id: str) -> None:
        """Forget the run (it is rebuilt from its history when next needed)."""
        self._depart(self._runs.pop(run_id, None))

    def remember(self, inst: WorkflowInstance) -> None:
        """Hold ``inst`` as the most recently used run, evicting past ``capacity``."""
        runs = self._runs
        runs[inst.run_id] = inst
        runs.move_to_end(inst.run_id)
        evicted = 0
        while len(runs) > self.capacity:
            self._depart(runs.popitem(last=False)[1])
            evicted += 1
        if evicted and self.on_evict is not None:
            self.on_evict(evicted)

    def discard_departed(self) -> None:
        """Discard the instances that left the cache and are not held again."""
        if not self._departed:  # the usual pass: cost nothing
            return
        departed, self._departed = self._departed, []
        runs = self._runs
        for inst in departed:
            if runs.get(inst.run_id) is not inst:
                inst.discard()

    def clear(self) -> None:
        """Forget and discard every instance (the worker stops)."""
        self._departed.extend(self._runs.values())
        self._runs.clear()
        self.discard_departed()

    def _depart(self, inst: WorkflowInstance | None) -> WorkflowInstance | None:
        if inst is not None:
            self._departed.append(inst)
        return inst

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._runs

    def __iter__(self) -> Iterator[str]:
        return iter(self._runs)

    def __len__(self) -> int:
        return len(self._runs)
