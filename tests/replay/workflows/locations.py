"""Pairs of workflow versions whose divergent command is issued away from the user's
stack: inside a task that ``gather``, ``ensure_future``, ``create_task`` or
``as_completed`` made, in a signal or update handler, or by how the run ends.

A records, B replays (both under one workflow type name, as a deploy would). The
line a NondeterminismError must name carries a ``# B-DIVERGES`` comment: the
line that issued B's changed command, or the call that made the task issuing it
(a multi-line call is named by its first line), or the line that ended the run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator
from datetime import timedelta
from typing import Any

from replay import workflow
from replay.common import ActivityCancellationType
from replay.exceptions import ActivityError, ApplicationError

T = timedelta(seconds=10)


# --- gather over activity coroutines --------------------------------------------------------


@workflow.defn(name="LocGather")
class GatherA:
    @workflow.run
    async def run(self) -> None:
        await asyncio.gather(
            workflow.execute_activity("reserve", start_to_close_timeout=T),
            workflow.execute_activity("charge", start_to_close_timeout=T),
        )


@workflow.defn(name="LocGather")
class GatherB:
    @workflow.run
    async def run(self) -> None:
        await asyncio.gather(  # B-DIVERGES
            workflow.execute_activity("reserve", start_to_close_timeout=T),
            workflow.execute_activity("charge_card", start_to_close_timeout=T),
        )


# --- gather over a timer coroutine (asyncio.sleep runs in gather's task) ---------------------


@workflow.defn(name="LocGatherSleep")
class GatherSleepA:
    @workflow.run
    async def run(self) -> None:
        await asyncio.gather(asyncio.sleep(5), asyncio.sleep(6))


@workflow.defn(name="LocGatherSleep")
class GatherSleepB:
    @workflow.run
    async def run(self) -> None:
        await asyncio.gather(  # B-DIVERGES
            asyncio.sleep(5),
            asyncio.sleep(7),
        )


# --- timers started by workflow code itself, through each of the loop's timer methods ---------


@workflow.defn(name="LocSleep")
class SleepA:
    @workflow.run
    async def run(self) -> None:
        await asyncio.sleep(5)


@workflow.defn(name="LocSleep")
class SleepB:
    @workflow.run
    async def run(self) -> None:
        await asyncio.sleep(6)  # B-DIVERGES


@workflow.defn(name="LocCallLater")
class CallLaterA:
    @workflow.run
    async def run(self) -> None:
        fired = asyncio.Event()
        asyncio.get_running_loop().call_later(5, fired.set)
        await fired.wait()


@workflow.defn(name="LocCallLater")
class CallLaterB:
    @workflow.run
    async def run(self) -> None:
        fired = asyncio.Event()
        asyncio.get_running_loop().call_later(6, fired.set)  # B-DIVERGES
        await fired.wait()


@workflow.defn(name="LocCallAt")
class CallAtA:
    @workflow.run
    async def run(self) -> None:
        fired = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.call_at(loop.time() + 5, fired.set)
        await fired.wait()


@workflow.defn(name="LocCallAt")
class CallAtB:
    @workflow.run
    async def run(self) -> None:
        fired = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.call_at(loop.time() + 6, fired.set)  # B-DIVERGES
        await fired.wait()


@workflow.defn(name="LocTimeout")
class TimeoutA:
    @workflow.run
    async def run(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await asyncio.Event().wait()


@workflow.defn(name="LocTimeout")
class TimeoutB:
    @workflow.run
    async def run(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(6):  # B-DIVERGES
                await asyncio.Event().wait()


@workflow.defn(name="LocWaitFor")
class WaitForA:
    @workflow.run
    async def run(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.Event().wait(), 5)


@workflow.defn(name="LocWaitFor")
class WaitForB:
    @workflow.run
    async def run(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.Event().wait(), 6)  # B-DIVERGES


# --- ensure_future ---------------------------------------------------------------------------


@workflow.defn(name="LocEnsureFuture")
class EnsureFutureA:
    @workflow.run
    async def run(self) -> None:
        await asyncio.ensure_future(workflow.execute_activity("charge", start_to_close_timeout=T))


@workflow.defn(name="LocEnsureFuture")
class EnsureFutureB:
    @workflow.run
    async def run(self) -> None:
        fut = asyncio.ensure_future(  # B-DIVERGES
            workflow.execute_activity("charge_card", start_to_close_timeout=T))
        await fut


# --- asyncio.create_task, over a helper that is engine code all the way -----------------------


async def _charge(name: str) -> None:
    await workflow.execute_activity(name, start_to_close_timeout=T)


@workflow.defn(name="LocCreateTask")
class CreateTaskA:
    @workflow.run
    async def run(self) -> None:
        await asyncio.create_task(workflow.execute_activity("charge", start_to_close_timeout=T))


@workflow.defn(name="LocCreateTask")
class CreateTaskB:
    @workflow.run
    async def run(self) -> None:
        task = asyncio.create_task(  # B-DIVERGES
            workflow.execute_activity("charge_card", start_to_close_timeout=T))
        await task


# --- loop.create_task ------------------------------------------------------------------------


@workflow.defn(name="LocLoopCreateTask")
class LoopCreateTaskA:
    @workflow.run
    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_task(workflow.execute_activity("charge", start_to_close_timeout=T))


@workflow.defn(name="LocLoopCreateTask")
class LoopCreateTaskB:
    @workflow.run
    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_task(  # B-DIVERGES
            workflow.execute_activity("charge_card", start_to_close_timeout=T))


# --- a task made by engine code (wait_for) inside a task the user made --------------------------


@workflow.defn(name="LocNested")
class NestedA:
    @workflow.run
    async def run(self) -> None:
        await asyncio.create_task(self.inner("charge"))

    async def inner(self, name: str) -> None:
        await asyncio.wait_for(asyncio.shield(asyncio.sleep(3)), timeout=100)
        await workflow.execute_activity(name, start_to_close_timeout=T)


@workflow.defn(name="LocNested")
class NestedB:
    @workflow.run
    async def run(self) -> None:
        await asyncio.create_task(self.inner("charge"))

    async def inner(self, name: str) -> None:
        await asyncio.wait_for(asyncio.shield(asyncio.sleep(4)), timeout=100)  # B-DIVERGES
        await workflow.execute_activity(name, start_to_close_timeout=T)


# --- awaitable objects: asyncio wraps them in a coroutine of its own -------------------------


class Charge:
    """Awaitable, not a coroutine: ``ensure_future`` wraps it in asyncio's own coroutine."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __await__(self) -> Generator[Any, None, Any]:
        return workflow.execute_activity(self.name, start_to_close_timeout=T).__await__()


