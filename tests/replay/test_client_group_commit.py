"""A client's starts and signals asked for at once are written in one store transaction
(group commit, replay/_client/_commit_queue.py), each succeeding or failing on its own.

The store's ``commit``/``commit_each`` are wrapped to count the transactions asked of
it. On a store written in threads, the first commit is held (a gate the test opens)
until every other start waits for it, so the grouping is a fact, not a race's outcome;
on the in-memory store the grouping is the event-loop turn's, deterministic as it is.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Sequence
from pathlib import Path
from typing import Any

import pytest

from replay.client import Client, WorkflowAlreadyStartedError, WorkflowHandle
from replay.history import Event, Operation, ReplayError, Start, Store, WorkflowStarted
from replay.worker import Worker

from .workers.harness import bounded, wait_until
from .workers.stores import STORE_KINDS, make_store
from .workflows.grouped import Collects, Doubles

QUEUE = "grouped"
N = 12

Batches = Sequence[Sequence[Operation]]


class CountedCommits:
    """Counts the write transactions a store is asked for (``commit`` and ``commit_each``
    called from outside the store; one calling the other inside is one), and can hold the
    next one in its thread until :meth:`open` (``entered`` is set once it waits)."""

    def __init__(self, store: Store) -> None:
        self._commit = store.commit
        self._commit_each = store.commit_each
        setattr(store, "commit", self._one)  # noqa: B010 (methods replaced on purpose)
        setattr(store, "commit_each", self._each)  # noqa: B010
        self._inside = threading.local()
        self._held = False
        self.entered = threading.Event()
        self._open = threading.Event()
        self.transactions: list[Batches] = []
        """The batches of every transaction asked for, in order."""

    def hold_next(self) -> None:
        self._held = True
        self.entered.clear()
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    def _enter(self, batches: Batches) -> bool:
        if getattr(self._inside, "depth", 0):
            return False
        self.transactions.append(batches)
        if self._held:
            self._held = False
            self.entered.set()
            assert self._open.wait(60), "the test never opened the gate"
        return True

    def _one(self, ops: Sequence[Operation]) -> list[Event]:
        self._enter([ops])
        self._inside.depth = getattr(self._inside, "depth", 0) + 1
        try:
            return self._commit(ops)
        finally:
            self._inside.depth -= 1

    def _each(self, batches: Batches) -> list[list[Event] | ReplayError]:
        self._enter(batches)
        self._inside.depth = getattr(self._inside, "depth", 0) + 1
        try:
            return self._commit_each(batches)
        finally:
            self._inside.depth -= 1


@pytest.fixture(params=STORE_KINDS)
async def counted(request: pytest.FixtureRequest, tmp_path: Path
                  ) -> AsyncIterator[tuple[Client, CountedCommits]]:
    store = make_store(str(request.param), tmp_path, request)
    counter = CountedCommits(store)
    client = Client(store)
    try:
        yield client, counter
    finally:
        counter.open()
        client.close()


async def together(client: Client, counter: CountedCommits,
                   calls: Sequence[Coroutine[Any, Any, Any]]) -> list[Any]:
    """``asyncio.gather(*calls, return_exceptions=True)``, every call's commit asked for
    while the first transaction is being written (on a store written in threads, that
    one is held until each call's commit is in it or waits for it)."""
    threaded = not client.store_calls.inline
    before = len(counter.transactions)
    if threaded:
        counter.hold_next()
    gathered = asyncio.ensure_future(asyncio.gather(*calls, return_exceptions=True))
    if threaded:
        await wait_until(counter.entered.is_set)
        await wait_until(lambda: len(counter.transactions[before]) + client.commits.waiting
                         == len(calls))
        counter.open()
    return await bounded(gathered)


def grouped(client: Client, counter: CountedCommits, calls: int) -> None:
    """The ``calls`` commits were written in at most two transactions: the first (alone,
    or with those asked for before its thread took them) and one group of all the others
    (on the in-memory store, exactly the first alone and the others together)."""
    sizes = [len(t) for t in counter.transactions]
    assert sum(sizes) == calls and len(sizes) <= 2, sizes
    if client.store_calls.inline:
        assert sizes == [1, calls - 1]


def runs_of(store: Store, workflow_id: str) -> list[str]:
    return [r.run_id for r in store.list_runs(workflow_id=workflow_id)]


def worker(client: Client) -> Worker:
    return Worker(client, task_queue=QUEUE, workflows=[Doubles, Collects])


async def test_starts_asked_for_together_are_written_in_two_transactions(
        counted: tuple[Client, CountedCommits]) -> None:
    client, counter = counted
    handles = await together(client, counter, [
        client.start_workflow(Doubles.run, i, id=f"d{i}", task_queue=QUEUE)
        for i in range(N)])
    grouped(client, counter, N)
    assert all(isinstance(h, WorkflowHandle) for h in handles)
    for i, h in enumerate(handles):  # each handle is its own run, with its own argument
        assert h.id == f"d{i}"
        assert runs_of(client.store, f"d{i}") == [h.run_id]
        started = client.store.read(h.run_id or "")[0]
        assert isinstance(started, WorkflowStarted) and started.args == [i]
    async with worker(client):
        results = await bounded(asyncio.gather(*(h.result() for h in handles)))
    assert results == [2 * i for i in range(N)]


async def test_a_lone_start_is_one_plain_commit(
        counted: tuple[Client, CountedCommits]) -> None:
    client, counter = counted
    for i in range(3):  # one after another: each is written alone, at once
        await client.start_workflow(Doubles.run, i, id=f"s{i}", task_queue=QUEUE)
    assert [len(t) for t in counter.transactions] == [1, 1, 1]
    assert client.commits.waiting == 0


async def test_a_conflicting_start_fails_alone_and_writes_nothing(
        counted: tuple[Client, CountedCommits]) -> None:
    client, counter = counted
    first = await client.start_workflow(Doubles.run, 0, id="taken", task_queue=QUEUE)
    ids = [f"n{i}" for i in range(N)]
    ids[N // 2] = "taken"
    counter.transactions.clear()
    outcomes = await together(client, counter, [
        client.start_workflow(Doubles.run, i, id=wid, task_queue=QUEUE)
        for i, wid in enumerate(ids)])
    grouped(client, counter, N)
    failed = outcomes[N // 2]
    assert isinstance(failed, WorkflowAlreadyStartedError)
    assert failed.workflow_id == "taken" and failed.run_id == first.run_id
    assert str(failed) == (f"[RPL-C02] cannot start workflow 'taken' (Doubles): run "
                           f"{first.run_id!r} is still open. Nothing was written.")
    # nothing of it was written: the id still has its one run, with its one event
    assert runs_of(client.store, "taken") == [first.run_id]
    assert first.run_id is not None and len(client.store.read(first.run_id)) == 1
    # every other start was written
    started = [o for o in outcomes if isinstance(o, WorkflowHandle)]
    assert len(started) == N - 1
    for h in started:
        assert runs_of(client.store, h.id) == [h.run_id]
    async with worker(client):
        results = await bounded(asyncio.gather(*(h.result() for h in started)))
    assert results == [2 * i for i in range(N) if i != N // 2]


async def test_two_starts_of_one_new_id_in_a_group_start_it_once(
        counted: tuple[Client, CountedCommits]) -> None:
    client, counter = counted
    ids = ["lead", "same", "other", "same"]
    outcomes = await together(client, counter, [
        client.start_workflow(Doubles.run, i, id=wid, task_queue=QUEUE)
        for i, wid in enumerate(ids)])
    grouped(client, counter, 4)
    same = [o for o, wid in zip(outcomes, ids, strict=True) if wid == "same"]
    won = [o for o in same if isinstance(o, WorkflowHandle)]
    lost = [o for o in same if isinstance(o, WorkflowAlreadyStartedError)]
    assert len(won) == 1 and len(lost) == 1
    assert lost[0].run_id == won[0].run_id
    assert runs_of(client.store, "same") == [won[0].run_id]
    assert all(isinstance(outcomes[i], WorkflowHandle) for i in (0, 2))


async def test_signals_sent_together_are_written_in_two_transactions(
        counted: tuple[Client, CountedCommits]) -> None:
    client, counter = counted
    handles = [await client.start_workflow(Collects.run, 1, id=f"c{i}", task_queue=QUEUE)
               for i in range(N)]
    counter.transactions.clear()
    outcomes = await together(client, counter, [
        h.signal(Collects.add, f"v{i}") for i, h in enumerate(handles)])
    assert outcomes == [None] * N
    grouped(client, counter, N)
    async with worker(client):
        results = await bounded(asyncio.gather(*(h.result() for h in handles)))
    assert results == [[f"v{i}"] for i in range(N)]


async def test_eager_starts_asked_for_together_each_run_their_first_task(
        counted: tuple[Client, CountedCommits]) -> None:
    client, _ = counted
    async with worker(client):
        handles = await bounded(asyncio.gather(*(
            client.start_workflow(Doubles.run, i, id=f"e{i}", task_queue=QUEUE,
                                  request_eager_start=True) for i in range(N))))
        # each start ran its run's first task before it returned: the run has ended
        for h in handles:
            info = client.store.get_run(h.run_id or "")
            assert info is not None and info.status == "completed"
        assert await bounded(asyncio.gather(*(h.result() for h in handles))) == \
            [2 * i for i in range(N)]


def _starts(batches: Batches) -> list[str]:
    return [op.started.workflow_id for ops in batches for op in ops if isinstance(op, Start)]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_a_cancelled_caller_neither_loses_nor_repeats_a_start(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    store = make_store(kind, tmp_path, request)
    counter = CountedCommits(store)
    client = Client(store)
    try:
        counter.hold_next()
        a = asyncio.ensure_future(client.start_workflow(Doubles.run, 1, id="a",
                                                        task_queue=QUEUE))
        await wait_until(counter.entered.is_set)  # a's commit is being written
        b = asyncio.ensure_future(client.start_workflow(Doubles.run, 2, id="b",
                                                        task_queue=QUEUE))
        d = asyncio.ensure_future(client.start_workflow(Doubles.run, 3, id="d",
                                                        task_queue=QUEUE))
        await wait_until(lambda: client.commits.waiting == 2)
        a.cancel()  # taken: it is written whatever its caller does
        b.cancel()  # not yet taken: it is dropped, as a store call not yet begun is
        counter.open()
        handle_d = await bounded(d)
        for cancelled in (a, b):
            with pytest.raises(asyncio.CancelledError):
                await cancelled
        assert [_starts(t) for t in counter.transactions] == [["a"], ["d"]]
        (run_a,) = runs_of(client.store, "a")  # written once
        assert runs_of(client.store, "b") == []
        assert runs_of(client.store, "d") == [handle_d.run_id]
        with pytest.raises(WorkflowAlreadyStartedError):  # not written again
            await client.start_workflow(Doubles.run, 1, id="a", task_queue=QUEUE)
        async with worker(client):
            assert await bounded(client.get_workflow_handle("a").result()) == 2
            assert await bounded(handle_d.result()) == 6
        assert runs_of(client.store, "a") == [run_a]
    finally:
        counter.open()
        client.close()


async def test_a_cancelled_caller_in_memory_neither_loses_nor_repeats_a_start(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    client = Client(make_store("memory", tmp_path, request))
    counter = CountedCommits(client.store)
    try:
        # asyncio runs these four in one turn, in order, before the end of the turn that
        # a's inline commit holds: b and d wait for it, and the last one cancels b then
        a = asyncio.ensure_future(client.start_workflow(Doubles.run, 1, id="a",
                                                        task_queue=QUEUE))
        b = asyncio.ensure_future(client.start_workflow(Doubles.run, 2, id="b",
                                                        task_queue=QUEUE))
        d = asyncio.ensure_future(client.start_workflow(Doubles.run, 3, id="d",
                                                        task_queue=QUEUE))

        async def cancel_b() -> int:
            waiting = client.commits.waiting
            b.cancel()
            return waiting

        assert await asyncio.ensure_future(cancel_b()) == 2
        handle_a, handle_d = await bounded(a), await bounded(d)
        with pytest.raises(asyncio.CancelledError):
            await b
        assert [_starts(t) for t in counter.transactions] == [["a"], ["d"]]
        assert runs_of(client.store, "a") == [handle_a.run_id]
        assert runs_of(client.store, "b") == []
        assert runs_of(client.store, "d") == [handle_d.run_id]
    finally:
        client.close()
