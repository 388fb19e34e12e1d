"""The store test kit: the conformance suite every :class:`~replay.history.Store` passes.

Writing a store for another database? Subclass :class:`StoreConformance` in a
test module and give it a ``store_factory`` fixture; pytest then runs the whole
suite against your store::

    import pytest
    from replay.testing.store_conformance import StoreConformance, simple_factory

    class TestMyStore(StoreConformance):
        @pytest.fixture
        def store_factory(self, tmp_path):
            return simple_factory(new=lambda: MyStore(tmp_path / f"{uuid4()}.db"),
                                  reopen=lambda store: MyStore(store.path))

``new()`` returns a new, empty store; ``reopen(store)`` another handle on the
same data, as another process would open it (return ``store`` itself if the
store cannot be shared). The kit closes every store it got.

What it checks: conditional appends and their conflicts (also between racing
threads on separate handles, and a zombie writer), the history rules, commits
all or nothing, group commits batch by batch, deliveries to missing or closed
runs and stale results, workflow and activity task leases, timers, update
requests, dead workers' leases, the registry of what workers host (newest
registration wins, idempotent, runs untouched), wake-ups (across handles) and
``tail``, the query channel when the store has one (``_query_conformance``);
search attributes (indexed at start and by upserts, refused when malformed,
recreated by ``rebuild_indexes``) and list queries, on random runs and random
queries against a reference evaluator (``_search_reference``); and,
on random workloads, that the store answers every operation exactly as
:class:`~replay.history.MemoryStore` (the reference) does. A store with a
``dump_indexes()`` method (a diagnostic returning its derived rows) is also
compared row by row, and its ``rebuild_indexes()`` must change nothing.

This module needs pytest and hypothesis (the ``testing`` extra). The project
runs it against ``MemoryStore``, ``SqliteStore`` and ``PostgresStore``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, Protocol

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replay.history import (
    ActivityCompleted,
    ActivityScheduled,
    Append,
    AppendConflictError,
    Deliver,
    Failure,
    HandlerSignature,
    HistoryError,
    ListQueryAttributeError,
    ListQueryError,
    MemoryStore,
    RequestUpdate,
    RunAlreadyExistsError,
    RunClosedError,
    RunNotFoundError,
    SearchAttributesUpserted,
    SignalReceived,
    StaleResultError,
    Start,
    Store,
    TimerStarted,
    WorkflowCompleted,
    WorkflowSignature,
    WorkflowStarted,
    WorkflowTaskCompleted,
)

from ._query_conformance import QueryChannelConformance as QueryChannelConformance
from ._search_reference import Expr as QueryExpr
from ._search_reference import RunPlan, run_plans
from ._search_reference import expected as expected_runs
from ._search_reference import queries as list_queries
from ._store_workload import STEP_KINDS as STEP_KINDS
from ._store_workload import T0 as T0
from ._store_workload import Step as Step
from ._store_workload import WorkloadRunner as WorkloadRunner
from ._store_workload import workload_steps as workload_steps
from ._store_workload import workloads as workloads

__all__ = [
    "QueryChannelConformance",
    "STEP_KINDS",
    "Step",
    "StoreConformance",
    "StoreFactory",
    "T0",
    "WorkloadRunner",
    "simple_factory",
    "workload_steps",
    "workloads",
]

SECOND = timedelta(seconds=1)
LEASE = timedelta(seconds=30)


class StoreFactory(Protocol):
    """What a ``store_factory`` fixture returns."""

    def new(self) -> Store:
        """A new, empty store."""
        ...

    def reopen(self, store: Store) -> Store:
        """Another handle on ``store``'s data (``store`` itself if there is no other)."""
        ...


@attrs.frozen
class _Factory:
    new: Callable[[], Store]
    reopen: Callable[[Store], Store]


