"""Workflows exercising the rest of the ``workflow.*`` API, one concern each."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from replay import workflow
from replay.exceptions import ActivityError, ApplicationError, CancelledError, ChildWorkflowError

TEN_SECONDS = timedelta(seconds=10)


@workflow.defn
class ClockWorkflow:
    """Reads workflow time within and across activations."""

    def __init__(self) -> None:
        self.readings: list[str] = []

    @workflow.run
    async def run(self) -> list[Any]:
        first = workflow.now()
        await asyncio.sleep(0)  # a yield, not a new activation
        same = workflow.now()
        await asyncio.sleep(60)
        later = workflow.now()
        return [first.isoformat(), same.isoformat(), later.isoformat(), workflow.time()]

    @workflow.signal
    def read(self) -> None:
        self.readings.append(workflow.now().isoformat())

    @workflow.query
    def signal_times(self) -> list[str]:
        return self.readings


@workflow.defn
class RandomWorkflow:
    """Draws random numbers and UUIDs in two activations."""

    @workflow.run
    async def run(self) -> list[Any]:
        draws: list[Any] = [workflow.random().randint(0, 10**9), str(workflow.uuid4())]
        await asyncio.sleep(1)
        draws += [workflow.random().random(), str(workflow.uuid4())]
        return draws


@workflow.defn
class InfoWorkflow:
    """Returns what workflow.info() says."""

    @workflow.run
    async def run(self) -> dict[str, Any]:
        i = workflow.info()
        return {"workflow_id": i.workflow_id, "run_id": i.run_id,
                "workflow_type": i.workflow_type, "task_queue": i.task_queue,
                "start_time": i.start_time.isoformat(),
                "first_execution_run_id": i.first_execution_run_id,
                "parent": i.parent, "attempt": i.attempt}


@workflow.defn
class LoggingWorkflow:
    """Logs once per activation and remembers whether each one was a replay."""

    def __init__(self) -> None:
        self.replaying: list[bool] = []

    @workflow.run
    async def run(self) -> int:
        for step in range(3):
            self.replaying.append(workflow.unsafe.is_replaying())
            workflow.logger.info("step %d", step)
            await asyncio.sleep(1)
        return 3

    @workflow.query
    def replay_flags(self) -> list[bool]:
        return self.replaying


# --- patching: four versions of one workflow type ----------------------------------------


@workflow.defn(name="Patching")
class PatchingBefore:
    """The code before the change."""

    @workflow.run
    async def run(self) -> str:
        await workflow.execute_activity("old_step", start_to_close_timeout=TEN_SECONDS)
        return "old"


@workflow.defn(name="Patching")
class PatchingWithPatch:
    """The change, guarded by ``patched``: new runs take it, old histories do not."""

    @workflow.run
    async def run(self) -> str:
        if workflow.patched("use-new-step"):
            await workflow.execute_activity("new_step", start_to_close_timeout=TEN_SECONDS)
            return "new"
        await workflow.execute_activity("old_step", start_to_close_timeout=TEN_SECONDS)
        return "old"


@workflow.defn(name="Patching")
class PatchingDeprecated:
    """Once no old run remains: the new path only, still marking the patch."""

    @workflow.run
    async def run(self) -> str:
        workflow.deprecate_patch("use-new-step")
        await workflow.execute_activity("new_step", start_to_close_timeout=TEN_SECONDS)
        return "new"


@workflow.defn(name="Patching")
class PatchingRemoved:
    """The final code: the patch call is gone."""

    @workflow.run
    async def run(self) -> str:
        await workflow.execute_activity("new_step", start_to_close_timeout=TEN_SECONDS)
        return "new"


# --- run endings -------------------------------------------------------------------------


@workflow.defn
class ContinueAsNewWorkflow:
    """Counts up to three, one run per number."""

    @workflow.run
    async def run(self, n: int) -> int:
        await asyncio.sleep(1)
        if n < 3:
            workflow.continue_as_new(n + 1)
        return n


@workflow.defn
class EmitWorkflow:
    """Emits progress for streaming clients."""

    @workflow.run
    async def run(self) -> str:
        workflow.emit({"progress": 0})
        await asyncio.sleep(1)
        workflow.emit({"progress": 100})
        workflow.emit("done")
        return "ok"


@workflow.defn
class DoublingChildWorkflow:
    """Doubles its argument."""

    @workflow.run
    async def run(self, n: int) -> int:
        return n * 2


@workflow.defn
class ParentWithChildrenWorkflow:
    """Starts two children and signals another run."""

    @workflow.run
    async def run(self) -> list[Any]:
        handle = await workflow.start_child_workflow(DoublingChildWorkflow.run, 5, id="child-1")
        first = await handle
        second = await workflow.execute_child_workflow("DoublingChildWorkflow", 7)
        await workflow.get_external_workflow_handle("other-wf").signal("poke", "hi")
        return [first, second, handle.id]


@workflow.defn
class ChildFailureWorkflow:
    """Catches a child's failure."""

    @workflow.run
    async def run(self) -> str:
        try:
            await workflow.execute_child_workflow(DoublingChildWorkflow, 1, id="c")
        except ChildWorkflowError as err:
            return f"{err.workflow_type}/{err.workflow_id}: {err.cause}"
        return "no error"


