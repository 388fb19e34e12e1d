"""The worker's group commits are written in a thread while its event loop runs on, and
nothing acts on a batch before its commit returned (replay/_worker/_commit_pipeline.py).

A store whose group commit waits on a gate (a threading.Event the test opens) shows
what moves while a commit is in flight: activities run, and nothing that depends on
the commit does. Facts, not time: every wait is on a gate, an event or a store fact.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from replay._worker._commit_pipeline import CommitPipeline
from replay._worker._group_commit import Pending
from replay.client import Client, WorkflowHandle
from replay.exceptions import StoreCallLimitError
from replay.history import (
    ActivityCompleted,
    Append,
    AppendConflictError,
    Deliver,
    Event,
    InternalError,
    MemoryStore,
    Operation,
    QueryChannel,
    ReplayError,
    SignalReceived,
    SqliteStore,
    Start,
    Store,
    StoreUnavailableError,
)
from replay.worker import Worker
from tests.history.samples import signal, started
from tests.strategies import T0

from .workers.harness import bounded, check_history, wait_until
from .workers.stores import make_store
from .workflows import pipeline
from .workflows.pipeline import Counter, Noted, OneStep, Pair, TwoSteps, tracked

QUEUE = "pipeline"
WORKFLOWS = [TwoSteps, OneStep, Pair, Counter, Noted]

Batches = Sequence[Sequence[Operation]]


class GatedCommits:
    """Makes a store's group commits (``commit_each``) wait for the test.

    ``arm(pred)``: the next group commit whose batches ``pred`` picks waits, in
    its own thread, until :meth:`open`; ``entered`` is set once it waits.
    ``calls`` counts every group commit the store was asked for.

    A commit written while the worker has no activity in flight is written on the
    event loop's own thread: a gate held there would stop the test itself, so tests
    that hold a commit keep an activity in flight (:func:`hold_an_activity`).
    """

    def __init__(self, store: Store) -> None:
        self._inner = store.commit_each
        setattr(store, "commit_each", self)  # noqa: B010 (a method is replaced on purpose)
        self._armed: Callable[[Batches], bool] | None = None
        self.entered = threading.Event()
        self._open = threading.Event()
        self.calls = 0
        self.threads: list[tuple[int, Batches]] = []
        """The thread each group commit was written by, with its batches."""

    def arm(self, pred: Callable[[Batches], bool]) -> None:
        self._armed = pred
        self.entered.clear()
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    def __call__(self, batches: Batches) -> list[list[Event] | ReplayError]:
        self.calls += 1
        self.threads.append((threading.get_ident(), batches))
        pred = self._armed
        if pred is not None and pred(batches):
            self._armed = None
            self.entered.set()
            assert self._open.wait(60), "the test never opened the gate"
        return self._inner(batches)


def outcome_of(run_id: str) -> Callable[[Batches], bool]:
    """Picks a group commit recording an activity outcome of ``run_id``."""
    def pred(batches: Batches) -> bool:
        return any(isinstance(op, Deliver) and op.run_id == run_id
                   and isinstance(op.event, ActivityCompleted)
                   for ops in batches for op in ops)
    return pred


def completed(store: Store, run_id: str) -> int:
    return sum(isinstance(e, ActivityCompleted) for e in store.read(run_id))


@pytest.fixture(params=["sqlite", "postgres"])
async def gated(request: pytest.FixtureRequest, tmp_path: Path
                ) -> AsyncIterator[tuple[Client, GatedCommits]]:
    """A client on a store whose group commits the test can hold (the stores whose commits
    the worker writes in a thread)."""
    store = make_store(str(request.param), tmp_path, request)
    gate = GatedCommits(store)
    client = Client(store)
    try:
        yield client, gate
    finally:
        gate.open()
        client.close()


async def hold_an_activity(client: Client) -> WorkflowHandle[Any, Any]:
    """Start a run whose activity ("ballast") stays in flight until released: while it
    is, the worker writes its commits in its commit thread. Reset with "ballast" held."""
    handle = await client.start_workflow(OneStep.run, "ballast", id="ballast",
                                         task_queue=QUEUE)
    await wait_until(lambda: "ballast:start" in pipeline.TRACKED)
    return handle


async def let_go(handle: WorkflowHandle[Any, Any]) -> None:
    pipeline.release("ballast")
    assert await bounded(handle.result()) == "BALLAST"


def worker(client: Client, **kw: Any) -> Worker:
    return Worker(client, task_queue=QUEUE, workflows=WORKFLOWS, activities=[tracked], **kw)


async def test_nothing_moves_on_an_outcome_until_its_commit_returns(
        gated: tuple[Client, GatedCommits]) -> None:
    client, gate = gated
    pipeline.reset("parked")
    async with worker(client):
        parked = await client.start_workflow(OneStep.run, "parked", id="p", task_queue=QUEUE)
        await wait_until(lambda: "parked:start" in pipeline.TRACKED)
        run = await client.start_workflow(TwoSteps.run, args=["one", "two"], id="r",
                                          task_queue=QUEUE)
        gate.arm(outcome_of(run.run_id or ""))
        await wait_until(gate.entered.is_set)  # this coroutine runs: the loop is not blocked
        calls = gate.calls
        # The loop runs activities meanwhile: the parked one ends now.
        pipeline.release("parked")
        await wait_until(lambda: "parked:end" in pipeline.TRACKED)
        # Nothing that depends on the commit in flight moved: the next activity did not
        # start, the outcome is not in the history, and no other group commit was made
        # (the parked activity's outcome waits for the next one).
        assert "two:start" not in pipeline.TRACKED
        assert completed(client.store, run.run_id or "") == 0
        assert completed(client.store, parked.run_id or "") == 0
        assert gate.calls == calls
        gate.open()
        assert await bounded(run.result()) == ["ONE", "TWO"]
        assert await bounded(parked.result()) == "PARKED"
    assert pipeline.TRACKED.index("one:end") < pipeline.TRACKED.index("two:start")
    for handle in (run, parked):
        check_history(client.store, handle.run_id or "")


async def test_a_second_outcome_of_the_run_waits_for_the_commit_in_flight(
        gated: tuple[Client, GatedCommits]) -> None:
    client, gate = gated
    pipeline.reset("left", "right")
    async with worker(client):
        run = await client.start_workflow(Pair.run, args=["left", "right", "after"], id="pair",
                                          task_queue=QUEUE)
        await wait_until(lambda: {"left:start", "right:start"} <= set(pipeline.TRACKED))
        gate.arm(outcome_of(run.run_id or ""))
        pipeline.release("left")  # left's outcome, with its activation, is held
        await wait_until(gate.entered.is_set)
        calls = gate.calls
        pipeline.release("right")
        await wait_until(lambda: "right:end" in pipeline.TRACKED)
        # right's outcome is not activated on top of the activation not yet written
        assert gate.calls == calls
        assert completed(client.store, run.run_id or "") == 0
        gate.open()
        assert await bounded(run.result()) == ["LEFT", "RIGHT", "AFTER"]
    check_history(client.store, run.run_id or "")


async def test_a_query_sent_after_a_signal_sees_it(
        gated: tuple[Client, GatedCommits]) -> None:
    # The signal and the query both reach the store while the worker waits for a commit
    # in flight, so its next pass finds the query and the signal's workflow task at
    # once: the query is answered after the signal's activation is written, not from
    # the instance as it was before it.
    client, gate = gated
    pipeline.reset("parked", "ballast")
    async with worker(client) as w:
        ballast = await hold_an_activity(client)
        counter = await client.start_workflow(Counter.run, id="c", task_queue=QUEUE)
        assert await bounded(counter.query(Counter.value)) == 0
        parked = await client.start_workflow(OneStep.run, "parked", id="p", task_queue=QUEUE)
        await wait_until(lambda: "parked:start" in pipeline.TRACKED)
        gate.arm(outcome_of(parked.run_id or ""))
        pipeline.release("parked")
        await wait_until(gate.entered.is_set)  # the worker's next pass waits for it
        await counter.signal(Counter.add, 5)
        asking = asyncio.ensure_future(counter.query(Counter.value))
        channel = client.store
        assert isinstance(channel, QueryChannel)
        await wait_until(lambda: bool(channel.pending_queries(QUEUE, w.identity)))
        gate.open()
        assert await bounded(asking) == 5
        await counter.signal(Counter.finish)
        assert await bounded(counter.result()) == 5
        assert await bounded(parked.result()) == "PARKED"
        await let_go(ballast)
    check_history(client.store, counter.run_id or "")


async def test_a_signal_waits_for_the_activation_in_flight_instead_of_conflicting(
        gated: tuple[Client, GatedCommits]) -> None:
    # Written while the worker's commit of the run is in flight, the signal would make
    # that commit conflict and the run be built again: the workflow code after the
    # activity would run live twice. The client of the same process waits instead.
    client, gate = gated
    pipeline.reset("held", "ballast")
    async with worker(client):
        ballast = await hold_an_activity(client)
        run = await client.start_workflow(Noted.run, "held", id="n", task_queue=QUEUE)
        await wait_until(lambda: "held:start" in pipeline.TRACKED)
        gate.arm(outcome_of(run.run_id or ""))
        pipeline.release("held")
        await wait_until(gate.entered.is_set)
        sending = asyncio.ensure_future(run.signal(Noted.note, "hi"))

        def signalled() -> bool:
            return any(isinstance(e, SignalReceived) for e in client.store.read(run.run_id or ""))

        # The signal cannot be written while the gate holds the worker's commit. Give a
        # signal that did not wait the time to land (half a second of looks): the
        # assertions hold however long this takes; they only catch a signal that lands.
        for _ in range(100):
            if sending.done() or signalled():
                break
            await asyncio.sleep(0.005)
        assert not sending.done()
        assert not signalled()
        gate.open()
        await bounded(sending)
        assert await bounded(run.result()) == ["HELD", "hi"]
        await let_go(ballast)
    assert pipeline.LIVE == ["resumed"]
    check_history(client.store, run.run_id or "")


async def test_shutdown_waits_for_the_commit_in_flight_and_settles_it(
        gated: tuple[Client, GatedCommits]) -> None:
    client, gate = gated
    pipeline.reset("ballast")
    w = worker(client)
    async with w:
        ballast = await hold_an_activity(client)
        run = await client.start_workflow(OneStep.run, "only", id="s", task_queue=QUEUE)
        gate.arm(outcome_of(run.run_id or ""))
        await wait_until(gate.entered.is_set)
        pipeline.release("ballast")  # it ends while the worker stops
        stopping = asyncio.ensure_future(w.shutdown())
        for _ in range(20):
            await asyncio.sleep(0)
        assert not stopping.done()  # it cannot return while the commit is in flight
        gate.open()
        await bounded(stopping)
    # the commit was written and told: the run ended with the outcome it carried
    assert await bounded(run.result()) == "ONLY"
    check_history(client.store, run.run_id or "")
    assert ballast.run_id is not None
    check_history(client.store, ballast.run_id)


async def test_a_commit_is_written_on_the_loop_thread_only_with_no_activity_in_flight(
        gated: tuple[Client, GatedCommits]) -> None:
    client, gate = gated
    pipeline.reset("ballast")
    loop_thread = threading.get_ident()
    async with worker(client):
        alone = await client.start_workflow(OneStep.run, "alone", id="a", task_queue=QUEUE)
        assert await bounded(alone.result()) == "ALONE"
        ballast = await hold_an_activity(client)
        beside = await client.start_workflow(OneStep.run, "beside", id="b", task_queue=QUEUE)
        assert await bounded(beside.result()) == "BESIDE"
        await let_go(ballast)

    def writers(run_id: str | None) -> set[bool]:
        """For each commit recording an outcome of the run: was it the loop's thread?"""
        pick = outcome_of(run_id or "")
        return {ident == loop_thread for ident, batches in gate.threads if pick(batches)}

    assert writers(alone.run_id) == {True}
    assert writers(beside.run_id) == {False}


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
async def test_an_activity_ending_during_a_graceful_shutdown_is_recorded(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    client = Client(make_store(kind, tmp_path, request))
    pipeline.reset("late")
    try:
        w = worker(client, graceful_shutdown_timeout=timedelta(seconds=30))
        async with w:
            run = await client.start_workflow(OneStep.run, "late", id="g", task_queue=QUEUE)
            await wait_until(lambda: "late:start" in pipeline.TRACKED)
            stopping = asyncio.ensure_future(w.shutdown())
            await asyncio.sleep(0)  # shutdown began: the worker takes no new work
            pipeline.release("late")
            await bounded(stopping)
        # recorded by the stopping worker, not left to run again when its lease ends
        assert completed(client.store, run.run_id or "") == 1
        assert pipeline.TRACKED.count("late:start") == 1
        async with worker(client):  # the run goes on from its recorded outcome
            assert await bounded(run.result()) == "LATE"
        assert pipeline.TRACKED.count("late:start") == 1
    finally:
        client.close()


@pytest.mark.parametrize("given", [0, -1, 2.5, True, "4"])
def test_a_worker_needs_at_least_one_store_thread(given: Any, tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "replay.db")
    client = Client(store)
    try:
        with pytest.raises(StoreCallLimitError) as caught:
            worker(client, max_concurrent_store_calls=given)
        assert caught.value.code == "RPL-W30"
        assert f"max_concurrent_store_calls={given!r}" in str(caught.value)
        assert "at least one thread" in str(caught.value)
        assert store.registered_workflows() == []  # nothing was started or written
    finally:
        client.close()


# --- the pipeline itself ----------------------------------------------------------------


class Told:
    """What each batch's callbacks were told, and on which thread."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str, str]] = []

    def pending(self, run_id: str, ops: list[Operation]) -> Pending:
        def ok(events: list[Event]) -> None:
            self.log.append((run_id, "succeeded", threading.current_thread().name))

        def failed(exc: ReplayError) -> None:
            self.log.append((run_id, type(exc).__name__, threading.current_thread().name))
        return Pending(run_id, ops, ok, failed)


def _signal(run_id: str) -> Deliver:
    return Deliver(run_id, signal())


def _start(run_id: str) -> list[Operation]:
    return [Start(run_id, started(workflow_id=run_id))]


async def test_a_failed_batch_is_told_to_its_run_only_and_only_once_written(
        tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "replay.db")
    gate = GatedCommits(store)
    try:
        for run_id in ("x", "y"):
            store.commit(_start(run_id))
        told = Told()
        pipe = CommitPipeline(store, inline=False)
        stale = Append("x", [_signal("x").event], 99)  # x is at event 1: a conflict
        gate.arm(lambda batches: True)
        pipe.submit([told.pending("x", [stale]), told.pending("y", [_signal("y")])],
                    T0)
        await wait_until(gate.entered.is_set)
        assert pipe.busy and told.log == []  # nothing is told while the commit is in flight
        gate.open()
        written = await bounded(pipe.settle())
        assert written is not None and not written.first_try
        loop_thread = threading.current_thread().name
        assert told.log == [("x", AppendConflictError.__name__, loop_thread),
                            ("y", "succeeded", loop_thread)]
        assert store.last_event_id("x") == 1 and store.last_event_id("y") == 2
        assert not pipe.busy and await pipe.settle() is None
        pipe.close()
    finally:
        store.close()


async def test_one_commit_in_flight_at_a_time(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "replay.db")
    gate = GatedCommits(store)
    try:
        store.commit(_start("x"))
        told = Told()
        pipe = CommitPipeline(store, inline=False)
        gate.arm(lambda batches: True)
        pipe.submit([told.pending("x", [_signal("x")])], T0)
        await wait_until(gate.entered.is_set)
        with pytest.raises(InternalError, match="in flight"):
            pipe.submit([told.pending("x", [_signal("x")])], T0)
        gate.open()
        await bounded(pipe.settle())
        pipe.submit([told.pending("x", [_signal("x")])], T0)
        await bounded(pipe.settle())
        assert [e.event_id for e in store.read("x")] == [1, 2, 3]
        assert [what for _, what, _ in told.log] == ["succeeded", "succeeded"]
        pipe.close()
    finally:
        store.close()


async def test_a_store_fault_gives_the_work_back_then_is_raised(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "replay.db")
    try:
        store.commit(_start("x"))

        def unavailable(batches: Batches) -> list[list[Event] | ReplayError]:
            raise StoreUnavailableError("the disk is full", path=str(tmp_path))
        setattr(store, "commit_each", unavailable)  # noqa: B010
        told = Told()
        given_back: list[str] = []
        pipe = CommitPipeline(store, inline=False)
        pipe.submit([told.pending("x", [_signal("x")])], T0,
                    lambda: given_back.append("x"))
        with pytest.raises(StoreUnavailableError):
            await bounded(pipe.settle())
        assert given_back == ["x"] and told.log == [] and not pipe.busy
        assert store.last_event_id("x") == 1  # nothing was written
        pipe.close()
    finally:
        store.close()


async def test_a_commit_whose_waiter_is_cancelled_is_told_by_the_next_settle(
        tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "replay.db")
    gate = GatedCommits(store)
    try:
        store.commit(_start("x"))
        told = Told()
        pipe = CommitPipeline(store, inline=False)
        gate.arm(lambda batches: True)
        pipe.submit([told.pending("x", [_signal("x")])], T0)
        await wait_until(gate.entered.is_set)
        waiter = asyncio.ensure_future(pipe.settle())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert pipe.busy and told.log == []
        gate.open()
        assert await bounded(pipe.settle()) is not None
        assert [what for _, what, _ in told.log] == ["succeeded"]
        pipe.close()
    finally:
        store.close()


async def test_an_in_memory_store_commits_inline() -> None:
    store = MemoryStore()
    store.commit(_start("x"))
    told = Told()
    pipe = CommitPipeline(store, inline=True)
    pipe.submit([told.pending("x", [_signal("x")])], T0)
    assert store.last_event_id("x") == 2 and told.log == []  # written, not yet told
    assert await pipe.settle() is not None
    assert told.log == [("x", "succeeded", threading.current_thread().name)]
