"""Invariant 4, fencing: racing or zombie writers of one run never interleave events.

Several copies of the same run's instance (as two workers, or a worker and
the zombie it replaced, would hold) each compute the same activation and
commit it with the same expected last event id. Exactly one commit wins; the
others fail with AppendConflictError as a whole, and the history is the
winner's events, in order, with nothing of the losers.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.workload.samples import CounterWorkflow
from replay._replay._replayer import WorkflowRegistry, new_instance, replay_events
from replay.history import (
    Append,
    AppendConflictError,
    Deliver,
    Event,
    MemoryStore,
    PostgresStore,
    SignalReceived,
    SqliteStore,
    Start,
    Store,
    WorkflowStarted,
    WorkflowTaskCompleted,
    default_converter,
)
from tests import postgres_server

CONVERTER = default_converter()
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _setup(store: Store, signals: int) -> str:
    run_id = "run-1"
    store.commit([Start(run_id, WorkflowStarted(
        event_id=1, time=T0, workflow_type="CounterWorkflow", workflow_id="fence",
        task_queue="q", args=[0], random_seed=1, first_execution_run_id=run_id))])
    for i in range(signals):
        store.commit([Deliver(run_id, SignalReceived(event_id=0, time=T0, signal_name="add",
                                                     args=[i + 1]))])
    return run_id


def _activation(store: Store, run_id: str, identity: str) -> tuple[list[Event], int]:
    """What one worker would commit for the run's pending inputs, and its fence."""
    events = store.read(run_id)
    started = events[0]
    assert isinstance(started, WorkflowStarted)
    inst = new_instance(WorkflowRegistry([CounterWorkflow]), run_id, started, CONVERTER, None)
    tail = replay_events(inst, events)
    expected = tail.pending[-1].event_id if tail.pending else inst.last_event_id
    result = inst.activate(tail.pending, [], T0)
    return inst.commit_live(result, T0, identity), expected


def _race(stores: list[Store], run_id: str) -> tuple[list[Any], list[list[Event]]]:
    prepared = [_activation(s, run_id, f"writer-{i}") for i, s in enumerate(stores)]
    barrier = threading.Barrier(len(stores))
    outcomes: list[Any] = [None] * len(stores)

    def write(i: int) -> None:
        events, expected = prepared[i]
        barrier.wait()
        try:
            stores[i].commit([Append(run_id, events, expected)])
            outcomes[i] = "won"
        except AppendConflictError as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return outcomes, [p[0] for p in prepared]


def _check(store: Store, run_id: str, before: list[Event], outcomes: list[Any],
           batches: list[list[Event]]) -> None:
    winners = [i for i, o in enumerate(outcomes) if o == "won"]
    assert len(winners) == 1, outcomes
    losers = [o for o in outcomes if o != "won"]
    assert all(isinstance(o, AppendConflictError) for o in losers)
    after = store.read(run_id)
    assert after[:len(before)] == before  # append-only
    assert after[len(before):] == batches[winners[0]]  # the winner's batch, whole
    identities = {e.identity for e in after if isinstance(e, WorkflowTaskCompleted)}
    assert identities == {f"writer-{winners[0]}"}
    store.history(run_id)  # validates


@pytest.mark.slow  # up to four writer processes per example
@settings(max_examples=15)
@given(writers=st.integers(2, 4), signals=st.integers(1, 4))
def test_racing_writers_on_one_sqlite_file(writers: int, signals: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "fence.db"
        # one store object per writer: separate connections, as separate processes have
        stores: list[Store] = [SqliteStore(path) for _ in range(writers)]
        try:
            run_id = _setup(stores[0], signals)
            before = stores[0].read(run_id)
            outcomes, batches = _race(stores, run_id)
            _check(stores[0], run_id, before, outcomes, batches)
        finally:
            for s in stores:
                s.close()


@settings(max_examples=15)
@given(writers=st.integers(2, 4), signals=st.integers(1, 4))
def test_racing_writers_on_a_memory_store(writers: int, signals: int) -> None:
    store = MemoryStore()
    run_id = _setup(store, signals)
    before = store.read(run_id)
    outcomes, batches = _race([store] * writers, run_id)
    _check(store, run_id, before, outcomes, batches)


@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writers=st.integers(2, 4), signals=st.integers(1, 4))
def test_racing_writers_on_one_postgres_schema(postgres_url: str,
                                               postgres_schemas: Callable[[], str],
                                               writers: int, signals: int) -> None:
    schema = postgres_schemas()
    # one store object per writer: separate pools, as separate hosts have
    stores: list[Store] = [PostgresStore(postgres_url, schema=schema) for _ in range(writers)]
    try:
        run_id = _setup(stores[0], signals)
        before = stores[0].read(run_id)
        outcomes, batches = _race(stores, run_id)
        _check(stores[0], run_id, before, outcomes, batches)
    finally:
        for s in stores:
            s.close()
        postgres_server.drop_schema(postgres_url, schema)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_zombie_writer_after_takeover_is_fenced(tmp_path: Path, kind: str,
                                                  request: pytest.FixtureRequest) -> None:
    """The zombie computed its activation, stalled, and commits after its replacement."""
    live: Store
    zombie_store: Store
    if kind == "sqlite":
        path = tmp_path / "zombie.db"
        live, zombie_store = SqliteStore(path), SqliteStore(path)
    else:
        url, schema = (request.getfixturevalue("postgres_url"),
                       request.getfixturevalue("postgres_schemas")())
        live, zombie_store = (PostgresStore(url, schema=schema),
                              PostgresStore(url, schema=schema))
    try:
        run_id = _setup(live, 2)
        zombie_events, zombie_fence = _activation(zombie_store, run_id, "zombie")
        new_events, fence = _activation(live, run_id, "replacement")
        live.commit([Append(run_id, new_events, fence)])
        # a later input arrives; the zombie's fence is stale no matter what came after
        live.commit([Deliver(run_id, SignalReceived(event_id=0, time=T0, signal_name="add",
                                                    args=[10]))])
        before = live.read(run_id)
        try:
            zombie_store.commit([Append(run_id, zombie_events, zombie_fence)])
        except AppendConflictError as exc:
            assert "run-1" in str(exc)
        else:
            raise AssertionError("the zombie's append was accepted")
        assert live.read(run_id) == before
    finally:
        live.close()
        zombie_store.close()
