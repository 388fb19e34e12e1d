"""Plain asyncio inside workflow code: every primitive, on durable timers.

Each workflow returns (or lets a query read) what it observed, so a test can
check the behaviour and the replay can check that it is reproduced.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from replay import workflow
from replay.exceptions import ActivityError, CancelledError, WorkflowLoopError

TEN_SECONDS = timedelta(seconds=10)


@workflow.defn
class DurableSleepWorkflow:
    """asyncio.sleep and workflow.sleep both wait on durable timers."""

    @workflow.run
    async def run(self) -> list[float]:
        t0 = workflow.time()
        await asyncio.sleep(5)
        t1 = workflow.time()
        await workflow.sleep(timedelta(seconds=3))
        t2 = workflow.time()
        await asyncio.sleep(0)  # a plain yield: no timer
        return [t1 - t0, t2 - t1, workflow.time() - t2]


@workflow.defn
class WaitForWorkflow:
    """asyncio.wait_for: an activity that is too slow, then an event that is in time."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    @workflow.run
    async def run(self) -> list[str]:
        out: list[str] = []
        try:
            await asyncio.wait_for(
                workflow.execute_activity("slow", start_to_close_timeout=TEN_SECONDS), 30)
        except ActivityError as err:
            # as in the familiar SDK: wait_for cancels the activity, and awaiting a
            # cancelled activity raises ActivityError caused by CancelledError
            assert isinstance(err.cause, CancelledError)
            out.append("activity timed out")
        await asyncio.wait_for(self.event.wait(), 60)
        out.append("event in time")
        return out

    @workflow.signal
    def go(self) -> None:
        self.event.set()


@workflow.defn
class TimeoutWorkflow:
    """asyncio.timeout: one block expires, the next finishes in time."""

    def __init__(self) -> None:
        self.ready = False

    @workflow.run
    async def run(self) -> list[str]:
        out: list[str] = []
        try:
            async with asyncio.timeout(5):
                await workflow.wait_condition(lambda: False)
        except TimeoutError:
            out.append("expired")
        async with asyncio.timeout(100):
            await workflow.wait_condition(lambda: self.ready)
        out.append("ready")
        return out

    @workflow.signal
    def set_ready(self) -> None:
        self.ready = True


@workflow.defn
class GatherWorkflow:
    """create_task and gather over timers and activities."""

    def __init__(self) -> None:
        self.order: list[str] = []

    async def nap(self, name: str, seconds: float) -> str:
        await asyncio.sleep(seconds)
        self.order.append(name)
        return name

    @workflow.run
    async def run(self) -> list[Any]:
        slow = asyncio.create_task(self.nap("slow", 30))
        fast = asyncio.create_task(self.nap("fast", 10))
        results = await asyncio.gather(
            slow, fast, workflow.execute_activity("fetch", start_to_close_timeout=TEN_SECONDS))
        return [list(results), self.order]


@workflow.defn
class PrimitivesWorkflow:
    """Lock, Event, Condition, Semaphore and Queue between tasks that sleep."""

    def __init__(self) -> None:
        self.log: list[str] = []

    @workflow.run
    async def run(self) -> list[str]:
        lock = asyncio.Lock()
        sem = asyncio.Semaphore(2)
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
        started = asyncio.Event()
        cond = asyncio.Condition()
        state = {"stage": 0}

        async def locked(name: str) -> None:
            async with lock:
                self.log.append(f"lock {name} in")
                await asyncio.sleep(1)
                self.log.append(f"lock {name} out")

        async def limited(name: str) -> None:
            async with sem:
                self.log.append(f"sem {name}")
                await asyncio.sleep(2)

        async def producer() -> None:
            for i in range(3):
                await queue.put(i)
                self.log.append(f"put {i}")
            await queue.put(-1)

        async def consumer() -> None:
            started.set()
            while (item := await queue.get()) >= 0:
                self.log.append(f"got {item}")
                await asyncio.sleep(1)

        async def waiter() -> None:
            async with cond:
                await cond.wait_for(lambda: state["stage"] == 2)
                self.log.append("condition met")

        async def notifier() -> None:
            for stage in (1, 2):
                await asyncio.sleep(1)
                async with cond:
                    state["stage"] = stage
                    cond.notify_all()

        tasks = [asyncio.create_task(c) for c in (
            locked("a"), locked("b"), limited("x"), limited("y"), limited("z"),
            consumer(), producer(), waiter(), notifier())]
        await started.wait()
        await asyncio.gather(*tasks)
        return self.log


