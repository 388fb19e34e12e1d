"""Where a query is answered: by a worker of the run's task queue, else by local replay.

A query must be answered by the code the run runs on. When the store routes
queries (:class:`~history.QueryChannel`) and a worker polls the run's task
queue, the query is posted through the store and the client waits, on the
store's change notifications, for that worker's answer. Only when no worker
polls the queue or none answers within the timeout, and this process has the
workflow's code, is the query answered by replaying the history here; the
source of each answer is logged (``replay.client``, INFO for a local replay)
and kept on the handle as ``last_query_source``. With a store that does not
route queries, local replay answers, as before. ``MemoryStore``, ``SqliteStore``
and ``PostgresStore`` all route them.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from replay.history import JsonValue, QueryChannel, QueryRequest, RunInfo, Store

from .._core._clock import Clock
from .._core._definition import WorkflowDefinition
from .._replay._queries import QueryEngine, QueryUnavailableError
from ._checks import MessageChecks
from ._errors import WorkflowQueryFailedError
from ._store_calls import StoreCalls

log = logging.getLogger("replay.client")


class QueryClient(Protocol):
    """What answering a query needs from the client (a handle's client is one)."""

    @property
    def store(self) -> Store: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def checks(self) -> MessageChecks: ...
    @property
    def queries(self) -> QueryEngine: ...
    @property
    def store_calls(self) -> StoreCalls: ...

WORKER_ANSWER_TIMEOUT = timedelta(seconds=5)
"""How long a client waits for a worker's answer (``rpc_timeout`` overrides it)."""

LOCAL_REPLAY = "local replay"
"""``last_query_source`` of an answer computed in the client's process."""


class _Source:
    """Who answered the query asked within one :func:`answer_source` block."""

    def __init__(self) -> None:
        self.value: str | None = None

    def get(self) -> str | None:
        return self.value


_SOURCE: contextvars.ContextVar[_Source | None] = contextvars.ContextVar(
    "replay_query_source", default=None)


@contextlib.contextmanager
def answer_source() -> Iterator[_Source]:
    """A block around a query (and the client interceptors it passes through) that
    learns who answered it: the handle's ``last_query_source``."""
    source = _Source()
    token = _SOURCE.set(source)
    try:
        yield source
    finally:
        _SOURCE.reset(token)


def _answered_by(source: str) -> None:
    found = _SOURCE.get()
    if found is not None:
        found.value = source


async def answer_query(client: QueryClient, run: RunInfo, name: str, args: list[JsonValue],
                       hint: WorkflowDefinition | None, timeout: timedelta | None,
                       headers: Mapping[str, JsonValue] | None = None) -> Any:
    """The query's answer payload, from a worker or else by local replay; who gave it
    (``worker <identity>`` or ``local replay``) goes to the :func:`answer_source` block.

    Raises WorkflowQueryFailedError when the worker's handler failed, and
    QueryUnavailableError (naming the task queue) when no worker answered and
    this process lacks the workflow's code. ``headers`` reach the workflow's inbound
    interceptors (``HandleQueryInput.headers``) on either path.
    """
    wait = (timeout or WORKER_ANSWER_TIMEOUT).total_seconds()
    sent = dict(headers or {})
    answer, why = await _ask_worker(client, run, name, args, sent, wait)
    if answer is not None:
        source = f"worker {answer.answered_by}"
        log.debug("query %r of run %s answered by %s", name, run.run_id, source)
        _answered_by(source)
        if answer.failure is not None:
            raise WorkflowQueryFailedError(answer.failure.message)
        return answer.result
    definition = client.checks.definition_for(run.workflow_type, hint)
    if definition is None:
        raise QueryUnavailableError(
            name, run.workflow_type, [],
            f"{why}, and workflow type {run.workflow_type!r} is not known in this process "
            "to answer by local replay (not declared here, or declared by more than one "
            "class). Start a worker for that task queue, or pass the query as a method "
            "reference (handle.query(MyWorkflow.my_query))")
    log.info("query %r of run %s answered by local replay: %s", name, run.run_id, why)
    value = await client.queries.query(run.run_id, run.workflow_type, definition, name, args,
                                       headers=sent)
    _answered_by(LOCAL_REPLAY)
    return value


async def _ask_worker(client: QueryClient, run: RunInfo, name: str, args: list[JsonValue],
                      headers: dict[str, JsonValue], wait: float
                      ) -> tuple[QueryRequest | None, str]:
    """A worker's answer (or failure), or None and why there is none: no worker polls
    the run's task queue, or none answered within ``wait`` seconds. The request is
    forgotten either way (and expires with the wait, should this process die)."""
    store, calls = client.store, client.store_calls
    queue = run.task_queue
    if not isinstance(store, QueryChannel):
        return None, f"the store does not route queries to the workers of {queue!r}"
    if not await calls(store.query_pollers, queue, max(wait, 2.0)):
        return None, f"no worker of task queue {queue!r} is running"
    request = QueryRequest(query_id=str(uuid.uuid4()), run_id=run.run_id,
                           workflow_type=run.workflow_type, task_queue=queue,
                           name=name, args=args, requested_at=client.clock.now(),
                           headers=headers,
                           expires_at=datetime.now(UTC) + timedelta(seconds=wait))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    await calls(store.request_query, request)
    try:
        while True:
            token = store.change_token()
            found = await calls(store.get_query, request.query_id)
            if found is not None and found.status != "requested":
                return found, ""
            left = deadline - loop.time()
            if left <= 0:
                return None, f"no worker of task queue {queue!r} answered within {wait:g}s"
            await store.wait_changed(left, since=token, run_id=run.run_id)
    finally:
        await asyncio.shield(calls(store.forget_query, request.query_id))
