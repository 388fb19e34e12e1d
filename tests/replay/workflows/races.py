"""Racing tasks in workflow code: the asyncio idioms that iterate sets of tasks.

A TaskGroup cancels its other children by iterating a set of tasks when one
fails; ``asyncio.wait`` returns sets; ``asyncio.as_completed`` wraps
coroutines in tasks in set order. Each workflow here records the order it saw
things happen, and each cancelled activity or timer issues a command in that
order, so a replay that iterates a set differently diverges.
``ProgramWorkflow`` runs a generated program of such idioms (see
``tests/replay/test_races.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from replay import workflow
from replay.exceptions import ActivityError, ApplicationError

TEN_SECONDS = timedelta(seconds=10)


async def _activity(log: list[str], name: str) -> str:
    """An activity nobody completes: it ends only by being cancelled.

    Cancelling a task that awaits an activity raises ActivityError (with a
    CancelledError cause) in it, as in the familiar SDK; this task then ends as
    cancelled, so that a TaskGroup counts it as cancelled, not failed.
    """
    try:
        return str(await workflow.execute_activity(name, start_to_close_timeout=TEN_SECONDS))
    except (asyncio.CancelledError, ActivityError):
        log.append(f"{name} cancelled")
        raise asyncio.CancelledError from None


async def _sleep(log: list[str], name: str, seconds: float) -> str:
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        log.append(f"{name} cancelled")
        raise
    log.append(f"{name} slept")
    return name


async def _fail_after(seconds: float, name: str) -> None:
    await asyncio.sleep(seconds)
    raise ApplicationError(f"{name} failed")


@workflow.defn
class TaskGroupFailureWorkflow:
    """One child of a TaskGroup fails; the group cancels the ``n`` others (a set)."""

    @workflow.run
    async def run(self, n: int) -> list[str]:
        log: list[str] = []
        try:
            async with asyncio.TaskGroup() as tg:
                for i in range(n):
                    tg.create_task(_activity(log, f"step-{i}"))
                    tg.create_task(_sleep(log, f"nap-{i}", 100 + i))
                tg.create_task(_fail_after(1, "check"))
        except* ApplicationError as group:
            log.append(f"group failed: {len(group.exceptions)}")
        return log


@workflow.defn
class WaitCancelPendingWorkflow:
    """``asyncio.wait(FIRST_COMPLETED)`` then ``for t in pending: t.cancel()``, ``rounds`` times."""

    @workflow.run
    async def run(self, n: int, rounds: int) -> list[str]:
        log: list[str] = []
        for r in range(rounds):
            tasks = [asyncio.create_task(_activity(log, f"r{r}-step-{i}")) for i in range(n)]
            tasks += [asyncio.create_task(_sleep(log, f"r{r}-nap-{i}", 2 + i)) for i in range(n)]
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            log.append(f"round {r}: {len(done)} done")
            for t in pending:
                t.cancel()
            await asyncio.wait(pending)
        return log


@workflow.defn
class NestedTasksWorkflow:
    """Tasks that create tasks: branches with TaskGroups of their own, one branch fails."""

    @workflow.run
    async def run(self, branches: int, width: int) -> list[str]:
        log: list[str] = []
        try:
            async with asyncio.TaskGroup() as tg:
                for b in range(branches):
                    tg.create_task(self._branch(log, b, width))
                tg.create_task(_fail_after(3, "branch-x"))
        except* ApplicationError:
            log.append("outer group failed")
        return log

    async def _branch(self, log: list[str], b: int, width: int) -> None:
        try:
            async with asyncio.TaskGroup() as tg:
                for i in range(width):
                    tg.create_task(_activity(log, f"b{b}-step-{i}"))
                    tg.create_task(self._leaf(log, b, i))
        except asyncio.CancelledError:
            log.append(f"branch {b} cancelled")
            raise

    async def _leaf(self, log: list[str], b: int, i: int) -> None:
        # nested once more: a task created by a task created by a task
        inner = asyncio.create_task(_sleep(log, f"b{b}-leaf-{i}", 50 + i))
        await inner


@workflow.defn
class AsyncioAsCompletedCoroutinesWorkflow:
    """``asyncio.as_completed`` over coroutines: refused at run time (RPL-L02)."""

    @workflow.run
    async def run(self, n: int) -> list[str]:
        log: list[str] = []
        for next_done in asyncio.as_completed([_sleep(log, f"nap-{i}", 1) for i in range(n)]):
            await next_done
        return log


@workflow.defn
class AsyncioAsCompletedTasksWorkflow:
    """``asyncio.as_completed`` over tasks created in a list: allowed, and deterministic."""

    @workflow.run
    async def run(self, n: int) -> list[str]:
        log: list[str] = []
        tasks = [asyncio.create_task(_sleep(log, f"nap-{i}", 1 + i % 2)) for i in range(n)]
        for next_done in asyncio.as_completed(tasks):
            log.append(f"got {await next_done}")
        return log


@workflow.defn
class WorkflowAsCompletedWorkflow:
    """``workflow.as_completed`` over coroutines: started in the order given.

    Timers of equal length fire in the order they were started, so ties come
    out in input order; a timeout cuts off the slow ones.
    """

    @workflow.run
    async def run(self, seconds: list[float], timeout: float | None) -> list[str]:
        log: list[str] = []
        racers = [_sleep(log, f"nap-{i}", s) for i, s in enumerate(seconds)]
        for next_done in workflow.as_completed(racers, timeout=timeout):
            try:
                log.append(f"got {await next_done}")
            except TimeoutError:
                log.append("timed out")
        return log


@workflow.defn
class WorkflowWaitWorkflow:
    """``workflow.wait``: lists in the order given; cancel the pending by walking them."""

    @workflow.run
    async def run(self, seconds: list[float], return_when: str, timeout: float | None
                  ) -> list[str]:
        log: list[str] = []
        tasks: list[asyncio.Task[str | None]] = [
            asyncio.create_task(_sleep(log, f"nap-{i}", s)) for i, s in enumerate(seconds)]
        tasks.append(asyncio.create_task(_fail_after(5, "five")))
        done, pending = await workflow.wait(tasks, return_when=return_when, timeout=timeout)
        log.append(f"done {[tasks.index(t) for t in done]} pending "
                   f"{[tasks.index(t) for t in pending]}")
        for t in pending:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, ApplicationError):
                await t
        return log


# --- generated programs ----------------------------------------------------------------
#
# A program node is a list: ["sleep", seconds], ["fail", seconds], ["activity"] (never
# completed: ends only when cancelled), or [kind, [child, ...]] with kind one of
# "group" (a TaskGroup of the children), "race" (asyncio.wait FIRST_COMPLETED, then
# cancel the pending set), "loop" (wait FIRST_COMPLETED again and again on what is
# left, cancelling the rest after a few rounds) and "spawn" (a task whose children are
# tasks it creates itself, awaited with asyncio.wait). The whole program runs under a
# 60 second asyncio.timeout, so every run ends.


@workflow.defn
class ProgramWorkflow:
    """Runs one generated program of TaskGroups, races and nested tasks; returns its log."""

    def __init__(self) -> None:
        self.log: list[str] = []

    @workflow.run
    async def run(self, program: list[Any]) -> list[str]:
        try:
            async with asyncio.timeout(60):
                await self._node(program, "p")
        except (TimeoutError, ApplicationError, BaseExceptionGroup) as exc:
            self.log.append(f"program ended by {type(exc).__name__}")
        return self.log

    async def _node(self, node: list[Any], path: str) -> Any:
        kind = node[0]
        try:
            if kind == "sleep":
                return await _sleep(self.log, path, node[1])
            if kind == "fail":
                await _fail_after(node[1], path)
            if kind == "activity":
                return await _activity(self.log, path)
            children = [self._node(child, f"{path}.{i}") for i, child in enumerate(node[1])]
            return await getattr(self, f"_{kind}")(children, path)
        except asyncio.CancelledError:
            self.log.append(f"{path} ({kind}) cancelled")
            raise

    async def _group(self, children: list[Coroutine[Any, Any, Any]], path: str) -> None:
        async with asyncio.TaskGroup() as tg:
            for c in children:
                tg.create_task(c)

    async def _race(self, children: list[Coroutine[Any, Any, Any]], path: str) -> None:
        tasks = [asyncio.create_task(c) for c in children]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        self._note(path, tasks, done)
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.wait(pending)

    async def _loop(self, children: list[Coroutine[Any, Any, Any]], path: str) -> None:
        tasks = [asyncio.create_task(c) for c in children]
        pending = set(tasks)
        for _ in range(2):
            if not pending:
                return
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            self._note(path, tasks, done)
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.wait(pending)

    async def _spawn(self, children: list[Coroutine[Any, Any, Any]], path: str) -> None:
        async def owner() -> None:  # the children are tasks of a task
            tasks = [asyncio.create_task(c) for c in children]
            done, _ = await asyncio.wait(tasks)
            self._note(path, tasks, done)

        await asyncio.create_task(owner())

    def _note(self, path: str, tasks: list[asyncio.Task[Any]],
              done: set[asyncio.Task[Any]]) -> None:
        for t in done:  # a set: its order must be the same on every replay
            failed = not t.cancelled() and t.exception() is not None
            self.log.append(f"{path}: {tasks.index(t)} {'failed' if failed else 'done'}")


# --- for the determinism harness ------------------------------------------------------


@workflow.defn
class ActivityRaceWorkflow:
    """Three activities race a timer; the first to finish wins, the others are cancelled.

    Deterministic: the harness may finish the activities in any order
    (``ActivityOutcome(index=...)``) and replay in other processes.
    """

    @workflow.run
    async def run(self) -> str:
        tasks: list[asyncio.Task[str | None]] = [
            asyncio.create_task(self._one(f"racer-{i}")) for i in range(3)]
        tasks.append(asyncio.create_task(asyncio.sleep(30)))
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in pending:
            t.cancel()
        await asyncio.wait(pending)
        return ", ".join(str(tasks.index(t)) for t in done)

    async def _one(self, name: str) -> str:
        with contextlib.suppress(ActivityError):
            await workflow.execute_activity(name, start_to_close_timeout=TEN_SECONDS)
        return name


NAMES = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")


@workflow.defn
class StringSetWorkflow:
    """Nondeterministic between processes on purpose: starts activities in a set's order.

    The order of a set of strings follows their hashes, which are salted per
    process (``PYTHONHASHSEED``): every replay in this process agrees, a
    replay in another process does not.
    """

    @workflow.run
    async def run(self) -> int:
        handles = [workflow.start_activity(name, start_to_close_timeout=TEN_SECONDS)
                   for name in set(NAMES)]
        await asyncio.gather(*handles, return_exceptions=True)
        return len(handles)


@workflow.defn
class AsyncioAsCompletedOneCoroutineWorkflow:
    """``asyncio.as_completed`` over tasks and one coroutine: one task to create, allowed."""

    @workflow.run
    async def run(self) -> list[str]:
        log: list[str] = []
        first = asyncio.create_task(_sleep(log, "task", 2))
        for next_done in asyncio.as_completed([first, _sleep(log, "coroutine", 1)]):
            log.append(f"got {await next_done}")
        return log