@workflow.defn
class ShieldWorkflow:
    """A shielded task survives the timeout of the code waiting for it."""

    @workflow.run
    async def run(self) -> list[str]:
        inner = asyncio.create_task(
            workflow.execute_activity("important", start_to_close_timeout=TEN_SECONDS))
        out: list[str] = []
        try:
            await asyncio.wait_for(asyncio.shield(inner), 5)
        except TimeoutError:
            out.append(f"timed out, inner cancelled={inner.cancelled()}")
        out.append(await inner)
        return out


@workflow.defn
class CancelTaskWorkflow:
    """Cancelling a task that sleeps cancels its durable timer."""

    @workflow.run
    async def run(self) -> list[str]:
        out: list[str] = []

        async def sleeper() -> None:
            try:
                await asyncio.sleep(100)
            except asyncio.CancelledError:
                out.append("sleeper cancelled")
                raise

        task = asyncio.create_task(sleeper())
        await asyncio.sleep(1)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            out.append(f"task cancelled={task.cancelled()}")
        return out


@workflow.defn
class ShortLivedTimersWorkflow:
    """Timers started and cancelled within one activation record nothing."""

    @workflow.run
    async def run(self) -> list[str]:
        out: list[str] = []
        sleeper = asyncio.create_task(asyncio.sleep(50))
        await asyncio.sleep(0)
        sleeper.cancel()
        await asyncio.gather(sleeper, return_exceptions=True)
        out.append(f"cancelled={sleeper.cancelled()}")
        out.append(str(await asyncio.wait_for(asyncio.sleep(0, "quick"), 10)))
        await workflow.wait_condition(lambda: True, timeout=30)
        out.append("condition already true")
        return out


@workflow.defn
class WaitConditionTimeoutWorkflow:
    """wait_condition with a timeout: one expires, one is met in time."""

    def __init__(self) -> None:
        self.flag = False

    @workflow.run
    async def run(self) -> list[str]:
        out: list[str] = []
        try:
            await workflow.wait_condition(lambda: self.flag, timeout=timedelta(seconds=10))
        except TimeoutError:
            out.append("timed out")
        await workflow.wait_condition(lambda: self.flag, timeout=600)
        out.append("flag set")
        return out

    @workflow.signal
    def set_flag(self) -> None:
        self.flag = True


def _calls(loop: asyncio.AbstractEventLoop) -> list[tuple[str, Any]]:
    return [
        ("run_in_executor", lambda: loop.run_in_executor(None, print)),
        ("getaddrinfo", lambda: loop.getaddrinfo("example.com", 80)),
        ("create_connection", lambda: loop.create_connection(asyncio.Protocol, "x", 1)),
        ("create_server", lambda: loop.create_server(asyncio.Protocol, "x", 1)),
        ("subprocess_exec", lambda: loop.subprocess_exec(asyncio.SubprocessProtocol, "ls")),
        ("call_soon_threadsafe", lambda: loop.call_soon_threadsafe(print)),
        ("run_until_complete", lambda: loop.run_until_complete(loop.create_future())),
    ]


@workflow.defn
class LoopIOWorkflow:
    """Tries the loop's I/O and thread methods and reports what each raised."""

    @workflow.run
    async def run(self) -> list[str]:
        out: list[str] = []
        for name, call in _calls(asyncio.get_running_loop()):
            try:
                call()
            except WorkflowLoopError as err:
                assert err.call == name
                out.append(str(err))
        try:
            await asyncio.open_connection("example.com", 80)
        except WorkflowLoopError as err:
            out.append(str(err))
        return out


@workflow.defn
class UncaughtLoopIOWorkflow:
    """Calls run_in_executor without catching the error (a workflow bug)."""

    @workflow.run
    async def run(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, print)


@workflow.defn
class ManySleepsWorkflow:
    """``n`` one-second timers one after another."""

    @workflow.run
    async def run(self, n: int) -> int:
        for _ in range(n):
            await asyncio.sleep(1)
        return n
