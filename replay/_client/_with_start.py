"""Update-with-start: start a run (or use the open one) and send it an update, atomically.

``Client.execute_update_with_start_workflow`` / ``start_update_with_start_workflow``
take a :class:`WithStartWorkflowOperation`. When no run of the workflow id is open,
the new run's ``Start`` and the update request commit in one store transaction
(``RequestUpdate`` after ``Start``), so the run never exists without its update and
the update is never recorded for a run that did not start. When a run is open, the
operation's ``id_conflict_policy`` decides: ``USE_EXISTING`` sends the update to it,
``FAIL`` raises ``WorkflowAlreadyStartedError`` (from the call and from
``workflow_handle()``), ``TERMINATE_EXISTING`` terminates it in the same commit.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from replay.history import (
    Deliver,
    Operation,
    RequestUpdate,
    RunAlreadyExistsError,
    RunClosedError,
    RunInfo,
    Start,
    UpdateRequest,
    WorkflowStarted,
    WorkflowTerminated,
)

from .._core._args import UNSET, all_args
from .._core._common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from .._core._definition import handler_name, owner_workflow, workflow_name
from .._core._effects import run_close_effects
from .._core._failure import from_failure
from ._errors import WorkflowAlreadyStartedError, WorkflowUpdateFailedError
from ._handle import HandleClient, WorkflowHandle, WorkflowUpdateHandle, WorkflowUpdateStage
from ._inputs import check_rpc_options

Client = HandleClient

_FAILED_STATES = {"failed", "canceled", "terminated", "timed_out"}
_ATTEMPTS = 5
"""How often a start that lost a race to another client's start is retried (the winner's
run is then used or refused, as the conflict policy says)."""


class WithStartWorkflowOperation:
    """The start half of update-with-start: the run to start if none is open.

    ``id_conflict_policy`` is required (``USE_EXISTING``, ``FAIL`` or
    ``TERMINATE_EXISTING``): ValueError without it, as in the familiar SDK. An
    operation is used by one call only; ``await op.workflow_handle()`` gives the
    run's handle once that call has started (or found) the run, or raises what the
    call raised.
    """

    def __init__(self, workflow: Any, arg: Any = UNSET, *, id: str, task_queue: str,
                 id_conflict_policy: WorkflowIDConflictPolicy =
                 WorkflowIDConflictPolicy.UNSPECIFIED,
                 args: Sequence[Any] = (),
                 id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                 execution_timeout: timedelta | None = None,
                 run_timeout: timedelta | None = None,
                 task_timeout: timedelta | None = None,
                 memo: Mapping[str, Any] | None = None, result_type: Any = None,
                 rpc_metadata: Mapping[str, str | bytes] | None = None,
                 rpc_timeout: timedelta | None = None) -> None:
        if id_conflict_policy is WorkflowIDConflictPolicy.UNSPECIFIED:
            raise ValueError("WithStartWorkflowOperation needs an id_conflict_policy "
                             "(WorkflowIDConflictPolicy.USE_EXISTING, FAIL or "
                             "TERMINATE_EXISTING): it decides what happens when a run of "
                             f"workflow id {id!r} is already open")
        check_rpc_options("WithStartWorkflowOperation", rpc_metadata or {}, rpc_timeout)
        if task_timeout is not None and not isinstance(task_timeout, timedelta):
            raise TypeError("WithStartWorkflowOperation: task_timeout must be a timedelta")
        self.workflow, declared = workflow_name(workflow)
        self.args = all_args(arg, args)
        self.id = id
        self.task_queue = task_queue
        self.id_conflict_policy = id_conflict_policy
        self.id_reuse_policy = id_reuse_policy
        self.execution_timeout = execution_timeout
        self.run_timeout = run_timeout
        self.memo = dict(memo) if memo else None
        self.result_type = result_type if result_type is not None else declared
        self._hint = owner_workflow(workflow) if not isinstance(workflow, str) else None
        self._handle: asyncio.Future[WorkflowHandle[Any, Any]] | None = None
        self._used = False

    def _future(self) -> asyncio.Future[WorkflowHandle[Any, Any]]:
        if self._handle is None:
            self._handle = asyncio.get_running_loop().create_future()
        return self._handle

    async def workflow_handle(self) -> WorkflowHandle[Any, Any]:
        """The handle of the run the update went to (waits for the call to get that far)."""
        return await asyncio.shield(self._future())

    def _claim(self) -> None:
        if self._used:
            raise RuntimeError("a WithStartWorkflowOperation can be used by one "
                               "update-with-start call only; make a new one")
        self._used = True


async def update_with_start(client: Client, op: WithStartWorkflowOperation, update: Any,
                            args: Sequence[Any], update_id: str | None,
                            wait_for_stage: WorkflowUpdateStage,
                            result_type: Any) -> WorkflowUpdateHandle[Any]:
    """Start ``op``'s run (or use the open one) with the update; wait for the stage."""
    if wait_for_stage is WorkflowUpdateStage.ADMITTED:
        raise ValueError("update-with-start waits for the ACCEPTED or COMPLETED stage; "
                         "ADMITTED is not supported (as in the familiar SDK)")
    name, payloads, rtype = _checked(client, op, update, args, result_type)
    op._claim()
    future = op._future()
    try:
        handle, run_id = await _commit(client, op, name, payloads, update_id)
    except BaseException as exc:
        if not future.done():
            future.set_exception(exc)
            future.exception()  # retrieved: a caller that never asks is not warned
        raise
    future.set_result(handle)
    update_handle: WorkflowUpdateHandle[Any] = WorkflowUpdateHandle(
        client, run_id[1], op.id, run_id[0], name, rtype)
    await _reaching(client, run_id[0], run_id[1], name, wait_for_stage)
    return update_handle


