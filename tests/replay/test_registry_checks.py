"""Bad input refused before it is written, by a client without the workflow code.

A worker elsewhere registered its workflow types in the store (here: written
with ``register_worker`` as that worker would, under a type name no class of
this process declares, so the client cannot fall back on local code). Every
refusal's message is quoted, and the store is unchanged row for row (and, for
SQLite, byte for byte).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from fixtures.workload.samples import CounterWorkflow, echo
from replay.client import (
    ArgumentCountError,
    ArgumentTypeError,
    Client,
    UnknownHandlerError,
    WorkflowHandle,
    WorkflowTypeNotRegisteredError,
)
from replay.common import WorkflowIDReusePolicy
from replay.history import (
    HandlerSignature,
    MemoryStore,
    PostgresStore,
    SignalReceived,
    SqliteStore,
    Store,
    WorkflowSignature,
)
from replay.worker import Worker

from .workers.harness import bounded

AT = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)
SOURCE = ("as registered on task queue 'remote-q' by worker other-host:42 at "
          "2026-11-29T15:00:00+00:00")
REMOTE = WorkflowSignature(
    workflow_type="RemoteGreeter",
    run=HandlerSignature(name="run", min_args=1, max_args=2, arg_types=("str", "int")),
    signals=(HandlerSignature(name="add", min_args=1, max_args=1, arg_types=("str",)),
             HandlerSignature(name="rename", min_args=1, max_args=2,
                              arg_types=("str", "bool"))),
    queries=(HandlerSignature(name="count", min_args=0, max_args=0),),
    updates=(HandlerSignature(name="set_total", min_args=1, max_args=1, arg_types=("int",)),))
DYNAMIC = WorkflowSignature(
    workflow_type="Lenient", run=HandlerSignature(name="run", max_args=None),
    signals=(HandlerSignature(name=None, max_args=None),), runtime_handlers=("update",))


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite":
        made = SqliteStore(tmp_path / "replay.db")
    else:
        url = request.getfixturevalue("postgres_url")
        made = PostgresStore(url, schema=request.getfixturevalue("postgres_schemas")())
    made.register_worker("remote-q", "other-host:42", AT, [REMOTE, DYNAMIC], [])
    yield made
    made.close()


def snapshot(store: Store) -> Any:
    """Every row of the store (and a SQLite file's bytes, WAL included)."""
    dump: Any = getattr(store, "dump_indexes")()  # noqa: B009  # not in the Store protocol
    runs = {r.run_id: store.read(r.run_id) for r in store.list_runs()}
    files: list[bytes] = []
    if isinstance(store, SqliteStore):
        files = [p.read_bytes() for p in sorted(store.path.parent.glob("replay.db*"))]
    return dump, runs, store.registered_workflows(), files


@pytest.fixture
async def remote_run(store: Store) -> tuple[Client, WorkflowHandle[Any, Any]]:
    client = Client(store)
    handle = await client.start_workflow("RemoteGreeter", "Ada", id="g-1",
                                         task_queue="remote-q")
    return client, client.get_workflow_handle("g-1", run_id=handle.result_run_id)


async def refused(store: Store, call: Callable[[], Any], error: type[Exception]) -> str:
    before = snapshot(store)
    with pytest.raises(error) as caught:
        await bounded(call())
    assert snapshot(store) == before
    return str(caught.value)


async def test_an_unknown_signal_names_the_close_match(
        store: Store, remote_run: tuple[Client, WorkflowHandle[Any, Any]]) -> None:
    _, handle = remote_run
    message = await refused(store, lambda: handle.signal("ad", "Bob"), UnknownHandlerError)
    assert message == (
        f"[RPL-C09] workflow 'RemoteGreeter' has no signal named 'ad' ({SOURCE}; its signals: "
        "add, rename). Did you mean 'add'? Nothing was written.")


async def test_unknown_update_and_query_names_are_refused(
        store: Store, remote_run: tuple[Client, WorkflowHandle[Any, Any]]) -> None:
    _, handle = remote_run
    message = await refused(store, lambda: handle.execute_update("set_totl", 3),
                            UnknownHandlerError)
    assert message == (
        f"[RPL-C09] workflow 'RemoteGreeter' has no update named 'set_totl' ({SOURCE}; its "
        "updates: set_total). Did you mean 'set_total'? Nothing was written.")
    message = await refused(store, lambda: handle.query("cuont"), UnknownHandlerError)
    assert message == (
        f"[RPL-C09] workflow 'RemoteGreeter' has no query named 'cuont' ({SOURCE}; its "
        "queries: count). Did you mean 'count'? Nothing was written.")


async def test_wrong_argument_counts_are_refused(
        store: Store, remote_run: tuple[Client, WorkflowHandle[Any, Any]]) -> None:
    client, handle = remote_run
    message = await refused(store, lambda: handle.signal("add", args=["a", "b"]),
                            ArgumentCountError)
    assert message == (
        "[RPL-C10] signal 'add' of workflow 'RemoteGreeter' takes 1 argument(s) (str), got 2 "
        f"({SOURCE}). Nothing was written.")
    message = await refused(store, lambda: handle.signal("rename"), ArgumentCountError)
    assert "signal 'rename' of workflow 'RemoteGreeter' takes 1 to 2 argument(s)" in message
    message = await refused(
        store, lambda: client.start_workflow("RemoteGreeter", id="g-2", task_queue="remote-q"),
        ArgumentCountError)
    assert message == (
        "[RPL-C10] workflow 'RemoteGreeter' takes 1 to 2 argument(s) (str, int), got 0 "
        f"({SOURCE}). Nothing was written.")


async def test_an_argument_of_the_wrong_json_kind_is_refused(
        store: Store, remote_run: tuple[Client, WorkflowHandle[Any, Any]]) -> None:
    _, handle = remote_run
    message = await refused(store, lambda: handle.execute_update("set_total", "3"),
                            ArgumentTypeError)
    assert message == (
        "[RPL-C11] argument 0 of update 'set_total' of workflow 'RemoteGreeter' must be int, "
        f"got a string ({SOURCE}). Nothing was written.")
    message = await refused(store, lambda: handle.signal("rename", args=["x", 1]),
                            ArgumentTypeError)
    assert "argument 1 of signal 'rename' of workflow 'RemoteGreeter' must be bool, got a " \
        "number" in message


async def test_a_start_of_an_unregistered_type_names_matches_and_other_queues(
        store: Store) -> None:
    client = Client(store)
    store.register_worker("billing-q", "billing-host:7", AT,
                          [WorkflowSignature(workflow_type="Invoice",
                                             run=HandlerSignature(name="run"))], [])
    message = await refused(
        store, lambda: client.start_workflow("RemoteGreter", "Ada", id="g-3",
                                             task_queue="remote-q"),
        WorkflowTypeNotRegisteredError)
    assert message == (
        "[RPL-C12] no worker of task queue 'remote-q' hosts workflow type 'RemoteGreter' "
        "(registered there: Lenient, RemoteGreeter). Did you mean 'RemoteGreeter'? Nothing "
        "was written. Check the type and the task queue, or start a worker that hosts it.")
    message = await refused(
        store, lambda: client.start_workflow("Invoice", id="g-4", task_queue="remote-q"),
        WorkflowTypeNotRegisteredError)
    assert "It is registered on task queue(s) 'billing-q'." in message
    # a start that also signals is checked before anything is written, signal included
    message = await refused(
        store, lambda: client.start_workflow("RemoteGreeter", "Ada", id="g-5",
                                             task_queue="remote-q", start_signal="ad"),
        UnknownHandlerError)
    assert "has no signal named 'ad'" in message


async def test_what_the_registry_allows_goes_through(
        store: Store, remote_run: tuple[Client, WorkflowHandle[Any, Any]]) -> None:
    client, handle = remote_run
    await handle.signal("add", "Bob")
    await handle.signal("rename", "Bo")  # a parameter with a default may be left out
    lenient = await client.start_workflow("Lenient", args=[1, 2, 3], id="l-1",
                                          task_queue="remote-q")
    await lenient.signal("anything", args=[1, 2])  # a dynamic signal handler takes any
    # a task queue nothing registered on is not checked (as without the registry)
    await client.start_workflow("Unheard", id="u-1", task_queue="elsewhere",
                                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
    assert [e.signal_name for e in store.read(handle.result_run_id or "")
            if isinstance(e, SignalReceived)] == ["add", "rename"]


async def test_a_worker_registers_what_it_hosts(store: Store) -> None:
    client = Client(store)
    async with Worker(client, task_queue="local-q", workflows=[CounterWorkflow],
                      activities=[echo]) as worker:
        await bounded(_registered(store))
    [found] = store.registered_workflows("local-q")
    assert (found.worker, found.signature.workflow_type) == (worker.identity,
                                                             "CounterWorkflow")
    sig = found.signature
    assert sig.run == HandlerSignature(name="run", min_args=1, max_args=1, arg_types=("int",))
    assert [(h.name, h.min_args, h.max_args, h.arg_types) for h in sig.signals] == [
        ("add", 1, 1, ("int",)), ("finish", 0, 0, ())]
    assert [h.name for h in sig.updates] == ["set_total", "slow_set"]
    assert [a.signature.name for a in store.registered_activities("local-q")] == ["echo"]


async def _registered(store: Store) -> None:
    while not store.registered_workflows("local-q"):
        await asyncio.sleep(0.01)


async def test_a_handler_registered_a_moment_ago_is_not_refused(
        store: Store, remote_run: tuple[Client, WorkflowHandle[Any, Any]]) -> None:
    """The client keeps what it read of the registry for a while, but reads it again
    before refusing: a new worker version's handler is accepted at once."""
    _, handle = remote_run
    await handle.signal("add", "Bob")  # the client now holds the registry's view
    newer = attrs.evolve(REMOTE, signals=(*REMOTE.signals, HandlerSignature(
        name="greet", min_args=0, max_args=0)))
    store.register_worker("remote-q", "other-host:43", AT + timedelta(seconds=1), [newer], [])
    await handle.signal("greet")
    assert [e.signal_name for e in store.read(handle.run_id or "")
            if isinstance(e, SignalReceived)] == ["add", "greet"]