def simple_factory(new: Callable[[], Store],
                   reopen: Callable[[Store], Store] | None = None) -> StoreFactory:
    """A :class:`StoreFactory` from two functions (``reopen`` defaults to the same store)."""
    return _Factory(new, reopen or (lambda store: store))


# --- small events -----------------------------------------------------------------------------


def started(workflow_id: str = "wf-1", **kw: Any) -> WorkflowStarted:
    """Event 1 of a run on task queue ``q``."""
    return WorkflowStarted(event_id=1, time=T0, workflow_type="Greeter",
                           workflow_id=workflow_id, task_queue="q", **kw)


def signal(event_id: int = 0, name: str = "sig") -> SignalReceived:
    return SignalReceived(event_id=event_id, time=T0 + SECOND, signal_name=name)


def task_done(event_id: int, identity: str = "") -> WorkflowTaskCompleted:
    return WorkflowTaskCompleted(event_id=event_id, time=T0 + SECOND, identity=identity)


def activity(event_id: int) -> ActivityScheduled:
    return ActivityScheduled(event_id=event_id, time=T0 + SECOND, seq=event_id,
                             activity_type="charge", activity_id=str(event_id),
                             task_queue="aq", args=[event_id])


def timer(event_id: int, seconds: int) -> TimerStarted:
    return TimerStarted(event_id=event_id, time=T0, seq=event_id,
                        duration=seconds * SECOND, fire_at=T0 + seconds * SECOND)


def _greeter(signals: tuple[str, ...], name: str = "Greeter") -> WorkflowSignature:
    """A workflow type as a worker registers it, with the given one-argument signals."""
    return WorkflowSignature(
        workflow_type=name,
        run=HandlerSignature(name="run", min_args=1, max_args=2, arg_types=("str", "int")),
        signals=tuple(HandlerSignature(name=s, min_args=1, max_args=1, arg_types=("str",))
                      for s in signals),
        queries=(HandlerSignature(name="count", arg_types=()),),
        updates=(HandlerSignature(name="set", min_args=1, max_args=1,
                                  arg_types=("list[int]",)),))


def _activity(name: str) -> HandlerSignature:
    return HandlerSignature(name=name, min_args=1, max_args=1, arg_types=("Order",))


