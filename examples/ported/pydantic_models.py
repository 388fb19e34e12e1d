"""The pydantic data converter: pydantic models as workflow and activity arguments and
results, also inside lists and Optional.

Written for the familiar SDK; docs/migrating.md says what to change to run it here.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

TASK_QUEUE = "invoices"


class Line(BaseModel):
    description: str
    price: Decimal


class Invoice(BaseModel):
    customer: str
    issued: datetime
    lines: list[Line]
    discount: Decimal | None = None


class Total(BaseModel):
    customer: str
    net: Decimal
    lines: int


@activity.defn
async def add_up(lines: list[Line], discount: Decimal | None) -> Decimal:
    total = sum((line.price for line in lines), Decimal(0))
    return total - (discount or Decimal(0))


@workflow.defn
class InvoiceWorkflow:
    @workflow.run
    async def run(self, invoice: Invoice) -> Total:
        net = await workflow.execute_activity(
            add_up, args=[invoice.lines, invoice.discount],
            start_to_close_timeout=timedelta(seconds=5))
        return Total(customer=invoice.customer, net=net, lines=len(invoice.lines))


async def main() -> None:
    client = await Client.connect("localhost:7233", data_converter=pydantic_data_converter)
    async with Worker(client, task_queue=TASK_QUEUE, workflows=[InvoiceWorkflow],
                      activities=[add_up]):
        invoice = Invoice(customer="Ada", issued=datetime(2024, 3, 1, tzinfo=UTC),
                          lines=[Line(description="pen", price=Decimal("1.25")),
                                 Line(description="ink", price=Decimal("3.50"))],
                          discount=Decimal("0.75"))
        total = await client.execute_workflow(InvoiceWorkflow.run, invoice, id="invoice-1",
                                              task_queue=TASK_QUEUE)
        print(type(total).__name__, total.customer, total.net, total.lines)


if __name__ == "__main__":
    asyncio.run(main())
