"""A worker's side of routed queries: answer the queries posted for its task queue.

A query is answered by the code this worker runs: from the live instance in its
sticky cache when it holds the run, else by replaying the run's history here
(closed runs too). Nothing is written to the history; the answer (or why there
is none) goes back through the store's query channel (:class:`~history.QueryChannel`).
"""

from __future__ import annotations

import logging

import attrs

from replay.history import Failure, PayloadConverter, QueryChannel, QueryRequest, Store

from .._core._interceptors import WorkflowInterceptors
from .._replay._queries import QueryEngine
from .._replay._replayer import WorkflowRegistry
from ._cache import StickyCache
from ._store_io import StoreIO

log = logging.getLogger("replay.worker")


class QueryAnswerer:
    """Answers the queries of one worker's task queue (when its store routes queries)."""

    def __init__(self, store: Store, task_queue: str, identity: str,
                 registry: WorkflowRegistry, cache: StickyCache,
                 converter: PayloadConverter,
                 interceptors: WorkflowInterceptors | None = None) -> None:
        self._channel = store if isinstance(store, QueryChannel) else None
        self._task_queue = task_queue
        self._identity = identity
        self._registry = registry
        self._cache = cache
        # runs this worker does not hold are replayed into instances of their own, so a
        # query never disturbs the sticky cache the worker's activations use
        # (with the worker's workflow interceptors, which see the query's headers)
        self._replayed = QueryEngine(store, converter, capacity=16, interceptors=interceptors)

    async def look(self, call: StoreIO) -> list[QueryRequest]:
        """The queries waiting on the task queue, oldest first (the look marks this
        worker as a query poller of its task queue). The store call goes through
        ``call``, off the event loop."""
        if self._channel is None:
            return []
        return await call(self._channel.pending_queries, self._task_queue, self._identity)

    def answers(self, requests: list[QueryRequest]) -> list[QueryRequest]:
        """The answers to ``requests`` from the instances as they are now (computed on
        the event loop, where the instances live; nothing is sent)."""
        return [self._answer(request) for request in requests]

    async def send(self, call: StoreIO, answers: list[QueryRequest]) -> None:
        """Record ``answers`` in the store's query channel, through ``call``."""
        if self._channel is not None and answers:
            await call(_answer_all, self._channel, answers)

    def retire(self) -> None:
        """This worker stops: clients no longer wait for it to answer."""
        if self._channel is not None:
            self._channel.retire_query_poller(self._identity)

    def _answer(self, request: QueryRequest) -> QueryRequest:
        if request.workflow_type not in self._registry:
            return self._failed(request, "NotFoundError", (
                f"workflow type {request.workflow_type!r} is not registered on worker "
                f"{self._identity} of task queue {request.task_queue!r}"))
        definition = self._registry.get(request.workflow_type)
        try:
            inst = self._cache.get(request.run_id)
            if inst is None or inst.definition is not definition:
                inst = self._replayed.instance(request.run_id, definition)
            if inst.workflow is None:
                return self._failed(request, "QueryUnavailableError", (
                    f"cannot query {request.name!r}: run {request.run_id!r} has no workflow "
                    "state yet; no activation has run"))
            result = inst.query(request.name, request.args, request.headers)
        except Exception as exc:  # the handler's own error, an unknown query, a divergence
            log.debug("query %r of run %s failed on worker %s: %s", request.name,
                      request.run_id, self._identity, exc)
            return self._failed(request, type(exc).__name__, str(exc))
        return attrs.evolve(request, status="answered", result=result,
                            answered_by=self._identity)

    def _failed(self, request: QueryRequest, kind: str, message: str) -> QueryRequest:
        return attrs.evolve(request, status="failed", answered_by=self._identity,
                            failure=Failure(message=message, type=kind))


def _answer_all(channel: QueryChannel, answers: list[QueryRequest]) -> None:
    for answer in answers:
        channel.answer_query(answer)
