"""Activities with retries: a flaky payment service retried by policy, a synchronous
activity on a thread pool, and a non-retryable error the workflow handles.

Written for the familiar SDK; docs/migrating.md says what to change to run it here.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

TASK_QUEUE = "payments"


@dataclass
class Charge:
    customer: str
    amount: int


@activity.defn
async def charge_card(charge: Charge) -> int:
    attempt = activity.info().attempt
    if charge.amount <= 0:
        raise ApplicationError("amount must be positive", non_retryable=True)
    if attempt < 3:
        raise RuntimeError(f"payment service unavailable (attempt {attempt})")
    return attempt


@activity.defn
def write_receipt(charge: Charge) -> str:
    return f"RECEIPT-{charge.customer.upper()}-{charge.amount}"


@workflow.defn
class PaymentWorkflow:
    @workflow.run
    async def run(self, charge: Charge) -> str:
        retry = RetryPolicy(initial_interval=timedelta(milliseconds=50),
                            backoff_coefficient=1.0, maximum_attempts=5)
        try:
            attempts = await workflow.execute_activity(
                charge_card, charge, start_to_close_timeout=timedelta(seconds=10),
                retry_policy=retry)
        except ActivityError as err:
            assert isinstance(err.cause, ApplicationError)
            return f"refused {charge.customer}: {err.cause.message}"
        receipt = await workflow.execute_activity(
            write_receipt, charge, start_to_close_timeout=timedelta(seconds=10))
        return f"charged {charge.amount} after {attempts} attempts: {receipt}"


async def main() -> None:
    client = await Client.connect("localhost:7233")
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(client, task_queue=TASK_QUEUE, workflows=[PaymentWorkflow],
                          activities=[charge_card, write_receipt],
                          activity_executor=executor):
            for i, charge in enumerate([Charge("ada", 42), Charge("bob", 0)]):
                result = await client.execute_workflow(
                    PaymentWorkflow.run, charge, id=f"payment-{i}", task_queue=TASK_QUEUE)
                print(result)


if __name__ == "__main__":
    asyncio.run(main())
