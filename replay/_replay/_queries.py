"""Client-side queries: replay the run's history into a cached instance and ask it.

A query sees the state as of the run's last completed activation, the same
state a worker's cached instance holds, and works on closed runs too. Each
run's instance is kept and moved forward by the activations recorded since
the last query, so a query costs the new events only.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, Protocol, TypeVar

from replay.history import Event, PayloadConverter, ReplayError, Store, WorkflowStarted

from .._core._definition import WorkflowDefinition
from .._core._exceptions import UnknownQueryError
from .._core._instance import WorkflowInstance
from .._core._interceptors import WorkflowInterceptors
from ._replayer import replay_events
from ._sandbox_hooks import guard_for

P = ParamSpec("P")
T = TypeVar("T")


class StoreCaller(Protocol):
    """Runs one store call, perhaps in a thread (a client's ``store_calls``)."""

    async def __call__(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        ...


async def _inline(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    return fn(*args, **kwargs)


class QueryUnavailableError(UnknownQueryError):
    """No handler of the query can run in this process: the workflow's code is not
    known here, or the run has no workflow object yet (no activation has run).

    ``reason`` says which; ``known`` lists the queries known here (empty when the
    code is not). A client reports it as WorkflowQueryFailedError.
    """

    code = "RPL-Q03"

    def __init__(self, name: str, workflow_type: str, known: list[str], reason: str) -> None:
        # the message is this error's own, not UnknownQueryError's "has no query"
        ReplayError.__init__(self, f"cannot query {name!r}: {reason}")
        self.name = name
        self.workflow_type = workflow_type
        self.known = list(known)
        self.reason = reason


class QueryEngine:
    """Answers queries by replay, with a small LRU of instances."""

    def __init__(self, store: Store, converter: PayloadConverter, capacity: int = 256, *,
                 store_calls: StoreCaller | None = None,
                 interceptors: WorkflowInterceptors | None = None) -> None:
        self.store = store
        self._interceptors = interceptors  # a worker's workflow interceptors, if any
        self._call: StoreCaller = store_calls or _inline
        self.converter = converter
        self.capacity = capacity
        self._lock = threading.Lock()
        self._cache: collections.OrderedDict[str, WorkflowInstance] = collections.OrderedDict()
        self._guard = guard_for("strict")
        self._prepared: set[type] = set()

    def instance(self, run_id: str, definition: WorkflowDefinition) -> WorkflowInstance:
        """The run's instance, caught up with its recorded activations."""
        inst = self._take(run_id, definition)
        after = inst.last_event_id if inst is not None else 0
        return self._advance(run_id, definition, inst,
                             self.store.read(run_id, after_event_id=after))

    async def _caught_up(self, run_id: str, definition: WorkflowDefinition
                         ) -> WorkflowInstance:
        """:meth:`instance`, reading the store through ``store_calls``."""
        inst = self._take(run_id, definition)
        after = inst.last_event_id if inst is not None else 0
        events = await self._call(self.store.read, run_id, after_event_id=after)
        return self._advance(run_id, definition, inst, events)

    def _take(self, run_id: str, definition: WorkflowDefinition) -> WorkflowInstance | None:
        with self._lock:
            inst = self._cache.pop(run_id, None)
        return inst if inst is not None and inst.definition is definition else None

    def _advance(self, run_id: str, definition: WorkflowDefinition,
                 inst: WorkflowInstance | None, events: list[Event]) -> WorkflowInstance:
        with self._lock:
            if inst is None:
                started = events[0]
                assert isinstance(started, WorkflowStarted)
                if definition.cls not in self._prepared:
                    self._guard.prepare([definition.cls])
                    self._prepared.add(definition.cls)
                inst = WorkflowInstance(definition, run_id=run_id, started=started,
                                        converter=self.converter, guard=self._guard,
                                        interceptors=self._interceptors)
            replay_events(inst, events)
            self._cache[run_id] = inst
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
            return inst

    async def settled(self, run_id: str, definition: WorkflowDefinition,
                      timeout: float) -> WorkflowInstance:
        """The run's instance once the inputs recorded so far have been activated.

        A query sent after a signal sees that signal handled, as long as a worker
        handles it within ``timeout``; after that, the newest handled state answers.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            token = self.store.change_token()
            inst = await self._caught_up(run_id, definition)
            run = await self._call(self.store.get_run, run_id)
            behind = run is not None and run.status == "running" and \
                inst.last_event_id < run.last_event_id
            left = deadline - loop.time()
            if not behind or left <= 0:
                return inst
            await self.store.wait_changed(min(left, 1.0), since=token, run_id=run_id)

    async def query(self, run_id: str, workflow_type: str,
                    definition: WorkflowDefinition | None, name: str, args: list[Any],
                    timeout: float = 2.0, *, headers: Mapping[str, Any] | None = None) -> Any:
        """Answer query ``name`` by replay (payload in, payload out).

        QueryUnavailableError when this process does not know the workflow's code or
        the run has no workflow object yet; otherwise as ``WorkflowInstance.query``.
        """
        if definition is None:
            raise QueryUnavailableError(
                name, workflow_type, [],
                f"workflow type {workflow_type!r} is not known here "
                "(not declared in this process, or declared by more than one class). Pass the "
                "query as a method reference (handle.query(MyWorkflow.my_query)) or run a "
                "Worker for it in this process.")
        inst = await self.settled(run_id, definition, timeout)
        if inst.workflow is None and name in inst.definition.queries:
            raise QueryUnavailableError(
                name, workflow_type, sorted(n for n in inst.definition.queries if n),
                f"run {run_id!r} has no workflow state yet; no "
                "activation has run (it waits for a worker, or ended before its first one)")
        with self._lock:
            return inst.query(name, args, headers)
