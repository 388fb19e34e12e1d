"""replay.contrib.pydantic: models as arguments, results, signal/update/query arguments
and answers, inside lists, dicts and Optional, through a real worker and a replay of the
recorded history; a clear error when pydantic is missing."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from replay.client import Client
from replay.contrib.pydantic import PydanticPayloadConverter, pydantic_data_converter
from replay.converter import DataConverter
from replay.exceptions import PayloadError, WorkflowUpdateFailedError
from replay.worker import Replayer, Worker

from .workers.harness import bounded
from .workflows.pydantic_models import (
    QUEUE,
    Address,
    Customer,
    Item,
    Order,
    PydanticOrderWorkflow,
    Receipt,
    price_items,
)

ROOT = Path(__file__).resolve().parent.parent.parent


def _order() -> Order:
    customer = Customer(name="Ada", since=datetime(2020, 5, 1, 12, tzinfo=UTC),
                        address=Address(street="1 Loop", city="Turin"))
    return Order(customer=customer, items=[Item(sku="pen", price=Decimal("1.50"), tags={"b", "a"}),
                                           Item(sku="ink", price=Decimal("2.25"))])


async def test_models_travel_through_a_worker_and_the_history_replays(tmp_path: Path) -> None:
    client = await Client.connect(f"sqlite:///{tmp_path / 'p.db'}",
                                  data_converter=pydantic_data_converter)
    try:
        async with Worker(client, task_queue=QUEUE, workflows=[PydanticOrderWorkflow],
                          activities=[price_items]):
            handle = await client.start_workflow(PydanticOrderWorkflow.run, _order(),
                                                 id="order-1", task_queue=QUEUE)
            added = await bounded(handle.execute_update(
                PydanticOrderWorkflow.add, [Item(sku="bag", price=Decimal("3"))]))
            assert added == [Item(sku="bag", price=Decimal("3"))]
            with pytest.raises(WorkflowUpdateFailedError):
                await bounded(handle.execute_update(
                    PydanticOrderWorkflow.add, [Item(sku="x", price=Decimal("-1"))]))
            extras = await bounded(handle.query(PydanticOrderWorkflow.extras))
            assert extras == {"bag": Item(sku="bag", price=Decimal("3"))}
            assert await bounded(handle.query(
                PydanticOrderWorkflow.has, args=[Item(sku="bag", price=Decimal("0")),
                                                 Address(street="s", city="c")]))
            await handle.signal(PydanticOrderWorkflow.gift, Address(street="2 St", city="Oslo"))
            await handle.signal(PydanticOrderWorkflow.finish)
            receipt = await bounded(handle.result())
        assert isinstance(receipt, Receipt)
        assert receipt.total == Decimal("6.75")
        assert receipt.by_sku["pen"].tags == {"a", "b"}
        assert receipt.customer == _order().customer
        assert receipt.gift_to == Address(street="2 St", city="Oslo")
        history = await handle.fetch_history()
    finally:
        client.close()

    replayer = Replayer(workflows=[PydanticOrderWorkflow],
                        data_converter=pydantic_data_converter, strict_result=True)
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None and result.status == "completed"
    assert result.result["total"] == "6.75"  # the recorded JSON form, pydantic's own


def test_models_inside_containers_round_trip_by_the_hint() -> None:
    conv = pydantic_data_converter.payload_converter
    assert isinstance(conv, PydanticPayloadConverter)
    items = [Item(sku="a", price=Decimal("1"))]
    assert conv.from_payload(conv.to_payload(items), list[Item]) == items
    nested = {"k": [Address(street="s", city="c")]}
    assert conv.from_payload(conv.to_payload(nested), dict[str, list[Address]]) == nested
    assert conv.from_payload(conv.to_payload(None), Address | None) is None
    assert conv.from_payload(conv.to_payload(b"raw"), bytes) == b"raw"  # binary/plain still
    with pytest.raises(PayloadError, match=r"RPL-P01.*cannot decode payload as Item"):
        conv.from_payload({"sku": "a"}, Item)
    with pytest.raises(PayloadError, match=r"RPL-P01.*pydantic cannot serialize"):
        conv.to_payload(object())
    assert isinstance(pydantic_data_converter, DataConverter)


def test_a_missing_pydantic_names_the_extra() -> None:
    code = ("import sys; sys.modules['pydantic'] = None\n"
            "try:\n    import replay.contrib.pydantic\n"
            "except ImportError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True, timeout=60)
    assert "pip install 'replay-engine[pydantic]'" in out.stdout
    assert "needs pydantic" in out.stdout
