"""The schedule workflow's activities: start an action's run, stop one, check which run.

Every worker registers them (bound to its client) beside the user's activities.
Starting is idempotent: the run's workflow id is the action's id plus the due time,
so an attempt retried after a crash (the run was started, the result was not
recorded) finds that run and returns it instead of starting another.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from replay.history import RunInfo

from .._client._client import Client
from .._client._errors import (
    WorkflowAlreadyStartedError,
    WorkflowClosedError,
    WorkflowNotFoundError,
)
from .._client._inputs import StartWorkflowInput
from .._core._activity_defn import defn
from .._core._chain_effects import SCHEDULED_BY_HEADER
from .._core._common import WorkflowIDReusePolicy
from .._core._schedule_types import ActionRecord

START_ACTIVITY = "replay.schedule.start"
STOP_ACTIVITY = "replay.schedule.stop"
CHECK_ACTIVITY = "replay.schedule.check"


@attrs.frozen(kw_only=True)
class StartRequest:
    """Start ``action`` as run ``workflow_id`` for the schedule ``schedule_workflow_id``."""

    schedule_workflow_id: str
    workflow_id: str
    action: ActionRecord


@attrs.frozen(kw_only=True)
class StartResult:
    """The run (its first run id), when it started, and its status if it already ended."""

    run_id: str
    started_at: datetime
    closed: str | None = None


@attrs.frozen(kw_only=True)
class StopRequest:
    """Cancel (or terminate) the open run of ``workflow_id``."""

    workflow_id: str
    terminate: bool
    reason: str


class ScheduleActivities:
    """The activities, bound to the client of the worker that runs them."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def all(self) -> list[Callable[..., Any]]:
        """The bound activities, to register on a worker."""
        return [self.start, self.stop, self.check]

    @defn(name=START_ACTIVITY)
    async def start(self, request: StartRequest) -> StartResult:
        """Start the action's run, or find the one an earlier attempt started."""
        found = await self._latest(request.workflow_id)
        if found is not None:
            return _result(found)
        a = request.action
        # another attempt of this start may get there first: then report its run
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await self._client.outbound.start_workflow(StartWorkflowInput(
                workflow=a.workflow, args=list(a.args), id=request.workflow_id,
                task_queue=a.task_queue, execution_timeout=a.execution_timeout,
                run_timeout=a.run_timeout, task_timeout=a.task_timeout, memo=a.memo,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                headers={SCHEDULED_BY_HEADER: request.schedule_workflow_id},
                workflow_ref=a.workflow))
        found = await self._latest(request.workflow_id)
        assert found is not None, "a run that was just started is in the store"
        return _result(found)

    @defn(name=STOP_ACTIVITY)
    async def stop(self, request: StopRequest) -> None:
        """Cancel or terminate the run (nothing if it has ended already)."""
        handle = self._client.get_workflow_handle(request.workflow_id)
        try:
            if request.terminate:
                await handle.terminate(reason=request.reason)
            else:
                await handle.cancel()
        except (WorkflowClosedError, WorkflowNotFoundError):
            pass

    @defn(name=CHECK_ACTIVITY)
    async def check(self, workflow_ids: list[str]) -> list[str]:
        """Which of ``workflow_ids`` still have an open run."""
        still = []
        for workflow_id in workflow_ids:
            run = await self._latest(workflow_id)
            if run is not None and run.status == "running":
                still.append(workflow_id)
        return still

    async def _latest(self, workflow_id: str) -> RunInfo | None:
        return await self._client.store_calls(self._client.store.latest_run, workflow_id)


def _result(run: RunInfo) -> StartResult:
    return StartResult(run_id=run.first_execution_run_id, started_at=run.start_time,
                       closed=None if run.status == "running" else run.status)