class WithinTimeout:
    """Awaitable that awaits another one under ``asyncio.wait_for`` (which makes a task)."""

    def __init__(self, inner: Charge) -> None:
        self.inner = inner

    def __await__(self) -> Generator[Any, None, Any]:
        return asyncio.wait_for(self.inner, timeout=100).__await__()


@workflow.defn(name="LocAwaitable")
class AwaitableA:
    @workflow.run
    async def run(self) -> None:
        await asyncio.ensure_future(Charge("charge"))
        await asyncio.ensure_future(WithinTimeout(Charge("refund")))


@workflow.defn(name="LocAwaitable")
class AwaitableB:
    @workflow.run
    async def run(self) -> None:
        await asyncio.ensure_future(Charge("charge_card"))  # B-DIVERGES
        await asyncio.ensure_future(WithinTimeout(Charge("refund")))


@workflow.defn(name="LocAwaitableNested")
class AwaitableNestedA:
    @workflow.run
    async def run(self) -> None:
        await asyncio.ensure_future(Charge("charge"))
        await asyncio.ensure_future(WithinTimeout(Charge("refund")))


@workflow.defn(name="LocAwaitableNested")
class AwaitableNestedB:
    @workflow.run
    async def run(self) -> None:
        await asyncio.ensure_future(Charge("charge"))
        await asyncio.ensure_future(WithinTimeout(Charge("refund_card")))  # B-DIVERGES


# --- workflow.as_completed (it wraps coroutines in tasks, in the order given) ---------------


@workflow.defn(name="LocAsCompleted")
class AsCompletedA:
    @workflow.run
    async def run(self) -> None:
        for fut in workflow.as_completed([
            workflow.execute_activity("reserve", start_to_close_timeout=T),
            workflow.execute_activity("charge", start_to_close_timeout=T),
        ]):
            await fut


@workflow.defn(name="LocAsCompleted")
class AsCompletedB:
    @workflow.run
    async def run(self) -> None:
        for fut in workflow.as_completed([  # B-DIVERGES
            workflow.execute_activity("reserve", start_to_close_timeout=T),
            workflow.execute_activity("charge_card", start_to_close_timeout=T),
        ]):
            await fut


# --- cancelling an activity: by the handle, or by the run's cancellation --------------------


@workflow.defn(name="LocCancel")
class CancelA:
    @workflow.run
    async def run(self) -> None:
        handle = workflow.start_activity("charge", start_to_close_timeout=T)
        await workflow.sleep(1)
        await handle