def _checked(client: Client, op: WithStartWorkflowOperation, update: Any,
             args: Sequence[Any], result_type: Any) -> tuple[str, list[Any], Any]:
    """The update's name, encoded arguments and result type, checked against the code
    this process knows (before anything is written or the operation is used)."""
    name = handler_name(update, "update")
    hint = owner_workflow(update) if not isinstance(update, str) else op._hint
    client.checks.check_handler(op.workflow, "update", name, hint)
    payloads = client.converter.to_payloads(args)
    client.checks.check_args(op.workflow, "update", name, payloads, hint)
    client.checks.check_args(op.workflow, "workflow", op.workflow,
                             client.converter.to_payloads(op.args), op._hint)
    if result_type is None and hint is not None and name in hint.updates:
        result_type = hint.updates[name].return_type
    return name, payloads, result_type


async def _commit(client: Client, op: WithStartWorkflowOperation, name: str,
                  payloads: list[Any], update_id: str | None
                  ) -> tuple[WorkflowHandle[Any, Any], tuple[str, str]]:
    uid = update_id or str(uuid.uuid4())
    for _ in range(_ATTEMPTS):
        now = client.clock.now()
        existing = await client.store_calls(client.store.latest_run, op.id)
        ops: list[Operation] = []
        if existing is not None and existing.status == "running":
            if op.id_conflict_policy is WorkflowIDConflictPolicy.USE_EXISTING:
                try:
                    await client.commits.commit([
                        RequestUpdate(existing.run_id, uid, name, payloads, now)])
                except RunClosedError:
                    continue  # it closed meanwhile: look again
                return (_handle(client, op, existing.run_id, existing.first_execution_run_id),
                        (existing.run_id, uid))
            if op.id_conflict_policy is WorkflowIDConflictPolicy.FAIL:
                raise WorkflowAlreadyStartedError(op.id, op.workflow, existing.run_id,
                                                  f"run {existing.run_id!r} is still open")
            ops += await client.store_calls(_terminate, client, existing)
        else:
            _check_reuse(op, existing)
        run_id = str(uuid.uuid4())
        ops += [Start(run_id, _started(client, op, run_id)),
                RequestUpdate(run_id, uid, name, payloads, now)]
        try:
            await client.commits.commit(ops)
        except RunAlreadyExistsError:
            continue  # another client started it first: look again
        return _handle(client, op, run_id, run_id), (run_id, uid)
    raise WorkflowAlreadyStartedError(op.id, op.workflow, None,
                                      f"other clients kept starting and closing runs of it "
                                      f"({_ATTEMPTS} tries)")


def _handle(client: Client, op: WithStartWorkflowOperation, run_id: str, first: str
            ) -> WorkflowHandle[Any, Any]:
    return WorkflowHandle(client, op.id, run_id=None, result_run_id=run_id,
                          first_execution_run_id=first, result_type=op.result_type)


def _check_reuse(op: WithStartWorkflowOperation, existing: RunInfo | None) -> None:
    if existing is None:
        return
    if op.id_reuse_policy is WorkflowIDReusePolicy.REJECT_DUPLICATE:
        raise WorkflowAlreadyStartedError(
            op.id, op.workflow, existing.run_id,
            "the id was used before and id_reuse_policy is REJECT_DUPLICATE")
    if (op.id_reuse_policy is WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
            and existing.status not in _FAILED_STATES):
        raise WorkflowAlreadyStartedError(
            op.id, op.workflow, existing.run_id,
            f"the last run {existing.status} and id_reuse_policy is "
            "ALLOW_DUPLICATE_FAILED_ONLY")


def _terminate(client: Client, existing: RunInfo) -> list[Operation]:
    """TERMINATE_EXISTING: end the open run in the commit that starts the new one."""
    started = client.store.read(existing.run_id)[0]
    assert isinstance(started, WorkflowStarted)
    ended = WorkflowTerminated(event_id=0, time=client.clock.now(),
                               reason="terminated by update-with-start with "
                                      "id_conflict_policy TERMINATE_EXISTING")
    return [Deliver(existing.run_id, ended),
            *run_close_effects(client.store, existing.run_id, started, ended)]


def _started(client: Client, op: WithStartWorkflowOperation, run_id: str) -> WorkflowStarted:
    payloads = client.converter.to_payloads(op.args)
    return WorkflowStarted(
        event_id=1, time=client.clock.now(), workflow_type=op.workflow, workflow_id=op.id,
        task_queue=op.task_queue, args=payloads, random_seed=secrets.randbits(62),
        first_execution_run_id=run_id,
        memo=client.converter.to_payload(op.memo) if op.memo else {},
        execution_timeout=op.execution_timeout, run_timeout=op.run_timeout)


async def _reaching(client: Client, run_id: str, update_id: str, name: str,
                    stage: WorkflowUpdateStage) -> UpdateRequest:
    """The request once it reached ``stage`` (WorkflowUpdateFailedError if it was
    rejected, failed or aborted), woken by the store's change notifications."""
    store = client.store
    while True:
        token = store.change_token()
        req = await client.store_calls(store.get_update, run_id, update_id)
        if req is None:
            raise WorkflowUpdateFailedError(update_id, name, LookupError("no such update"))
        if req.status in ("rejected", "aborted") or (
                req.status == "completed" and req.failure is not None):
            assert req.failure is not None
            raise WorkflowUpdateFailedError(update_id, name, from_failure(req.failure))
        if req.status == "completed" or (
                req.status == "accepted" and stage is WorkflowUpdateStage.ACCEPTED):
            return req
        await store.wait_changed(1.0, since=token, run_id=run_id)
