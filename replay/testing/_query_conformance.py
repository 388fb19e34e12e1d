"""The query channel's part of the store test kit (see ``store_conformance``).

A store that routes queries to workers (:class:`~replay.history.QueryChannel`)
must hand a posted request to the pollers of its task queue only, oldest
first, keep its headers, record the first answer only, wake the asking client
and the waiting workers (also through another handle), stop handing out a
request once it expired and drop it when the next one arrives, know who polls
a queue, and never touch the run's history. A store without the channel skips
these tests (its clients answer queries by local replay). Update requests keep
their headers too (every store).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from replay.history import QueryChannel, QueryRequest, Start, Store, WorkflowStarted

from ._store_workload import T0


def _channel(store: Store) -> QueryChannel:
    if not isinstance(store, QueryChannel):
        pytest.skip(f"{type(store).__name__} does not route queries (no QueryChannel)")
    return store


def _request(query_id: str, queue: str = "q", *, expires_at: datetime | None = None,
             run_id: str = "r1") -> QueryRequest:
    return QueryRequest(query_id=query_id, run_id=run_id, workflow_type="Greeter",
                        task_queue=queue, name="progress", args=[query_id],
                        requested_at=T0, headers={"trace": {"id": query_id}},
                        expires_at=expires_at)


def _start(store: Store) -> None:
    store.commit([Start("r1", WorkflowStarted(event_id=1, time=T0, workflow_type="Greeter",
                                              workflow_id="wf-1", task_queue="q"))])


class QueryChannelConformance:
    """Tests of :class:`~replay.history.QueryChannel`; ``StoreConformance`` includes them."""

    def test_a_query_reaches_the_pollers_of_its_queue_and_its_first_answer_counts(
            self, stores: Callable[..., Store]) -> None:
        asker = stores()
        _start(asker)
        worker = _channel(stores(asker))
        channel = _channel(asker)
        channel.request_query(_request("a"))
        channel.request_query(_request("b"))
        channel.request_query(_request("other", "elsewhere"))
        pending = worker.pending_queries("q", "w1")
        assert [p.query_id for p in pending] == ["a", "b"]
        assert pending[0] == _request("a")  # args and headers intact
        worker.answer_query(attrs.evolve(pending[0], status="answered", result={"n": 1},
                                         answered_by="w1"))
        worker.answer_query(attrs.evolve(pending[0], status="answered", result={"n": 2},
                                         answered_by="w2"))
        answered = channel.get_query("a")
        assert answered is not None
        assert (answered.status, answered.result, answered.answered_by) == (
            "answered", {"n": 1}, "w1")
        assert [p.query_id for p in worker.pending_queries("q", "w1")] == ["b"]
        channel.forget_query("a")
        assert channel.get_query("a") is None
        assert asker.last_event_id("r1") == 1  # nothing entered the history

    def test_an_expired_query_is_not_handed_out_and_is_dropped(
            self, stores: Callable[..., Store]) -> None:
        channel = _channel(stores())
        past = datetime.now(UTC) - timedelta(seconds=1)
        future = datetime.now(UTC) + timedelta(hours=1)
        channel.request_query(_request("gone", expires_at=past))
        assert channel.pending_queries("q", "w1") == []
        channel.request_query(_request("live", expires_at=future))
        assert channel.get_query("gone") is None  # the next request dropped it
        assert [p.query_id for p in channel.pending_queries("q", "w1")] == ["live"]

    def test_pollers_are_known_across_handles_until_retired(
            self, stores: Callable[..., Store]) -> None:
        asker = stores()
        worker = _channel(stores(asker))
        channel = _channel(asker)
        assert channel.query_pollers("q", 60) == []
        worker.pending_queries("q", "w1")
        worker.pending_queries("elsewhere", "w2")
        assert channel.query_pollers("q", 60) == ["w1"]
        worker.retire_query_poller("w1")
        assert channel.query_pollers("q", 60) == []
        assert channel.query_pollers("elsewhere", 60) == ["w2"]

    def test_an_update_request_keeps_its_headers(self, stores: Callable[..., Store]) -> None:
        store = stores()
        _start(store)
        made = store.request_update("r1", "u1", "set", [1], T0, {"trace": {"id": "u1"}})
        plain = store.request_update("r1", "u2", "set", [2], T0)
        assert (made.headers, plain.headers) == ({"trace": {"id": "u1"}}, {})
        other = stores(store)
        assert [u.headers for u in other.pending_updates("r1")] == [{"trace": {"id": "u1"}}, {}]
        found = other.get_update("r1", "u1")
        assert found is not None and found.headers == {"trace": {"id": "u1"}}

    async def test_a_query_wakes_the_workers_and_its_answer_wakes_the_asker(
            self, stores: Callable[..., Store]) -> None:
        asker = stores()
        _start(asker)
        worker = stores(asker)
        token = worker.change_token()
        _channel(asker).request_query(_request("a"))
        assert await asyncio.wait_for(worker.wait_changed(30, since=token), 30) is True
        token = asker.change_token()
        [pending] = _channel(worker).pending_queries("q", "w1")
        _channel(worker).answer_query(attrs.evolve(pending, status="failed", answered_by="w1"))
        assert await asyncio.wait_for(asker.wait_changed(30, since=token, run_id="r1"),
                                      30) is True
        found = _channel(asker).get_query("a")
        assert found is not None and found.status == "failed"