@workflow.defn(name="LocCancel")
class CancelB:
    @workflow.run
    async def run(self) -> None:
        handle = workflow.start_activity("charge", start_to_close_timeout=T)
        await workflow.sleep(1)
        handle.cancel()  # B-DIVERGES
        with contextlib.suppress(ActivityError):
            await handle


@workflow.defn(name="LocRunCancel")
class RunCancelA:
    @workflow.run
    async def run(self) -> None:
        await workflow.start_activity("charge", start_to_close_timeout=T,
                                      cancellation_type=ActivityCancellationType.ABANDON)


@workflow.defn(name="LocRunCancel")
class RunCancelB:
    @workflow.run
    async def run(self) -> None:
        await workflow.start_activity("charge", start_to_close_timeout=T)  # B-DIVERGES


# --- signal handlers -------------------------------------------------------------------------


@workflow.defn(name="LocSignal")
class SignalA:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.signal
    async def go(self) -> None:
        await asyncio.gather(workflow.execute_activity("charge", start_to_close_timeout=T))
        self.done = True


@workflow.defn(name="LocSignal")
class SignalB:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.signal
    async def go(self) -> None:
        await asyncio.gather(  # B-DIVERGES
            workflow.execute_activity("charge_card", start_to_close_timeout=T))
        self.done = True


@workflow.defn(name="LocSyncSignal")
class SyncSignalA:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.signal
    def go(self) -> None:
        workflow.start_activity("charge", start_to_close_timeout=T)
        self.done = True


@workflow.defn(name="LocSyncSignal")
class SyncSignalB:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.signal
    def go(self) -> None:
        workflow.start_activity("charge_card", start_to_close_timeout=T)  # B-DIVERGES
        self.done = True


# --- update handlers -------------------------------------------------------------------------


@workflow.defn(name="LocUpdate")
class UpdateA:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.update
    async def go(self) -> str:
        self.done = True
        return await asyncio.ensure_future(
            workflow.execute_activity("charge", start_to_close_timeout=T))


@workflow.defn(name="LocUpdate")
class UpdateB:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.update
    async def go(self) -> str:
        self.done = True
        return await asyncio.ensure_future(  # B-DIVERGES
            workflow.execute_activity("charge_card", start_to_close_timeout=T))


# --- how the run ends ------------------------------------------------------------------------


@workflow.defn(name="LocEnding")
class EndingA:
    @workflow.run
    async def run(self, n: int) -> str:
        await workflow.sleep(1)
        if n > 10:
            return "big"
        workflow.continue_as_new(n + 1)


@workflow.defn(name="LocEnding")
class EndingB:
    @workflow.run
    async def run(self, n: int) -> str:
        await workflow.sleep(1)
        if n > 10:
            return "big"
        return "small"  # B-DIVERGES


@workflow.defn(name="LocEndingRaise")
class EndingRaiseA:
    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(1)
        return "done"


@workflow.defn(name="LocEndingRaise")
class EndingRaiseB:
    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(1)
        self.check()
        return "done"

    def check(self) -> None:
        raise ApplicationError("refused")  # B-DIVERGES


@workflow.defn(name="LocEndingContinue")
class EndingContinueA:
    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(1)
        return "done"


@workflow.defn(name="LocEndingContinue")
class EndingContinueB:
    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(1)
        workflow.continue_as_new()  # B-DIVERGES


# --- a changed result only (strict results) -------------------------------------------------


@workflow.defn(name="LocResult")
class ResultA:
    @workflow.run
    async def run(self, name: str) -> str:
        await workflow.sleep(1)
        return f"Hello, {name}!"


@workflow.defn(name="LocResult")
class ResultB:
    @workflow.run
    async def run(self, name: str) -> str:
        await workflow.sleep(1)
        return f"Hi, {name}!"  # B-DIVERGES


@workflow.defn(name="LocFailure")
class FailureA:
    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(1)
        raise ApplicationError("card declined", "visa", type="Declined")


@workflow.defn(name="LocFailure")
class FailureB:
    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(1)
        raise ApplicationError("card expired", type="Declined")  # B-DIVERGES


@workflow.defn(name="LocContinueArgs")
class ContinueArgsA:
    @workflow.run
    async def run(self, n: int) -> None:
        await workflow.sleep(1)
        workflow.continue_as_new(n + 1)


@workflow.defn(name="LocContinueArgs")
class ContinueArgsB:
    @workflow.run
    async def run(self, n: int) -> None:
        await workflow.sleep(1)
        workflow.continue_as_new(n + 2)  # B-DIVERGES