@workflow.defn
class ActivityFailureWorkflow:
    """Catches an activity failure and an activity timeout."""

    @workflow.run
    async def run(self) -> list[Any]:
        out: list[Any] = []
        for name in ("charge", "ship"):
            try:
                await workflow.execute_activity(name, start_to_close_timeout=TEN_SECONDS)
            except ActivityError as err:
                cause = err.cause
                out.append([name, err.message, err.activity_type, err.scheduled_event_id,
                            type(cause).__name__, str(cause),
                            getattr(cause, "non_retryable", None),
                            getattr(cause, "type", None)])
        return out


@workflow.defn
class FailingWorkflow:
    """Fails the run on purpose."""

    @workflow.run
    async def run(self) -> None:
        await asyncio.sleep(1)
        raise ApplicationError("order rejected", "detail", type="Rejected", non_retryable=True)


@workflow.defn
class BuggyWorkflow:
    """Has a bug that shows up on a signal."""

    def __init__(self) -> None:
        self.items: dict[str, int] = {}

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: bool(self.items))
        return self.items["missing"]  # BUG-LINE

    @workflow.signal
    def add(self, name: str) -> None:
        self.items[name] = 1


@workflow.defn(failure_exception_types=[ValueError])
class DeclaredFailureWorkflow:
    """Declares ValueError a workflow failure."""

    @workflow.run
    async def run(self, value: str) -> int:
        await asyncio.sleep(1)
        return int(value)


@workflow.defn
class FailingSignalWorkflow:
    """A signal handler that fails the run."""

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal
    def explode(self, message: str) -> None:
        raise ApplicationError(message)


@workflow.defn
class CancellableWorkflow:
    """Waits on an activity; on cancellation the activity gets a cancel request."""

    @workflow.run
    async def run(self) -> str:
        await workflow.execute_activity("long", start_to_close_timeout=TEN_SECONDS)
        return "finished"


@workflow.defn
class CleanupOnCancelWorkflow:
    """Catches the cancellation, runs a cleanup activity, then ends cancelled."""

    @workflow.run
    async def run(self) -> str:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await workflow.execute_activity("cleanup", start_to_close_timeout=TEN_SECONDS)
            raise
        return "slept"


# --- declarations ----------------------------------------------------------------------------


@workflow.defn(name="InitGreeter")
class InitArgsWorkflow:
    """``workflow.init``: __init__ receives the run arguments, decoded by annotation."""

    @workflow.init
    def __init__(self, who: str, times: int) -> None:
        self.greeting = " ".join([f"hello {who}"] * times)

    @workflow.run
    async def run(self, who: str, times: int) -> str:
        return self.greeting


class BaseHandlers:
    """Handlers inherited by a workflow class."""

    def __init__(self) -> None:
        self.value = 0

    @workflow.signal(name="set-value")
    def set_value(self, value: int) -> None:
        self.value = value

    @workflow.query
    def current(self) -> int:
        return self.value


@workflow.defn
class InheritingWorkflow(BaseHandlers):
    """Gets its signal and query from BaseHandlers."""

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.value > 0)
        return self.value


@workflow.defn
class CancellationTypesWorkflow:
    """Cancels an activity handle after one second, with the given cancellation type."""

    @workflow.run
    async def run(self, cancellation_type: str) -> list[Any]:
        start = workflow.time()
        handle = workflow.start_activity(
            "long", start_to_close_timeout=TEN_SECONDS,
            cancellation_type=workflow.ActivityCancellationType(cancellation_type))
        await asyncio.sleep(1)
        handle.cancel()
        try:
            await handle
        except ActivityError as err:
            assert isinstance(err.cause, CancelledError)
            return ["cancelled", workflow.time() - start]
        return ["finished", workflow.time() - start]
