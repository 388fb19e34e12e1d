"""A store seen through a payload codec: payloads are encoded at rest, decoded in use.

:class:`CodecStore` wraps any store. Every payload going in (events of a commit or
append, heartbeat details, update and query arguments and answers, failures) is
encoded by the codec first; every payload coming out (events, histories, run and
task records, update and query requests) is decoded. Calls that carry no payload
pass straight through, and so does every attribute the wrapper does not define
(store-specific ones such as ``path``), so the wrapper is usable wherever its
store is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from ._errors import ReplayError
from ._events import Event, Failure, JsonValue
from ._history import History
from ._payload_codec import CodecRunner, PayloadCodec, decode_records
from ._store import ActivityTask, Operation, PendingActivity, RunInfo, Store, UpdateRequest

T = TypeVar("T")

_OPTIONAL = {
    # methods only some stores have (the query channel, a task lookup): wrapped when
    # the store has them, so the wrapper answers hasattr() and isinstance() as it does
    "get_activity_task": "decode",
    "request_query": "encode",
    "pending_queries": "decode",
    "answer_query": "encode",
    "get_query": "decode",
    "dump_indexes": "decode_each",  # the test hook: rows as a reader of the store sees them
}


class CodecStore:
    """``inner`` with ``codec`` applied to every payload stored or read (see module doc)."""

    def __init__(self, inner: Store, codec: PayloadCodec) -> None:
        self.inner = inner
        self.codec = codec
        self._runner = CodecRunner(codec)
        # the methods of the inner store's class this one lacks, defined on a subclass
        # made for that class: runtime protocol checks (QueryChannel, WorkerHeartbeats)
        # look at the class, not at __getattr__, from Python 3.12 on
        self.__class__ = _wrapper_class(type(inner))

    def __getattr__(self, name: str) -> Any:
        if name in ("inner", "codec", "_runner"):  # not set yet: never recurse
            raise AttributeError(name)
        return getattr(self.inner, name)  # instance attributes such as a store's path

    def __repr__(self) -> str:
        return f"CodecStore({self.inner!r}, {type(self.codec).__qualname__})"

    # --- events ------------------------------------------------------------------------

    def commit(self, ops: Sequence[Operation]) -> list[Event]:
        return self._runner.decode(self.inner.commit(self._runner.encode(list(ops))))

    def commit_each(self, batches: Sequence[Sequence[Operation]]
                    ) -> list[list[Event] | ReplayError]:
        encoded = [self._runner.encode(list(batch)) for batch in batches]
        return [out if isinstance(out, ReplayError) else self._runner.decode(out)
                for out in self.inner.commit_each(encoded)]

    def append(self, run_id: str, events: Sequence[Event], expected_last_event_id: int) -> None:
        self.inner.append(run_id, self._runner.encode(list(events)), expected_last_event_id)

    def read(self, run_id: str, after_event_id: int = 0) -> list[Event]:
        return self._runner.decode(self.inner.read(run_id, after_event_id))

    def history(self, run_id: str) -> History:
        hist = self.inner.history(run_id)
        return History(hist.run_id, self._runner.decode(list(hist.events)))

    async def tail(self, run_id: str, after_event_id: int = 0) -> AsyncIterator[Event]:
        async for event in self.inner.tail(run_id, after_event_id):
            (decoded,) = await decode_records(self.codec, [event])
            yield decoded

    # --- runs index ----------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunInfo | None:
        return self._one(self.inner.get_run(run_id))

    def latest_run(self, workflow_id: str) -> RunInfo | None:
        return self._one(self.inner.latest_run(workflow_id))

    def list_runs(self, **filters: Any) -> list[RunInfo]:
        return self._runner.decode(self.inner.list_runs(**filters))

    def expired_runs(self, now: datetime, limit: int = 100) -> list[RunInfo]:
        return self._runner.decode(self.inner.expired_runs(now, limit))

    # --- activity tasks ----------------------------------------------------------------

    def lease_activity_task(self, *args: Any, **kwargs: Any) -> ActivityTask | None:
        return self._one(self.inner.lease_activity_task(*args, **kwargs))

    def lease_activity_tasks(self, *args: Any, **kwargs: Any) -> list[ActivityTask]:
        return self._runner.decode(self.inner.lease_activity_tasks(*args, **kwargs))

    def heartbeat_activity(self, run_id: str, scheduled_event_id: int, owner: str,
                           details: list[JsonValue], now: datetime, lease_for: timedelta) -> bool:
        encoded = self._payloads(details)
        return self.inner.heartbeat_activity(run_id, scheduled_event_id, owner, encoded, now,
                                             lease_for)

    def retry_activity(self, run_id: str, scheduled_event_id: int, owner: str,
                       available_at: datetime, failure: Failure | None = None) -> None:
        self.inner.retry_activity(run_id, scheduled_event_id, owner, available_at,
                                  self._one(failure, encode=True))

    def pending_activities(self, run_id: str) -> list[PendingActivity]:
        return self._runner.decode(self.inner.pending_activities(run_id))

    # --- update and query requests ---------------------------------------------------

    def request_update(self, run_id: str, update_id: str, name: str, args: list[JsonValue],
                       now: datetime, headers: Mapping[str, JsonValue] | None = None
                       ) -> UpdateRequest:
        req = self.inner.request_update(run_id, update_id, name, self._payloads(args), now,
                                        headers)
        return self._runner.decode([req])[0]

    def pending_updates(self, run_id: str) -> list[UpdateRequest]:
        return self._runner.decode(self.inner.pending_updates(run_id))

    def get_update(self, run_id: str, update_id: str) -> UpdateRequest | None:
        return self._one(self.inner.get_update(run_id, update_id))

    def reject_update(self, run_id: str, update_id: str, failure: Failure) -> None:
        self.inner.reject_update(run_id, update_id, self._runner.encode([failure])[0])

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            self._runner.close()

    # --- helpers -----------------------------------------------------------------------

    def _payloads(self, data: list[JsonValue]) -> list[JsonValue]:
        return self._runner.encode([Failure(message="", details=list(data))])[0].details

    def _one(self, obj: T | None, *, encode: bool = False) -> T | None:
        if obj is None:
            return None
        return (self._runner.encode if encode else self._runner.decode)([obj])[0]
CodecStore.__module__ = "replay.history"  # its public home

_WRAPPERS: dict[type, type[CodecStore]] = {}


def _wrapper_class(inner: type) -> type[CodecStore]:
    """CodecStore plus a delegating method for each public method of ``inner`` that it
    does not define (those in _OPTIONAL go through the codec)."""
    found = _WRAPPERS.get(inner)
    if found is None:
        names = [n for n in dir(inner) if not n.startswith("_") and callable(getattr(inner, n))
                 and not hasattr(CodecStore, n)]
        found = type(f"CodecStore[{inner.__name__}]", (CodecStore,),
                     {n: _delegate(n) for n in names})
        found.__module__ = CodecStore.__module__
        _WRAPPERS[inner] = found
    return found


def _delegate(name: str) -> Any:
    way = _OPTIONAL.get(name)

    def method(self: CodecStore, *args: Any, **kwargs: Any) -> Any:
        target = getattr(self.inner, name)
        if way is None:
            return target(*args, **kwargs)
        runner = self._runner
        if way == "encode":  # the one argument carries payloads
            return target(*runner.encode(list(args)), **kwargs)
        out = target(*args, **kwargs)
        if way == "decode_each":
            return {key: runner.decode(list(rows)) for key, rows in out.items()}
        if out is None:
            return None
        return runner.decode(out) if isinstance(out, list) else runner.decode([out])[0]

    method.__name__ = name
    return method
