"""Richer sample workflows for the property tests: many inputs, many interleavings.

``OrderWorkflow`` takes items by signal and coupons and quantity changes by
update (both validated), waits for checkout with a timeout, charges with an
activity, and ships with retries bounded by timers. ``FanOutWorkflow`` runs
jobs concurrently, each bounded by ``wait_for``, with pause/resume updates
and a ticking timer. Both are written to survive any order of inputs: what
they do depends on the inputs, never on anything else.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from replay import workflow
from replay.exceptions import ActivityError, ApplicationError

T = timedelta(seconds=30)
COUPONS = {"TEN": 10, "HALF": 50}


@dataclass
class Item:
    sku: str
    qty: int
    price: int


@dataclass
class Summary:
    status: str
    total: int
    discount: int
    items: dict[str, int]
    log: list[str] = field(default_factory=list)


@workflow.defn
class OrderWorkflow:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.checked_out = False
        self.cancelled = False
        self.discount = 0
        self.status = "open"
        self.log: list[str] = []
        self.coupon_lock = asyncio.Lock()

    def total(self) -> int:
        gross = sum(i.qty * i.price for i in self.items.values())
        return gross - gross * self.discount // 100

    @workflow.run
    async def run(self, order_id: str) -> Summary:
        self.log.append(f"order {order_id} opened at {workflow.now().isoformat()}")
        try:
            await workflow.wait_condition(lambda: self.checked_out or self.cancelled,
                                          timeout=timedelta(hours=1))
        except TimeoutError:
            self.status = "abandoned"
            return self.summary()
        if self.cancelled:
            self.status = "cancelled"
            return self.summary()
        self.status = "charging"
        try:
            receipt = await workflow.execute_activity(
                "charge", self.total(), start_to_close_timeout=T)
        except ActivityError as err:
            self.status = "payment_failed"
            self.log.append(f"charge failed: {err.cause}")
            await workflow.wait_condition(workflow.all_handlers_finished)
            return self.summary()
        self.log.append(f"charged: {receipt}")
        self.status = "shipping"
        for attempt in range(3):
            try:
                tracking = await asyncio.wait_for(workflow.execute_activity(
                    "ship", order_id, start_to_close_timeout=T), 600)
            except (TimeoutError, ActivityError) as err:
                self.log.append(f"ship attempt {attempt}: {type(err).__name__}")
                await asyncio.sleep(60 * (attempt + 1))
                continue
            self.log.append(f"shipped: {tracking}")
            self.status = "shipped"
            break
        else:
            self.status = "ship_failed"
        workflow.emit(self.status)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.summary()

    @workflow.signal
    def add_item(self, item: Item) -> None:
        if self.checked_out or self.cancelled:
            self.log.append(f"ignored {item.sku}: order closed")
            return
        known = self.items.get(item.sku)
        if known:
            known.qty += item.qty
        else:
            self.items[item.sku] = item

    @workflow.signal
    def checkout(self) -> None:
        if self.items:
            self.checked_out = True

    @workflow.signal
    def cancel_order(self) -> None:
        if not self.checked_out:
            self.cancelled = True

    @workflow.update
    async def apply_coupon(self, code: str) -> int:
        async with self.coupon_lock:
            still_valid = await workflow.execute_activity(
                "check_coupon", code, start_to_close_timeout=T)
            if not still_valid:
                raise ApplicationError(f"coupon {code} expired")
            self.discount = max(self.discount, COUPONS[code])
            self.log.append(f"coupon {code}")
            return self.total()

    @apply_coupon.validator
    def validate_coupon(self, code: str) -> None:
        if code not in COUPONS:
            raise ValueError(f"unknown coupon {code}")
        if self.checked_out or self.cancelled:
            raise ValueError("the order is closed")

    @workflow.update
    def set_quantity(self, sku: str, qty: int) -> int:
        self.items[sku].qty = qty
        if qty == 0:
            del self.items[sku]
        return self.total()

    @set_quantity.validator
    def validate_quantity(self, sku: str, qty: int) -> None:
        if sku not in self.items:
            raise ValueError(f"no item {sku}")
        if qty < 0:
            raise ValueError("quantity must not be negative")
        if self.checked_out:
            raise ValueError("the order is closed")

    @workflow.query
    def summary(self) -> Summary:
        return Summary(self.status, self.total(), self.discount,
                       {sku: i.qty for sku, i in sorted(self.items.items())}, list(self.log))


@workflow.defn
class FanOutWorkflow:
    """Runs jobs two at a time; each is bounded by wait_for; pause/resume by update."""

    def __init__(self) -> None:
        self.queue: list[str] = []
        self.results: dict[str, str] = {}
        self.paused = False
        self.closing = False
        self.ticks = 0
        self.slots = asyncio.Semaphore(2)
        self.running: set[str] = set()

    @workflow.run
    async def run(self, first_jobs: list[str]) -> dict[str, str]:
        self.queue.extend(first_jobs)
        ticker = asyncio.create_task(self.tick())
        pending: list[asyncio.Task[None]] = []
        while True:
            await workflow.wait_condition(
                lambda: (bool(self.queue) and not self.paused) or (
                    self.closing and not self.queue))
            if self.closing and not self.queue:
                break
            job = self.queue.pop(0)
            pending.append(asyncio.create_task(self.run_job(job)))
        await asyncio.gather(*pending)
        ticker.cancel()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.results

    async def tick(self) -> None:
        while True:
            await asyncio.sleep(300)
            self.ticks += 1

    async def run_job(self, job: str) -> None:
        async with self.slots:
            self.running.add(job)
            try:
                result = await asyncio.wait_for(workflow.execute_activity(
                    "job", job, start_to_close_timeout=T), 120)
                self.results[job] = f"ok:{result}"
            except TimeoutError:
                self.results[job] = "timeout"
            except ActivityError as err:
                self.results[job] = f"failed:{type(err.cause).__name__}"
            finally:
                self.running.discard(job)

    @workflow.signal
    def add_job(self, job: str) -> None:
        if not self.closing:
            self.queue.append(job)

    @workflow.signal
    def close(self) -> None:
        self.closing = True

    @workflow.update
    def pause(self) -> bool:
        self.paused = True
        return self.paused

    @workflow.update
    async def resume(self, after_seconds: int) -> int:
        await asyncio.sleep(after_seconds)
        self.paused = False
        return self.ticks

    @resume.validator
    def validate_resume(self, after_seconds: int) -> None:
        if not self.paused:
            raise ValueError("not paused")
        if not 0 <= after_seconds <= 3600:
            raise ValueError("resume within the hour")

    @workflow.query
    def state(self) -> dict[str, object]:
        return {"queue": list(self.queue), "results": dict(sorted(self.results.items())),
                "paused": self.paused, "ticks": self.ticks,
                "running": sorted(self.running)}
