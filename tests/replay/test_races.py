"""Racing tasks: creation-order task hashing, workflow.wait / as_completed, RPL-L02.

The asyncio idioms that iterate sets of tasks (a failing TaskGroup cancelling
the others, ``asyncio.wait`` then cancelling ``pending``, tasks that create
tasks) are recorded once and replayed 50 times, in this process and in fresh
interpreters with other ``PYTHONHASHSEED`` values: every replay must reissue
the recorded commands and end with the recorded result.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from replay._core._loop import DurableTimerHandle, WorkflowEventLoop
from replay.exceptions import UnorderedTasksError, WorkflowLoopError, WorkflowTaskError
from replay.history import ActivityCancelRequested, History, TimerCanceled, TimerStarted
from replay.testing import WorkflowDriver
from replay.testing._subprocess import ending, replay_in_subprocesses
from replay.worker import Replayer

from .workflows.races import (
    AsyncioAsCompletedCoroutinesWorkflow,
    AsyncioAsCompletedOneCoroutineWorkflow,
    AsyncioAsCompletedTasksWorkflow,
    NestedTasksWorkflow,
    TaskGroupFailureWorkflow,
    WaitCancelPendingWorkflow,
    WorkflowAsCompletedWorkflow,
    WorkflowWaitWorkflow,
)

#: (workflow, its arguments): the idioms of issue 12's table, and the replacements.
IDIOMS: list[tuple[type, tuple[Any, ...]]] = [
    (TaskGroupFailureWorkflow, (6,)),
    (WaitCancelPendingWorkflow, (4, 3)),
    (NestedTasksWorkflow, (3, 3)),
    (AsyncioAsCompletedTasksWorkflow, (6,)),
    (WorkflowAsCompletedWorkflow, ([3.0, 1.0, 2.0, 1.0, 5.0], 4.0)),
]
IDS = [cls.__name__ for cls, _ in IDIOMS]


def recorded(cls: type, args: tuple[Any, ...]) -> tuple[WorkflowDriver, History]:
    """Run the workflow live, firing its timers until it ends (no activity completes)."""
    driver = WorkflowDriver(cls, *args)
    driver.run_timers()
    assert driver.instance.closed
    return driver, driver.history()


def result(driver: WorkflowDriver) -> Any:
    return driver.converter.from_payload(driver.instance.result_payload, list[str])


def replay_ending(history: History, cls: type) -> str:
    res = Replayer(workflows=[cls]).replay_sync(history)
    return ending(res.status, res.result, res.failure)


# --- task order -----------------------------------------------------------------------


def test_a_failing_task_group_cancels_the_others_in_creation_order() -> None:
    driver, history = recorded(TaskGroupFailureWorkflow, (6,))
    log = result(driver)
    assert log[-1] == "group failed: 1"
    assert log[:-1] == sorted(log[:-1], key=lambda line: (line.split("-")[0],
                                                          int(line.split("-")[1].split()[0])))
    cancels = [e for e in history.events if isinstance(e, ActivityCancelRequested)]
    assert [e.scheduled_event_id for e in cancels] == sorted(
        e.scheduled_event_id for e in cancels)


@pytest.mark.parametrize(("cls", "args"), IDIOMS, ids=IDS)
def test_each_idiom_replays_identically_50_times(cls: type, args: tuple[Any, ...]) -> None:
    driver, history = recorded(cls, args)
    replayer = Replayer(workflows=[cls])
    for _ in range(50):
        res = replayer.replay_sync(history)
        assert res.result == driver.instance.result_payload


def test_each_idiom_replays_identically_in_fresh_processes() -> None:
    """5 interpreters with other hash seeds, 10 replays each: 50 replays of each idiom."""
    histories = [recorded(cls, args)[1] for cls, args in IDIOMS]
    expected = [replay_ending(h, cls) for h, (cls, _) in zip(histories, IDIOMS, strict=True)]
    outcomes = replay_in_subprocesses(histories, [cls for cls, _ in IDIOMS],
                                      hash_seeds=(101, 202, 303, 404, 505), replays=10)
    assert len(outcomes) == 50 * len(IDIOMS)
    for o in outcomes:
        assert o.failure is None, f"{IDS[o.history]} (PYTHONHASHSEED={o.hash_seed}): {o.failure}"
        assert o.ending == expected[o.history], IDS[o.history]


def test_tasks_of_the_workflow_loop_hash_by_creation_order() -> None:
    seen: list[Any] = []

    async def body() -> None:
        tasks = [asyncio.create_task(asyncio.sleep(0)) for _ in range(20)]
        seen.append([hash(t) for t in tasks])
        seen.append(list(set(reversed(tasks))) == tasks)
        seen.append(tasks[0] == tasks[0] and tasks[0] != tasks[1])
        await asyncio.gather(*tasks)

    loop = _bare_loop()
    main: asyncio.Task[None] = loop.create_task(body())
    loop.run_until_quiescent()
    assert main.done() and main.exception() is None
    first = hash(main)
    assert seen == [list(range(first + 1, first + 21)), True, True]


def test_each_run_adds_its_own_base_so_runs_do_not_collide_in_asyncios_task_set() -> None:
    from replay._core._loop import task_hash_base

    bases = {task_hash_base(f"run-{i}") for i in range(1000)}
    assert len(bases) == 1000 and all(b % 2**32 == 0 and b < 2**61 for b in bases)
    assert task_hash_base("run-7") == task_hash_base("run-7")  # the same on every replay
    drivers = [WorkflowDriver(TaskGroupFailureWorkflow, 2, run_id=f"run-{i}") for i in range(3)]
    for d in drivers:
        d.step()
    mains = [hash(t) for d in drivers for t in asyncio.all_tasks(d.instance.loop)
             if t.get_name() == "workflow-run"]
    assert mains == [task_hash_base(f"run-{i}") for i in range(3)]  # each run's first task


# --- asyncio.as_completed over coroutines: RPL-L02 ---------------------------------------


def test_asyncio_as_completed_over_coroutines_is_refused_with_the_user_line() -> None:
    gc.collect()  # what earlier tests left is not this test's to report
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with WorkflowDriver(AsyncioAsCompletedCoroutinesWorkflow, 4) as driver, \
                pytest.raises(WorkflowTaskError) as info:
            driver.step()
        cause = info.value.cause
        assert isinstance(cause, UnorderedTasksError) and isinstance(cause, WorkflowLoopError)
        assert cause.code == "RPL-L02" and cause.call == "asyncio.as_completed"
        assert cause.location is not None and cause.location.endswith(
            f"races.py:{_line_of('for next_done in asyncio.as_completed(')}")
        assert "workflow.as_completed" in str(cause)
        # the tracebacks hold as_completed's frame and so the coroutines it was given
        del driver, info, cause
        gc.collect()
    # they were closed as the refusal was raised, never started: none "never awaited"
    assert [str(w.message) for w in caught] == []


def _line_of(text: str) -> int:
    from .workflows import races

    source = races.__file__
    with open(source) as f:
        return next(i for i, line in enumerate(f, 1) if text in line)


def test_asyncio_as_completed_over_tasks_is_allowed() -> None:
    driver, _ = recorded(AsyncioAsCompletedTasksWorkflow, (4,))
    assert result(driver) == ["nap-0 slept", "got nap-0", "nap-2 slept", "got nap-2",
                              "nap-1 slept", "got nap-1", "nap-3 slept", "got nap-3"]
    one, _ = recorded(AsyncioAsCompletedOneCoroutineWorkflow, ())
    assert result(one) == ["coroutine slept", "got coroutine", "task slept", "got task"]


# --- workflow.as_completed ------------------------------------------------------------


def test_workflow_as_completed_yields_in_completion_order_ties_in_input_order() -> None:
    driver, history = recorded(WorkflowAsCompletedWorkflow, ([3.0, 1.0, 2.0, 1.0], None))
    assert [line for line in result(driver) if line.startswith("got")] == [
        "got nap-1", "got nap-3", "got nap-2", "got nap-0"]
    starts = [e.fire_at for e in history.events if isinstance(e, TimerStarted)]
    assert [(t - starts[0]).total_seconds() for t in starts] == [0, -2, -1, -2]  # in order


def test_workflow_as_completed_timeout_is_a_durable_timer() -> None:
    driver, history = recorded(WorkflowAsCompletedWorkflow, ([3.0, 1.0, 9.0], 4.0))
    assert result(driver)[-1] == "timed out"
    assert [line for line in result(driver) if line.startswith("got")] == [
        "got nap-1", "got nap-0"]
    assert len([e for e in history.events if isinstance(e, TimerStarted)]) == 4  # 3 + timeout
    # all done before the timeout: its timer is cancelled
    _, quick = recorded(WorkflowAsCompletedWorkflow, ([1.0, 2.0], 30.0))
    assert len([e for e in quick.events if isinstance(e, TimerCanceled)]) == 1


# --- workflow.wait ---------------------------------------------------------------------

WAITS: list[tuple[tuple[Any, ...], str]] = [
    (([3.0, 1.0, 2.0], "FIRST_COMPLETED", None), "done [1] pending [0, 2, 3]"),
    (([3.0, 1.0, 2.0, 9.0], "ALL_COMPLETED", 6.0), "done [0, 1, 2, 4] pending [3]"),
    (([3.0, 1.0, 7.0], "FIRST_EXCEPTION", None), "done [0, 1, 3] pending [2]"),
    (([3.0, 1.0], "ALL_COMPLETED", None), "done [0, 1, 2] pending []"),
]


@pytest.mark.parametrize(("args", "line"), WAITS, ids=[w[0][1] for w in WAITS])
def test_workflow_wait_returns_lists_in_the_order_given(args: tuple[Any, ...], line: str
                                                        ) -> None:
    driver, history = recorded(WorkflowWaitWorkflow, args)
    assert line in result(driver)
    Replayer(workflows=[WorkflowWaitWorkflow]).replay_sync(history)


class _NoTimers:
    """The timer sink of a loop whose code starts no timers (one that does is a test bug)."""

    def start_timer(self, handle: DurableTimerHandle, delay: float) -> None:
        raise AssertionError(f"this loop has no timers, but {handle!r} was started")

    def cancel_timer(self, handle: DurableTimerHandle) -> None:
        raise AssertionError(f"this loop has no timers, but {handle!r} was canceled")


def _bare_loop() -> WorkflowEventLoop:
    # the I/O methods are filled in as errors after the class body, unseen by mypy
    return WorkflowEventLoop(_NoTimers())  # type: ignore[abstract]


def _run_in_loop(body: Callable[[], Any]) -> Any:
    loop = _bare_loop()
    task = loop.create_task(body())
    loop.run_until_quiescent()
    return task.result()


def test_workflow_wait_refuses_what_asyncio_refuses() -> None:
    from replay import workflow

    async def body() -> list[str]:
        seen: list[str] = []
        done = asyncio.get_running_loop().create_future()
        done.set_result(1)
        for fs, kw in (([], {}), ([done], {"return_when": "SOMETIMES"}), (done, {}),
                       ([asyncio.sleep(1)], {})):
            try:
                await workflow.wait(fs, **kw)  # type: ignore[arg-type]  # wrong on purpose
            except (TypeError, ValueError) as exc:
                seen.append(type(exc).__name__)
        # already satisfied: returns at once, no timer
        seen.append(repr(await workflow.wait([done], timeout=5)))
        return seen

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        seen = _run_in_loop(body)
    assert seen[:4] == ["ValueError", "ValueError", "TypeError", "TypeError"]
    assert seen[4].startswith("([<Future finished result=1>], [])")


# --- the determinism harness --------------------------------------------------------------


@pytest.mark.slow
def test_the_harness_races_activities_and_replays_in_fresh_processes() -> None:
    from hypothesis import settings

    from replay.testing import ActivityOutcome, check_determinism

    from .workflows.races import ActivityRaceWorkflow

    report = check_determinism(ActivityRaceWorkflow, subprocess_replays=2,
                               hypothesis_settings=settings(derandomize=True, database=None,
                                                            max_examples=40))
    assert report.examples >= 40
    assert ActivityOutcome("success", 2) != ActivityOutcome("success")


@pytest.mark.slow
def test_the_harness_finds_what_differs_only_between_processes() -> None:
    from hypothesis import settings

    from replay.testing import DeterminismViolation, check_determinism

    from .workflows.races import StringSetWorkflow

    quick = settings(derandomize=True, database=None, max_examples=5)
    check_determinism(StringSetWorkflow, hypothesis_settings=quick)  # fine in one process
    with pytest.raises(DeterminismViolation) as info:
        check_determinism(StringSetWorkflow, hypothesis_settings=quick, subprocess_replays=2)
    message = str(info.value)
    assert "in a fresh interpreter (PYTHONHASHSEED=" in message
    assert "[RPL-ND01]" in message
    assert "iteration over a set or frozenset" in message
    assert "unseeded randomness" in message and "module or class globals" in message


def test_the_harness_needs_importable_workflows_for_subprocess_replays() -> None:
    from replay import workflow
    from replay.testing import check_determinism

    @workflow.defn(name="Local")
    class Local:
        @workflow.run
        async def run(self) -> None:
            return None

    with pytest.raises(ValueError, match="inside a function"):
        check_determinism(Local, subprocess_replays=1)
