"""Workflows and activities used by the tests of replay.testing (environment and harness)."""

from __future__ import annotations

from datetime import timedelta

from replay import activity, workflow


@activity.defn
async def fetch_price(item: str) -> int:
    """The real activity: a remote price service (never reachable in tests)."""
    raise RuntimeError("the real price service must not be called in tests")


@activity.defn(name="fetch_price")
async def fetch_price_double(item: str) -> int:
    """A test double registered under the real activity's name."""
    return len(item) * 10


@workflow.defn
class LongSleepWorkflow:
    """Sleeps ``days`` days, then asks for a price."""

    @workflow.run
    async def run(self, days: int) -> str:
        start = workflow.now()
        await workflow.sleep(timedelta(days=days))
        price = await workflow.execute_activity(fetch_price, "book",
                                                start_to_close_timeout=timedelta(seconds=5))
        return f"{(workflow.now() - start).days} days, price {price}"


@workflow.defn
class ReminderWorkflow:
    """Reminds (emits) every hour until told to stop; counts the reminders."""

    def __init__(self) -> None:
        self.reminders = 0
        self.stopped = False

    @workflow.run
    async def run(self) -> int:
        while not self.stopped:
            await workflow.sleep(timedelta(hours=1))
            self.reminders += 1
        return self.reminders

    @workflow.signal
    def stop(self) -> None:
        self.stopped = True

    @workflow.query
    def count(self) -> int:
        return self.reminders


CALLS = [0]


@workflow.defn
class GlobalCounterWorkflow:
    """Nondeterministic on purpose: its timer's length comes from a module global."""

    def __init__(self) -> None:
        self.n = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.n > 0)
        CALLS[0] += 1
        await workflow.sleep(timedelta(seconds=CALLS[0]))
        return self.n

    @workflow.signal
    def bump(self, k: int) -> None:
        self.n += k


SEEN: set[str] = set()


@workflow.defn
class ProcessMemoryWorkflow:
    """Breaks crash equivalence on purpose: remembers signals in process memory.

    A replay after a crash sees every signal again as already "seen", so the
    rebuilt run emits different events from the run that never crashed.
    """

    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.signal
    def tag(self, name: str) -> None:
        if name in SEEN:
            workflow.emit(f"again {name}")
        else:
            SEEN.add(name)
            workflow.emit(f"new {name}")

    @workflow.signal
    def finish(self) -> None:
        self.done = True
