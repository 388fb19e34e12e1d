"""Workflows that set, read and hand on search attributes (test_search_attributes.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from replay import workflow
from replay.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

CUSTOMER = SearchAttributeKey.for_keyword("Customer")
AMOUNT = SearchAttributeKey.for_int("Amount")
PRIORITY = SearchAttributeKey.for_float("Priority")
URGENT = SearchAttributeKey.for_bool("Urgent")
DUE = SearchAttributeKey.for_datetime("Due")
TAGS = SearchAttributeKey.for_keyword_list("Tags")
NOTE = SearchAttributeKey.for_text("Note")
STAGE = SearchAttributeKey.for_keyword("Stage")


def seen(attributes: TypedSearchAttributes) -> dict[str, Any]:
    """Name -> value, for comparing in tests."""
    return {pair.key.name: pair.value for pair in attributes}


@workflow.defn
class Tagged:
    """Reads its start attributes, upserts some (one removed), waits, reads them again."""

    def __init__(self) -> None:
        self.release = False

    @workflow.signal
    def go(self) -> None:
        self.release = True

    @workflow.query
    def attributes(self) -> dict[str, Any]:
        return {k: str(v) for k, v in seen(workflow.info().typed_search_attributes).items()}

    @workflow.run
    async def run(self) -> list[dict[str, str]]:
        before = {k: str(v) for k, v in seen(workflow.info().typed_search_attributes).items()}
        workflow.upsert_search_attributes([
            STAGE.value_set("packing"), AMOUNT.value_set(250), NOTE.value_unset(),
            TAGS.value_set(["gift", "fragile"]),
            DUE.value_set(datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))])
        middle = {k: str(v) for k, v in seen(workflow.info().typed_search_attributes).items()}
        await workflow.wait_condition(lambda: self.release)
        workflow.upsert_search_attributes([STAGE.value_set("shipped")])
        return [before, middle]


@workflow.defn
class UpsertsOtherwise:
    """Tagged's first step with another value: its replay of a Tagged history diverges."""

    @workflow.run
    async def run(self) -> None:
        workflow.upsert_search_attributes([STAGE.value_set("unpacking")])


@workflow.defn
class BadUpsert:
    """Upserts a string into an Int attribute: a bug in workflow code."""

    @workflow.run
    async def run(self) -> None:
        workflow.upsert_search_attributes([AMOUNT.value_set("a lot")])  # type: ignore[arg-type]


@workflow.defn
class Child:
    @workflow.run
    async def run(self) -> dict[str, str]:
        return {k: str(v) for k, v in seen(workflow.info().typed_search_attributes).items()}


@workflow.defn
class Parent:
    """Starts a child with its own attributes (nothing is inherited)."""

    @workflow.run
    async def run(self) -> dict[str, str]:
        result: dict[str, str] = await workflow.execute_child_workflow(
            Child.run, id="child-of-parent",
            search_attributes=TypedSearchAttributes([SearchAttributePair(CUSTOMER, "kid")]))
        return result


@workflow.defn
class Rolling:
    """Continues as new twice: the first time keeping its attributes, then replacing them."""

    @workflow.run
    async def run(self, round: int) -> dict[str, str]:
        if round == 0:
            workflow.upsert_search_attributes([AMOUNT.value_set(1)])
            workflow.continue_as_new(1)
        if round == 1:
            workflow.continue_as_new(2, search_attributes=TypedSearchAttributes(
                [SearchAttributePair(STAGE, "final")]))
        return {k: str(v) for k, v in seen(workflow.info().typed_search_attributes).items()}
