"""Search attributes end to end: typed keys at start, upserts recorded and replayed,
workflow.info() kept current, describe(), list/count queries, children, continue-as-new,
and bad values refused with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from replay.client import Client, WorkflowExecutionStatus
from replay.common import (
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)
from replay.exceptions import (
    ListQueryAttributeError,
    ListQueryError,
    NondeterminismError,
    SearchAttributeError,
)
from replay.history import History, SearchAttributesUpserted, WorkflowStarted
from replay.worker import Replayer

from .workers.harness import QUEUE, bounded, running, sqlite_client, wait_until
from .workflows.search_attrs import (
    AMOUNT,
    CUSTOMER,
    DUE,
    NOTE,
    PRIORITY,
    STAGE,
    TAGS,
    URGENT,
    BadUpsert,
    Child,
    Parent,
    Rolling,
    Tagged,
    UpsertsOtherwise,
    seen,
)

WORKFLOWS = [Tagged, BadUpsert, Child, Parent, Rolling]
START = TypedSearchAttributes([
    SearchAttributePair(CUSTOMER, "acme"), SearchAttributePair(NOTE, "call first"),
    SearchAttributePair(PRIORITY, 0.5), SearchAttributePair(URGENT, True)])


def snapshot(client: Client) -> tuple[int, list[Any]]:
    runs = client.store.list_runs()
    return len(runs), [(r.run_id, client.store.read(r.run_id)) for r in
                       sorted(runs, key=lambda r: r.run_id)]


def test_keys_pairs_and_updates_follow_the_familiar_shape() -> None:
    typed = TypedSearchAttributes([SearchAttributePair(CUSTOMER, "acme")])
    contains = typed.__contains__
    assert typed[CUSTOMER] == "acme" and contains(CUSTOMER) and not contains(AMOUNT)
    assert typed.get(AMOUNT) is None and typed.get(AMOUNT, 7) == 7
    with pytest.raises(KeyError):
        typed[AMOUNT]
    more = typed.updated(SearchAttributePair(CUSTOMER, "globex"), SearchAttributePair(AMOUNT, 3))
    assert seen(more) == {"Customer": "globex", "Amount": 3} and seen(typed) == {
        "Customer": "acme"}
    assert len(TypedSearchAttributes.empty) == 0
    assert CUSTOMER.value_set("x") == SearchAttributeUpdate(CUSTOMER, "x")
    assert CUSTOMER.value_unset().value is None
    assert TAGS.type_name == "KeywordList" and PRIORITY.type_name == "Float"
    with pytest.raises(ValueError, match="appears twice"):
        TypedSearchAttributes([SearchAttributePair(CUSTOMER, "a"),
                               SearchAttributePair(CUSTOMER, "b")])
    with pytest.raises(SearchAttributeError) as info:
        SearchAttributeKey.for_keyword("WorkflowId")
    assert str(info.value) == (
        "[RPL-SA01] search attribute 'WorkflowId': WorkflowId is a built-in attribute that "
        "every run has; it cannot be set. Choose another name. Nothing was written.")
    with pytest.raises(SearchAttributeError, match="letters, digits and underscores"):
        SearchAttributeKey.for_int("order-total")


def packing(client: Client) -> int:
    """How many runs have Stage 'packing' (none while no run has upserted Stage yet: the
    store then refuses the unknown attribute)."""
    try:
        return client.store.count_query("Stage = 'packing'")
    except ListQueryAttributeError:
        return 0


async def test_attributes_from_start_and_upserts_reach_info_describe_and_queries(
        tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client, workflows=WORKFLOWS):
        handle = await client.start_workflow(Tagged.run, id="order-1", task_queue=QUEUE,
                                             search_attributes=START)
        await client.start_workflow(Tagged.run, id="order-2", task_queue=QUEUE,
                                    search_attributes=TypedSearchAttributes(
                                        [SearchAttributePair(CUSTOMER, "globex")]))
        await wait_until(lambda: packing(client) == 2)
        described = await handle.describe()
        assert seen(described.typed_search_attributes) == {
            "Customer": "acme", "Priority": 0.5, "Urgent": True, "Stage": "packing",
            "Amount": 250, "Tags": ["gift", "fragile"],
            "Due": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)}
        assert described.search_attributes["Tags"] == ["gift", "fragile"]
        assert described.search_attributes["Amount"] == [250]
        assert await handle.query(Tagged.attributes) == {
            k: str(v) for k, v in seen(described.typed_search_attributes).items()}
        await handle.signal(Tagged.go)
        before, middle = await bounded(handle.result())
    assert before == {"Customer": "acme", "Note": "call first", "Priority": "0.5",
                      "Urgent": "True"}
    assert middle["Stage"] == "packing" and "Note" not in middle
    final = await handle.describe()
    assert final.status is WorkflowExecutionStatus.COMPLETED
    assert final.typed_search_attributes[STAGE] == "shipped"

    query = ("WorkflowType = 'Tagged' AND Customer = 'acme' AND Tags = 'gift' "
             "AND Amount BETWEEN 100 AND 300 AND Due > '2029-12-31'")
    listed = [w async for w in client.list_workflows(query)]
    assert [w.id for w in listed] == ["order-1"]
    assert listed[0].typed_search_attributes[STAGE] == "shipped"
    assert (await client.count_workflows("Stage = 'packing'")).count == 1
    assert (await client.count_workflows("Stage IN ('packing', 'shipped')")).count == 2
    histories = [h async for h in client.list_workflows("Customer = 'acme'").map_histories()]
    assert [h.workflow_id for h in histories] == ["order-1"]
    events = histories[0].events
    assert isinstance(events[0], WorkflowStarted)
    assert events[0].search_attributes["Customer"] == {"type": "Keyword", "value": "acme"}
    upserts = [e for e in events if isinstance(e, SearchAttributesUpserted)]
    assert upserts[0].search_attributes["Note"] is None
    assert upserts[0].search_attributes["Due"] == {
        "type": "Datetime", "value": "2030-01-02T03:04:05.000000+00:00"}
    # replay matches the recorded upserts; a different upsert diverges
    await Replayer(workflows=[Tagged]).replay_workflow(histories[0])
    with pytest.raises(NondeterminismError, match="SearchAttributesUpserted"):
        await Replayer(workflows=[UpsertsOtherwise]).replay_workflow(
            _retyped(histories[0], "UpsertsOtherwise"))
    client.close()


def _retyped(history: History, workflow_type: str) -> History:
    """The same history, as if a workflow of another type had written it."""
    started = history.events[0]
    assert isinstance(started, WorkflowStarted)
    first = attrs.evolve(started, workflow_type=workflow_type)
    return History(history.run_id, [first, *history.events[1:]])


async def test_a_value_of_the_wrong_type_is_refused_at_start_and_nothing_is_written(
        tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    before = snapshot(client)
    bad = TypedSearchAttributes([SearchAttributePair(AMOUNT, "12")])
    with pytest.raises(SearchAttributeError) as info:
        await client.start_workflow(Tagged.run, id="bad", task_queue=QUEUE,
                                    search_attributes=bad)
    assert str(info.value) == ("[RPL-SA01] search attribute 'Amount' (Int): expected an int, "
                               "got str '12'. Nothing was written.")
    naive = TypedSearchAttributes([SearchAttributePair(DUE, datetime(2030, 1, 1))])
    with pytest.raises(SearchAttributeError, match="'Due' \\(Datetime\\): a naive datetime"):
        await client.start_workflow(Tagged.run, id="bad", task_queue=QUEUE,
                                    search_attributes=naive)
    with pytest.raises(TypeError, match="TypedSearchAttributes"):
        await client.start_workflow(  # type: ignore[call-overload]
            Tagged.run, id="bad", task_queue=QUEUE, search_attributes={"Amount": [1]})
    assert snapshot(client) == before
    client.close()


async def test_a_bad_upsert_fails_the_workflow_task_and_records_nothing(
        tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client, workflows=WORKFLOWS):
        handle = await client.start_workflow(BadUpsert.run, id="bad-upsert", task_queue=QUEUE)
        await wait_until(lambda: client.local_workers.task_failure(
            handle.result_run_id or "") is not None)
        described = await handle.describe()
    assert described.status is WorkflowExecutionStatus.RUNNING
    assert described.task_failure is not None
    assert "search attribute 'Amount' (Int): expected an int" in described.task_failure.message
    assert [type(e).__name__ for e in await handle.fetch_history()] == [
        "WorkflowStarted", "WorkflowTaskFailed"]
    client.close()


async def test_children_get_their_own_and_continue_as_new_carries_or_replaces(
        tmp_path: Path) -> None:
    client = await sqlite_client(tmp_path)
    async with running(client, workflows=WORKFLOWS):
        parent = await client.start_workflow(Parent.run, id="parent", task_queue=QUEUE,
                                             search_attributes=TypedSearchAttributes(
                                                 [SearchAttributePair(CUSTOMER, "mum")]))
        assert await bounded(parent.result()) == {"Customer": "kid"}
        rolling = await client.start_workflow(Rolling.run, 0, id="rolling", task_queue=QUEUE,
                                              search_attributes=START)
        assert await bounded(rolling.result()) == {"Stage": "final"}
    runs = [w async for w in client.list_workflows("WorkflowId = 'rolling'")]
    assert [w.status for w in runs] == [WorkflowExecutionStatus.COMPLETED,
                                        WorkflowExecutionStatus.CONTINUED_AS_NEW,
                                        WorkflowExecutionStatus.CONTINUED_AS_NEW]
    assert seen(runs[1].typed_search_attributes) == {**seen(START), "Amount": 1}
    assert (await client.count_workflows(
        "WorkflowId = 'rolling' AND Amount = 1 AND ExecutionStatus = 'ContinuedAsNew'")
            ).count == 2
    child = [w async for w in client.list_workflows("Customer = 'kid'")]
    assert [w.id for w in child] == ["child-of-parent"]
    client.close()


async def test_malformed_and_unknown_queries_are_refused_with_the_position() -> None:
    client = await Client.connect("memory://")
    iterator = client.list_workflows("WorkflowType = 'X' AND (")  # raises when iterated
    with pytest.raises(ListQueryError) as info:
        [w async for w in iterator]
    assert str(info.value) == (
        "[RPL-SA02] invalid list query at position 25: expected an attribute name, NOT or "
        "'(', found the end of the query\n"
        "  WorkflowType = 'X' AND (\n"
        "                          ^\n"
        "See docs/list-queries.md for the language.")
    with pytest.raises(ListQueryAttributeError) as attr_info:
        await client.count_workflows("Customer = 'acme'")
    assert attr_info.value.position == 0
    assert "unknown attribute 'Customer'" in str(attr_info.value)
    with pytest.raises(TypeError, match="not both"):
        await client.count_workflows("WorkflowId = 'a'", status="running")
    assert (await client.count_workflows("ExecutionStatus = 'Running'")).count == 0
    assert [w async for w in client.list_workflows(None)] == []
    client.close()
