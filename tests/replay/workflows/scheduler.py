"""A busy, seeded scenario for the scheduler determinism test (after trio's).

Many tasks sleep for random durations, pass items through queues, emit,
run activities and meet at a gather; the driver side answers with its own
seeded choices. Everything random comes from ``workflow.random()`` or the
given seed, so every run must produce the same trace.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

from replay import workflow
from replay.testing import WorkflowDriver

T = timedelta(seconds=30)


@workflow.defn
class BusyWorkflow:
    """``tasks`` workers, a relay task and a collector, all on one deterministic loop."""

    def __init__(self) -> None:
        self.trace: list[str] = []
        self.signals = 0

    @workflow.run
    async def run(self, tasks: int) -> list[str]:
        rng = workflow.random()
        inbox: asyncio.Queue[str] = asyncio.Queue()
        relayed: asyncio.Queue[str | None] = asyncio.Queue(maxsize=2)
        lock = asyncio.Lock()

        async def worker(i: int) -> int:
            done = 0
            for step in range(3):
                await asyncio.sleep(rng.choice([0, 0, 1, 2, 5]))
                name = f"{i}.{step}"
                if rng.random() < 0.25:
                    async with lock:
                        name += "=" + str(await workflow.execute_activity(
                            "work", name, start_to_close_timeout=T))
                if rng.random() < 0.3:
                    workflow.emit(name)
                await inbox.put(name)
                done += 1
            return done

        async def relay() -> None:
            while True:
                item = await inbox.get()
                await relayed.put(f"{item}/{workflow.uuid4().hex[:4]}")

        async def collect() -> None:
            while (item := await relayed.get()) is not None:
                self.trace.append(item)

        relay_task = asyncio.create_task(relay())
        collector = asyncio.create_task(collect())
        counts = await asyncio.gather(*(worker(i) for i in range(tasks)))
        while not inbox.empty():
            await asyncio.sleep(0)
        await relayed.put(None)
        await collector
        relay_task.cancel()
        try:
            await workflow.wait_condition(lambda: self.signals >= 2, timeout=60)
        except TimeoutError:
            self.trace.append("gave up waiting for pokes")
        self.trace.append(f"done {sum(counts)} signals={self.signals}")
        return self.trace

    @workflow.signal
    def poke(self) -> None:
        self.signals += 1
        self.trace.append(f"poke {self.signals}")


def drive(seed: int, tasks: int = 12) -> WorkflowDriver:
    """Run BusyWorkflow to its end, answering with choices drawn from ``seed``."""
    choose = random.Random(seed)
    d = WorkflowDriver(BusyWorkflow, tasks, seed=seed)
    d.step()
    while not d.instance.closed:
        action = choose.random()
        if action < 0.1:
            d.signal("poke")
        elif action < 0.5 and d.open_activities():
            act = choose.choice(d.open_activities())
            d.complete_activity(act, choose.randint(0, 99))
        elif not d.fire_next_timer():
            if d.open_activities():
                d.complete_activity(d.open_activities()[0], 0)
            else:
                d.signal("poke")
        d.step()
    return d