class StoreConformance(QueryChannelConformance):
    """The suite; subclass it and provide a ``store_factory`` fixture (see the module)."""

    @pytest.fixture
    def stores(self, store_factory: StoreFactory) -> Iterator[Callable[..., Store]]:
        """``stores()`` a new store, ``stores(s)`` another handle on ``s``; closed after."""
        made: list[Store] = []

        def get(of: Store | None = None) -> Store:
            store = store_factory.new() if of is None else store_factory.reopen(of)
            if all(store is not m for m in made):
                made.append(store)
            return store

        yield get
        for store in reversed(made):
            store.close()

    @pytest.fixture
    def store(self, stores: Callable[..., Store]) -> Store:
        return stores()

    # --- appends ---------------------------------------------------------------------------

    def test_start_append_and_read(self, store: Store) -> None:
        assert store.commit([Start("r1", started())]) == [started()]
        store.append("r1", [signal(2), task_done(3)], 1)
        assert [e.event_id for e in store.read("r1")] == [1, 2, 3]
        assert [e.event_id for e in store.read("r1", 2)] == [3]
        assert store.last_event_id("r1") == 3 and store.last_event_id("nope") == 0
        assert len(store.history("r1")) == 3
        with pytest.raises(RunNotFoundError):
            store.read("nope")

    def test_a_conflicting_append_fails_whole_and_writes_nothing(self, store: Store) -> None:
        store.commit([Start("r1", started())])
        store.append("r1", [signal(2)], 1)
        with pytest.raises(AppendConflictError) as err:
            store.append("r1", [signal(2), task_done(3)], 1)
        assert (err.value.expected, err.value.actual) == (1, 2)
        assert store.last_event_id("r1") == 2

    def test_history_rules_are_enforced(self, store: Store) -> None:
        store.commit([Start("r1", started())])
        with pytest.raises(HistoryError, match="gap in event ids"):
            store.append("r1", [signal(3)], 1)
        store.append("r1", [WorkflowCompleted(event_id=2, time=T0)], 1)
        with pytest.raises(HistoryError, match="after terminal event"):
            store.append("r1", [signal(3)], 2)
        with pytest.raises(RunAlreadyExistsError):
            store.commit([Start("r1", started("other"))])

    def test_a_commit_is_all_or_nothing(self, store: Store) -> None:
        store.commit([Start("r1", started())])
        with pytest.raises(RunNotFoundError):
            store.commit([Deliver("r1", signal()), Start("r2", started("wf-2")),
                          Deliver("missing", signal())])
        assert store.last_event_id("r1") == 1 and store.get_run("r2") is None

    def test_group_commit_keeps_good_batches(self, store: Store) -> None:
        store.commit([Start("a", started("wf-a")), Start("b", started("wf-b"))])
        results = store.commit_each([[Deliver("a", signal())],
                                     [Append("b", [task_done(2)], 99)],
                                     [Start("c", started("wf-c"))]])
        assert [type(r).__name__ for r in results] == ["list", "AppendConflictError", "list"]
        assert store.last_event_id("a") == 2 and store.last_event_id("b") == 1
        assert store.get_run("c") is not None

    def test_deliveries_to_missing_closed_or_stale_targets(self, store: Store) -> None:
        with pytest.raises(RunNotFoundError):
            store.commit([Deliver("x", signal())])
        assert store.commit([Deliver("x", signal(), missing_ok=True)]) == []
        store.commit([Start("r1", started())])
        store.append("r1", [activity(2), task_done(3)], 1)
        done = ActivityCompleted(event_id=0, time=T0, scheduled_event_id=2)
        store.commit([Deliver("r1", done)])
        with pytest.raises(StaleResultError):
            store.commit([Deliver("r1", done)])
        store.append("r1", [WorkflowCompleted(event_id=5, time=T0)], 4)
        with pytest.raises(RunClosedError):
            store.commit([Deliver("r1", signal())])

    def test_racing_writers_on_separate_handles_never_interleave(
            self, stores: Callable[..., Store]) -> None:
        first = stores()
        first.commit([Start("r1", started())])
        handles = [first, *(stores(first) for _ in range(3))]
        barrier = threading.Barrier(len(handles))
        outcomes: list[str] = []

        def write(i: int) -> None:
            barrier.wait()
            for _ in range(15):
                last = handles[i].last_event_id("r1")
                try:
                    handles[i].append("r1", [signal(last + 1, f"w{i}")], last)
                    outcomes.append("ok")
                except AppendConflictError:
                    outcomes.append("conflict")

        threads = [threading.Thread(target=write, args=(i,)) for i in range(len(handles))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(first.history("r1")) == 1 + outcomes.count("ok")

    def test_a_zombie_append_is_refused(self, stores: Callable[..., Store]) -> None:
        live = stores()
        live.commit([Start("r1", started()), Deliver("r1", signal())])
        zombie = stores(live)
        live.append("r1", [task_done(3, "replacement")], 2)
        with pytest.raises(AppendConflictError):
            zombie.append("r1", [task_done(3, "zombie")], 2)
        assert [getattr(e, "identity", None) for e in live.read("r1", 2)] == ["replacement"]

    # --- indexes and leases -----------------------------------------------------------------

    def test_workflow_task_leases(self, store: Store) -> None:
        for i in range(3):
            store.commit([Start(f"r{i}", started(f"wf-{i}"))])
        assert [t.run_id for t in store.lease_workflow_tasks("q", "w1", T0, LEASE, 2)] == [
            "r0", "r1"]
        assert [t.run_id for t in store.lease_workflow_tasks("q", "w2", T0, LEASE, 5)] == ["r2"]
        assert store.lease_workflow_task("q", "w3", T0, LEASE) is None
        expired = store.lease_workflow_task("q", "w3", T0 + LEASE, LEASE)
        assert expired is not None and expired.run_id == "r0"
        store.release_workflow_task("r0", "w3")
        store.append("r1", [task_done(2)], 1)
        assert [t.run_id for t in store.lease_workflow_tasks("q", "w4", T0, LEASE, 5)] == ["r0"]
        assert store.lease_owners() == {"w4", "w2"}
        assert store.release_leases("w2") == 1
        assert store.lease_owners() == {"w4"}

    def test_activity_task_leases(self, store: Store) -> None:
        store.commit([Start("r1", started())])
        timed = attrs.evolve(activity(3), start_to_close_timeout=timedelta(seconds=5))
        store.append("r1", [activity(2), timed, task_done(4)], 1)
        now = T0 + SECOND
        leased = store.lease_activity_tasks("aq", "w", now, LEASE, 10)
        assert [(t.scheduled_event_id, t.attempt) for t in leased] == [(2, 1), (3, 1)]
        assert leased[0].lease_expires_at == now + LEASE
        assert leased[1].lease_expires_at == now + timedelta(seconds=6)
        assert store.heartbeat_activity("r1", 2, "w", ["half"], now, LEASE) is True
        assert store.heartbeat_activity("r1", 2, "intruder", [], now, LEASE) is False
        store.retry_activity("r1", 2, "w", now + 10 * SECOND, Failure(message="boom"))
        pending = {p.scheduled_event_id: p for p in store.pending_activities("r1")}
        assert pending[2].state == "backing_off" and pending[3].state == "started"
        again = store.lease_activity_tasks("aq", "w2", now + 10 * SECOND, LEASE, 10)
        retried = {t.scheduled_event_id: t for t in again}[2]  # 3's lease expired too
        assert (retried.attempt, retried.heartbeat_details) == (2, ["half"])

    def test_an_activity_lease_is_handed_over(self, store: Store) -> None:
        store.commit([Start("r1", started())])
        store.append("r1", [activity(2), task_done(3)], 1)
        now = T0 + SECOND
        [task] = store.lease_activity_tasks("aq", "w", now, LEASE, 10)
        until = now + 30 * SECOND
        assert store.hand_over_activity("r1", 2, "intruder", "async", until) is False
        assert store.hand_over_activity("r1", 2, "w", "async", until) is True
        [pending] = store.pending_activities("r1")
        assert (pending.lease_owner, pending.lease_expires_at) == ("async", until)
        assert store.heartbeat_activity("r1", 2, "w", [], now, LEASE) is False
        assert store.heartbeat_activity("r1", 2, "async", ["x"], now, 10 * SECOND) is True
        assert store.lease_activity_tasks("aq", "w2", now + 5 * SECOND, LEASE, 10) == []
        [again] = store.lease_activity_tasks("aq", "w2", now + 11 * SECOND, LEASE, 10)
        assert (again.attempt, again.lease_owner) == (task.attempt + 1, "w2")

    def test_a_leased_workflow_task_says_whether_its_run_has_a_requested_update(
            self, store: Store) -> None:
        store.commit([Start("r1", started("wf-1")), Start("r2", started("wf-2"))])
        store.request_update("r2", "u1", "set", [1], T0)
        tasks = store.lease_workflow_tasks("q", "w", T0, LEASE, 10)
        said = {t.run_id: t.updates_pending for t in tasks}
        # a store may not say (None); one that says is right
        assert said["r1"] in (False, None) and said["r2"] in (True, None)
        if said["r1"] is False:  # an update requested after the lease keeps the task
            store.request_update("r1", "u2", "set", [2], T0)
            store.append("r1", [task_done(2)], 1)
            again = store.lease_workflow_tasks("q", "w", T0 + LEASE, LEASE, 10)
            assert {t.run_id: t.updates_pending for t in again}["r1"] is True

    def test_a_start_and_its_first_update_commit_together(self, store: Store) -> None:
        store.commit([Start("r1", started()), RequestUpdate("r1", "u1", "set", [1], T0)])
        [update] = store.pending_updates("r1")
        assert (update.update_id, update.args, update.status) == ("u1", [1], "requested")
        [task] = store.lease_workflow_tasks("q", "w", T0, LEASE, 10)
        assert task.run_id == "r1"
        # a start that fails (the workflow id is open) leaves no update behind either
        with pytest.raises(RunAlreadyExistsError):
            store.commit([Start("r2", started()), RequestUpdate("r2", "u2", "set", [2], T0)])
        assert store.get_run("r2") is None and store.get_update("r2", "u2") is None
        # on its own it is a plain update request; a known update id is left alone
        store.commit([RequestUpdate("r1", "u1", "set", [9], T0)])
        assert [u.args for u in store.pending_updates("r1")] == [[1]]

    def test_timers_deadlines_and_updates(self, store: Store) -> None:
        store.commit([Start("r1", started(run_timeout=timedelta(hours=1)))])
        store.append("r1", [timer(2, 30), timer(3, 10), task_done(4)], 1)
        assert store.next_timer_at() == T0 + 10 * SECOND
        assert [t.started_event_id for t in store.due_timers(T0 + 60 * SECOND)] == [3, 2]
        assert [r.run_id for r in store.expired_runs(T0 + timedelta(hours=2))] == ["r1"]
        first = store.request_update("r1", "u1", "set", [1], T0)
        assert store.request_update("r1", "u1", "set", [2], T0) == first
        assert [u.update_id for u in store.pending_updates("r1")] == ["u1"]
        store.reject_update("r1", "u1", Failure(message="no"))
        rejected = store.get_update("r1", "u1")
        assert rejected is not None and rejected.status == "rejected"
        assert store.last_event_id("r1") == 4

    # --- the registry of what workers host ---------------------------------------------------

    def test_worker_registrations_are_kept_per_queue_and_type(
            self, stores: Callable[..., Store]) -> None:
        store = stores()
        store.commit([Start("r1", started())])
        runs_before = (store.read("r1"), store.list_runs())
        greeter = _greeter(("add",))
        store.register_worker("q", "w1", T0, [greeter], [_activity("charge")])
        store.register_worker("q", "w1", T0, [greeter], [_activity("charge")])  # idempotent
        store.register_worker("other", "w2", T0, [_greeter((), "Billing")], [])
        reader = stores(store)
        [found] = reader.registered_workflows("q")
        assert (found.task_queue, found.worker, found.registered_at, found.signature) == (
            "q", "w1", T0, greeter)
        assert [(a.task_queue, a.signature.name) for a in reader.registered_activities("q")
                ] == [("q", "charge")]
        assert [(r.task_queue, r.signature.workflow_type)
                for r in reader.registered_workflows()] == [("other", "Billing"),
                                                            ("q", "Greeter")]
        assert reader.registered_workflows("nobody") == []
        assert reader.registered_activities("other") == []
        assert (store.read("r1"), store.list_runs()) == runs_before  # runs untouched

    def test_the_newest_registration_of_a_type_wins(self, store: Store) -> None:
        old, new = _greeter(("add",)), _greeter(("add", "rename"))
        store.register_worker("q", "w-new", T0 + SECOND, [new], [])
        store.register_worker("q", "w-old", T0, [old], [_activity("charge")])  # late, older
        [found] = store.registered_workflows("q")
        assert (found.worker, found.signature) == ("w-new", new)
        # what the older worker alone registered is kept
        assert [a.worker for a in store.registered_activities("q")] == ["w-old"]
        store.register_worker("q", "w-back", T0 + 2 * SECOND, [old], [])  # a rollback
        [found] = store.registered_workflows("q")
        assert (found.worker, found.registered_at, found.signature) == (
            "w-back", T0 + 2 * SECOND, old)

    def test_a_dynamic_workflow_and_handlers_are_registered(self, store: Store) -> None:
        dynamic = WorkflowSignature(
            workflow_type=None, run=HandlerSignature(name=None, max_args=None),
            signals=(HandlerSignature(name=None, max_args=None),),
            runtime_handlers=("query",))
        store.register_worker("q", "w", T0, [dynamic, _greeter(())], [])
        assert [r.signature for r in store.registered_workflows("q")] == [
            dynamic, _greeter(())]

    # --- wake-ups -----------------------------------------------------------------------------

    async def test_a_commit_on_another_handle_wakes_a_waiter(
            self, stores: Callable[..., Store]) -> None:
        waiter = stores()
        waiter.commit([Start("r1", started())])
        writer = stores(waiter)
        token = waiter.change_token()
        waiting = asyncio.ensure_future(waiter.wait_changed(30, since=token, run_id="r1"))
        await asyncio.sleep(0.05)
        writer.commit([Deliver("r1", signal())])
        assert await asyncio.wait_for(waiting, 30) is True

    async def test_tail_follows_until_the_end(self, stores: Callable[..., Store]) -> None:
        reader = stores()
        reader.commit([Start("r1", started())])
        writer = stores(reader)

        def write() -> None:
            for i in range(3):
                writer.commit([Deliver("r1", signal(0, f"s{i}"))])
            writer.append("r1", [WorkflowCompleted(event_id=5, time=T0)], 4)

        thread = threading.Timer(0.05, write)
        thread.start()
        try:
            async with asyncio.timeout(30):
                seen = [e.event_id async for e in reader.tail("r1", 1)]
        finally:
            thread.join()
        assert seen == [2, 3, 4, 5]

    # --- search attributes and list queries ---------------------------------------------------

    def test_search_attributes_are_indexed_upserted_and_queried(self, store: Store) -> None:
        keyword = {"type": "Keyword", "value": "acme"}
        tags = {"type": "KeywordList", "value": ["gift", "fragile"]}
        store.commit([Start("r1", started(search_attributes={"Customer": keyword,
                                                             "Tags": tags})),
                      Start("r2", started("wf-2", search_attributes={
                          "Customer": {"type": "Keyword", "value": "globex"}}))])
        run = store.get_run("r1")
        assert run is not None and run.search_attributes == {"Customer": keyword, "Tags": tags}
        assert store.search_attribute_types() == {"Customer": {"Keyword"},
                                                  "Tags": {"KeywordList"}}
        assert [r.run_id for r in store.query_runs("Customer >= 'a'")] == ["r2", "r1"]
        assert [r.run_id for r in store.query_runs("Customer = 'acme'")] == ["r1"]
        assert [r.run_id for r in store.query_runs("Tags = 'gift'")] == ["r1"]
        assert [r.run_id for r in store.query_runs("NOT Tags = 'gift'")] == ["r2"]
        amount = {"type": "Int", "value": 250}
        store.append("r1", [SearchAttributesUpserted(
            event_id=2, time=T0, search_attributes={"Customer": None, "Amount": amount})], 1)
        run = store.get_run("r1")
        assert run is not None and run.search_attributes == {"Amount": amount, "Tags": tags}
        assert store.query_runs("Customer = 'acme'") == []
        assert store.count_query("Amount > 100 AND Customer IS NULL") == 1
        assert [r.run_id for r in store.query_runs("Customer STARTS_WITH 'glo'")] == ["r2"]
        assert store.count_query("") == 2
        assert [r.run_id for r in store.query_runs("", limit=1)] == ["r2"]

    def test_bad_search_attribute_values_are_refused_and_nothing_is_written(
            self, store: Store) -> None:
        store.commit([Start("r1", started())])
        bad = {"Amount": {"type": "Int", "value": "12"}}
        with pytest.raises(HistoryError) as err:
            store.commit([Start("r2", started("wf-2", search_attributes=bad))])
        assert err.value.rule == "search-attributes"
        assert "WorkflowStarted.search_attributes: expected an int, got str '12'" in str(
            err.value)
        with pytest.raises(HistoryError, match="WorkflowId is a built-in attribute"):
            store.append("r1", [SearchAttributesUpserted(
                event_id=2, time=T0,
                search_attributes={"WorkflowId": {"type": "Keyword", "value": "x"}})], 1)
        assert store.get_run("r2") is None and store.last_event_id("r1") == 1
        assert store.search_attribute_types() == {}

    def test_malformed_or_unknown_queries_are_refused_with_the_position(
            self, store: Store) -> None:
        store.commit([Start("r1", started(search_attributes={
            "Amount": {"type": "Int", "value": 1}}))])
        with pytest.raises(ListQueryError) as err:
            store.query_runs("Amount = 1 AND")
        assert (err.value.code, err.value.position) == ("RPL-SA02", 14)
        with pytest.raises(ListQueryAttributeError) as attr_err:
            store.count_query("Amount = 1 AND Amout = 2")
        assert attr_err.value.position == 15
        assert "unknown attribute 'Amout'" in str(attr_err.value)
        with pytest.raises(ListQueryAttributeError, match="compare it with a whole number"):
            store.query_runs("Amount = 'one'")

    def test_rebuilding_the_indexes_recreates_the_search_attributes(self, store: Store) -> None:
        store.commit([Start("r1", started(search_attributes={
            "Due": {"type": "Datetime", "value": "2030-01-02T03:04:05.000000+00:00"}}))])
        store.append("r1", [SearchAttributesUpserted(event_id=2, time=T0, search_attributes={
            "Score": {"type": "Float", "value": 0.5}})], 1)
        before = [(r.run_id, r.search_attributes) for r in store.query_runs(
            "Due > '2030-01-01' AND Score BETWEEN 0 AND 1")]
        assert [run_id for run_id, _ in before] == ["r1"]
        store.rebuild_indexes()
        assert [(r.run_id, r.search_attributes) for r in store.query_runs(
            "Due > '2030-01-01' AND Score BETWEEN 0 AND 1")] == before
        assert store.search_attribute_types() == {"Due": {"Datetime"}, "Score": {"Float"}}

    @pytest.mark.slow
    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.differing_executors])
    @given(plans=run_plans(), queries=st.lists(list_queries, min_size=1, max_size=4))
    def test_list_queries_select_the_runs_the_reference_evaluator_selects(
            self, store_factory: StoreFactory, plans: list[RunPlan],
            queries: list[QueryExpr]) -> None:
        store = store_factory.new()
        try:
            for plan in plans:
                store.commit(plan.operations())
            for query in queries:
                want = expected_runs(query, plans)
                if want is None:
                    with pytest.raises(ListQueryAttributeError):
                        store.query_runs(query.text)
                    continue
                assert [r.run_id for r in store.query_runs(query.text)] == want, query.text
                assert store.count_query(query.text) == len(want), query.text
        finally:
            store.close()

    # --- the reference model ------------------------------------------------------------------

    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.differing_executors])
    @given(steps=workloads)
    def test_random_workloads_answer_as_the_memory_store(
            self, store_factory: StoreFactory, steps: list[Step]) -> None:
        reference, store = MemoryStore(), store_factory.new()
        try:
            assert WorkloadRunner(store).run(steps) == WorkloadRunner(reference).run(steps)
            dump = getattr(store, "dump_indexes", None)
            if dump is not None:
                assert dump() == reference.dump_indexes()
                store.rebuild_indexes()
                assert dump() == reference.dump_indexes()
        finally:
            store.close()
