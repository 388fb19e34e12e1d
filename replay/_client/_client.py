"""Client: opens a store and starts, finds and lists workflow runs."""

from __future__ import annotations

import asyncio
import os
import secrets
import types
import typing
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Concatenate, TypedDict, TypeVar, Unpack

from replay.history import (
    CodecStore,
    Deliver,
    Operation,
    PayloadConverter,
    PrunedRun,
    RunAlreadyExistsError,
    RunInfo,
    SignalReceived,
    SqliteStore,
    Start,
    Store,
    WorkflowStarted,
    WorkflowTerminated,
    prune_closed_runs,
    store_from_url,
)

from .._core._args import UNSET, all_args
from .._core._clock import Clock, SystemClock
from .._core._common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from .._core._cron import CronSchedule
from .._core._data_converter import DataConverter
from .._core._definition import WorkflowDefinition, owner_workflow, workflow_name
from .._core._schedule_types import Schedule, ScheduleBackfill, ScheduleListDescription
from .._core._search_attributes import TypedSearchAttributes, encode_attributes
from .._replay._queries import QueryEngine
from ._async_activity import AsyncActivityHandle
from ._checks import MessageChecks
from ._commit_queue import CommitQueue
from ._eager import run_eagerly
from ._errors import UnsupportedTargetError, WorkflowAlreadyStartedError
from ._handle import (
    WorkflowExecutionDescription,
    WorkflowHandle,
    WorkflowUpdateHandle,
    WorkflowUpdateStage,
)
from ._inputs import (
    CancelWorkflowInput,
    DescribeWorkflowInput,
    QueryWorkflowInput,
    SignalWorkflowInput,
    StartWorkflowInput,
    StartWorkflowUpdateInput,
    TerminateWorkflowInput,
    check_rpc_options,
)
from ._interceptors import Interceptor, OutboundInterceptor
from ._list_query import WorkflowExecutionAsyncIterator, WorkflowExecutionCount, run_lister
from ._local import LocalWorkers
from ._schedules import (
    ScheduleHandle,
    create_schedule,
    list_schedules,
)
from ._store_calls import StoreCalls
from ._typing import (
    MultiParams,
    ParamType,
    ReturnType,
    SelfType,
    StartWorkflowOptions,
)
from ._with_start import WithStartWorkflowOperation, update_with_start

T = TypeVar("T")
_NO_METADATA: Mapping[str, str | bytes] = types.MappingProxyType({})
_FAILED_STATES = {"failed", "canceled", "terminated", "timed_out"}


def open_store(target: str | None) -> Store:
    """The store for a connect target: a sqlite:/// URL, a path, memory:// or a
    postgresql:// URL (see :func:`replay.history.store_from_url`)."""
    if target is None:
        return SqliteStore(os.environ.get("REPLAY_DB", "replay.db"))
    store = store_from_url(target)
    if store is None:
        raise UnsupportedTargetError(target)
    return store


class ClientConfig(TypedDict):
    """What a client was built with (:meth:`Client.config`): ``Client(**config)``
    builds another one on the same store with the same options."""

    store: Store
    data_converter: DataConverter
    clock: Clock
    interceptors: Sequence[Interceptor]
    retention: timedelta | None


def pick_data_converter(data_converter: DataConverter | None,
                        payload_converter: PayloadConverter | None) -> DataConverter:
    """``data_converter``, or one around a bare ``payload_converter``, or the default."""
    if data_converter is not None and payload_converter is not None:
        raise TypeError("pass data_converter= or payload_converter=, not both (a "
                        "DataConverter holds its payload converter)")
    if data_converter is not None:
        if not isinstance(data_converter, DataConverter):
            raise TypeError("data_converter must be a replay.converter.DataConverter, got "
                            f"{type(data_converter).__name__}")
        return data_converter
    if payload_converter is not None:
        return DataConverter.wrapping(payload_converter)
    return DataConverter.default


class Client:
    """The entry point for applications: start runs and get handles to them.

    Awaited calls (here and on handles) never block the caller's event loop on
    the store: a SQLite store's work runs in the client's own threads (see
    ``store_calls``), so a lock held by another process stalls only the call
    that needs it.
    """

    def __init__(self, store: Store, *, data_converter: DataConverter | None = None,
                 converter: PayloadConverter | None = None,
                 clock: Clock | None = None, interceptors: Sequence[Interceptor] = (),
                 retention: timedelta | None = None) -> None:
        """``data_converter`` (or a bare payload ``converter``) is used by this client,
        its handles and the workers, replayers and environments made with it. With a
        payload codec, ``store`` is seen through it: payloads are encoded at rest."""
        self.data_converter = pick_data_converter(data_converter, converter)
        """How values become payloads (and what a codec does to them at rest)."""
        self._given_store = store
        codec = self.data_converter.payload_codec
        self.store: Store = store if codec is None else CodecStore(store, codec)
        self.retention = retention
        """How long closed runs are kept: :meth:`prune` removes older ones (None: kept)."""
        self.interceptors = list(interceptors)
        """As given; those that are also worker interceptors are used by its workers too."""
        outbound: OutboundInterceptor = _ClientImpl(self)
        for interceptor in reversed(self.interceptors):
            outbound = interceptor.intercept_client(outbound)
        self.outbound = outbound
        """The interceptor chain every start and handle call goes through (outermost
        first, ending in the client's own implementation)."""
        self.converter = self.data_converter.payload_converter
        """The payload converter (``data_converter.payload_converter``)."""
        self.clock: Clock = clock or SystemClock()
        self.store_calls = StoreCalls(self.store)
        """Runs store calls of awaited methods off the event loop."""
        self.commits = CommitQueue(self.store, self.store_calls)
        """Writes the client's starts and signals off the event loop, those asked for
        while another is being written together in one transaction (group commit)."""
        self.queries = QueryEngine(self.store, self.converter, store_calls=self.store_calls)
        self.local_workers = LocalWorkers()
        """Workers of this process running against this client (they register themselves)."""
        self.checks = MessageChecks(self.converter, self.local_workers, store,
                                    self.store_calls)
        """Checks of messages against the workflow code this process knows."""

    @classmethod
    async def connect(cls, target: str | None = None, *, namespace: str = "default",
                      data_converter: DataConverter | None = None,
                      payload_converter: PayloadConverter | None = None,
                      clock: Clock | None = None, interceptors: Sequence[Interceptor] = (),
                      retention: timedelta | None = None) -> Client:
        """Open the embedded default (``./replay.db`` or ``$REPLAY_DB``) or ``target``.

        ``namespace`` exists for familiar code: a store is one namespace, so only
        ``"default"`` is accepted (TypeError otherwise); open another store to keep
        runs apart. ``retention`` is how long closed runs are kept (see :meth:`prune`).
        """
        if namespace != "default":
            raise TypeError(
                f"Client.connect(namespace={namespace!r}) is not supported: replay is "
                "embedded and each store is a single namespace, so only "
                "namespace='default' is accepted. To keep runs apart, open another store, "
                "e.g. Client.connect('sqlite:///other.db').")
        chosen = pick_data_converter(data_converter, payload_converter)
        store = await asyncio.to_thread(open_store, target)  # opening can wait on a lock
        return cls(store, data_converter=chosen, clock=clock, interceptors=interceptors,
                   retention=retention)

    def config(self) -> ClientConfig:
        """The options this client was built with; ``Client(**client.config())`` (with
        any of them replaced) builds another client on the same store."""
        return ClientConfig(store=self._given_store, data_converter=self.data_converter,
                            clock=self.clock, interceptors=list(self.interceptors),
                            retention=self.retention)

    async def prune(self, *, older_than: timedelta | None = None, statuses: Sequence[str] = (),
                    export_to: str | os.PathLike[str] | None = None,
                    dry_run: bool = False) -> list[PrunedRun]:
        """Remove closed runs that ended more than ``older_than`` (default: the client's
        ``retention``) ago, by the client's clock; running runs are never touched.

        With ``export_to`` each run's history is first saved there as ``<run id>.json``
        (the history file format) and read back. Each run goes through the store's one
        audited path for deleting (see ``replay prune``). ValueError when neither
        ``older_than`` nor ``retention`` is set. Returns what was (with ``dry_run``:
        would be) pruned.
        """
        keep = older_than if older_than is not None else self.retention
        if keep is None:
            raise ValueError("Client.prune() needs older_than=..., or connect with "
                             "retention=timedelta(...)")
        cutoff = self.clock.now() - keep
        # the store as given: exported files keep payloads as they are at rest
        return await asyncio.to_thread(prune_closed_runs, self._given_store, cutoff,
                                       statuses=statuses, export_to=export_to,
                                       dry_run=dry_run)

    def close(self) -> None:
        """Close the store (after the store calls in flight have finished)."""
        self.store_calls.close()
        self.store.close()

    # --- starting ------------------------------------------------------------------------

    @typing.overload
    async def start_workflow(
        self, workflow: Callable[[SelfType], Awaitable[ReturnType]], *, id: str,
        task_queue: str, result_type: Any = ..., **options: Unpack[StartWorkflowOptions],
    ) -> WorkflowHandle[SelfType, ReturnType]: ...
    @typing.overload
    async def start_workflow(
        self, workflow: Callable[[SelfType, ParamType], Awaitable[ReturnType]], arg: ParamType,
        *, id: str, task_queue: str, result_type: Any = ...,
        **options: Unpack[StartWorkflowOptions],
    ) -> WorkflowHandle[SelfType, ReturnType]: ...
    @typing.overload
    async def start_workflow(
        self, workflow: Callable[Concatenate[SelfType, MultiParams], Awaitable[ReturnType]], *,
        args: Sequence[Any], id: str, task_queue: str, result_type: Any = ...,
        **options: Unpack[StartWorkflowOptions],
    ) -> WorkflowHandle[SelfType, ReturnType]: ...
    @typing.overload
    async def start_workflow(
        self, workflow: type[SelfType] | str, arg: Any = ..., *, id: str, task_queue: str,
        args: Sequence[Any] = ..., result_type: Any = ..., **options: Unpack[StartWorkflowOptions],
    ) -> WorkflowHandle[Any, Any]: ...
    async def start_workflow(
        self,
        workflow: Any,
        arg: Any = UNSET,
        *,
        id: str,
        task_queue: str,
        args: Sequence[Any] = (),
        id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.UNSPECIFIED,
        start_signal: str | None = None,
        start_signal_args: Sequence[Any] = (),
        execution_timeout: timedelta | None = None,
        run_timeout: timedelta | None = None,
        memo: dict[str, Any] | None = None,
        search_attributes: TypedSearchAttributes | None = None,
        result_type: Any = None,
        task_timeout: timedelta | None = None,
        rpc_metadata: Mapping[str, str | bytes] = _NO_METADATA,
        rpc_timeout: timedelta | None = None,
        cron_schedule: str = "",
        request_eager_start: bool = False,
    ) -> WorkflowHandle[Any, Any]:
        """Start a run (or, with ``start_signal``, signal the open one or start and signal).

        Given the workflow's ``@workflow.run`` method, the handle is typed by it
        (``WorkflowHandle[MyWorkflow, Result]``) and a wrong argument fails type checking.

        ``task_timeout`` is accepted for familiar code and not recorded: replay does
        not time workflow tasks out. ``rpc_metadata`` and ``rpc_timeout`` are checked
        for their types and have no other effect (there is no remote call).
        ``search_attributes`` (``TypedSearchAttributes``) are indexed in the store for
        ``list_workflows`` queries; a value that does not fit its key's type raises
        SearchAttributeError naming the key, and nothing is started.

        ``cron_schedule`` (five cron fields or a shorthand such as ``@hourly``, UTC)
        makes the run wait for the next matching time before its code runs; each run
        that completes, fails or times out is followed by the next one, until a run is
        cancelled or terminated. An invalid expression raises InvalidCronError (RPL-SC01)
        naming the column, and nothing is written.

        ``request_eager_start``: if a worker of this process polls ``task_queue`` on
        this event loop, it runs the new run's first workflow task before this call
        returns (no wait for its next poll); otherwise the start is a normal one.
        """
        check_rpc_options("start_workflow", rpc_metadata, rpc_timeout)
        if cron_schedule:
            CronSchedule.parse(cron_schedule)
        if task_timeout is not None and not isinstance(task_timeout, timedelta):
            raise TypeError("start_workflow: task_timeout must be a timedelta or None")
        name, declared = workflow_name(workflow)
        return await self.outbound.start_workflow(StartWorkflowInput(
            workflow=name, args=all_args(arg, args), id=id, task_queue=task_queue,
            execution_timeout=execution_timeout, run_timeout=run_timeout,
            task_timeout=task_timeout, id_reuse_policy=id_reuse_policy,
            id_conflict_policy=id_conflict_policy, memo=memo,
            search_attributes=search_attributes, start_signal=start_signal,
            start_signal_args=start_signal_args,
            ret_type=result_type if result_type is not None else declared,
            rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout, workflow_ref=workflow,
            cron_schedule=cron_schedule, request_eager_start=request_eager_start))

    async def begin_run(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        """Start the run ``input`` describes (the end of the client's chain)."""
        workflow, name, id, task_queue = input.workflow_ref, input.workflow, input.id, \
            input.task_queue
        id_reuse_policy, id_conflict_policy = input.id_reuse_policy, input.id_conflict_policy
        start_signal, start_signal_args = input.start_signal, input.start_signal_args
        memo, headers = dict(input.memo) if input.memo else None, dict(input.headers)
        hint = owner_workflow(workflow) if workflow and not isinstance(workflow, str) else None
        attributes = encode_attributes(input.search_attributes)
        if input.cron_schedule:  # an interceptor may have set it: check it again
            CronSchedule.parse(input.cron_schedule)
        payloads = self.converter.to_payloads(input.args)
        self.checks.check_args(name, "workflow", name, payloads, hint)
        await self.checks.check_registered_start(task_queue, name, payloads, hint)
        rtype = input.ret_type
        now = self.clock.now()
        # Only a start signal or a policy other than the defaults needs the id's latest
        # run before the commit; by default the commit itself refuses a second open run
        # of the id (one store call less).
        plain = (start_signal is None
                 and id_reuse_policy is WorkflowIDReusePolicy.ALLOW_DUPLICATE
                 and id_conflict_policy is WorkflowIDConflictPolicy.UNSPECIFIED)
        existing = None if plain else await self.store_calls(self.store.latest_run, id)
        signal_ops: list[Operation] = []
        ops: list[Operation] = []
        if start_signal is not None:
            self.checks.check_handler(name, "signal", start_signal, hint)
            sig_payloads = self.converter.to_payloads(start_signal_args)
            await self.checks.check_registered_message(task_queue, name, "signal",
                                                       start_signal, sig_payloads, hint)
            if existing is not None and existing.status == "running":
                async with self.local_workers.sending(existing.run_id):
                    await self.commits.commit([Deliver(
                        existing.run_id, SignalReceived(event_id=0, time=now,
                                                        signal_name=start_signal,
                                                        args=sig_payloads, headers=headers))])
                return self._handle(id, existing.run_id, existing.first_execution_run_id,
                                    rtype)
        if existing is not None and existing.status == "running":
            policy = id_conflict_policy
            if id_reuse_policy is WorkflowIDReusePolicy.TERMINATE_IF_RUNNING:
                policy = WorkflowIDConflictPolicy.TERMINATE_EXISTING
            if policy is WorkflowIDConflictPolicy.USE_EXISTING:
                return self._handle(id, existing.run_id, existing.first_execution_run_id,
                                    rtype)
            if policy is WorkflowIDConflictPolicy.TERMINATE_EXISTING:
                ops.append(Deliver(existing.run_id, WorkflowTerminated(
                    event_id=0, time=now, reason="terminated by a new start with "
                    "id_conflict_policy TERMINATE_EXISTING")))
            else:
                raise WorkflowAlreadyStartedError(id, name, existing.run_id,
                                                  f"run {existing.run_id!r} is still open")
        elif existing is not None:
            if id_reuse_policy is WorkflowIDReusePolicy.REJECT_DUPLICATE:
                raise WorkflowAlreadyStartedError(
                    id, name, existing.run_id,
                    "the id was used before and id_reuse_policy is REJECT_DUPLICATE")
            if (id_reuse_policy is WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
                    and existing.status not in _FAILED_STATES):
                raise WorkflowAlreadyStartedError(
                    id, name, existing.run_id,
                    f"the last run {existing.status} and id_reuse_policy is "
                    "ALLOW_DUPLICATE_FAILED_ONLY")
        run_id = str(uuid.uuid4())
        started = WorkflowStarted(
            event_id=1, time=now, workflow_type=name, workflow_id=id, task_queue=task_queue,
            args=payloads, random_seed=secrets.randbits(62), first_execution_run_id=run_id,
            memo=self.converter.to_payload(memo) if memo else {},
            execution_timeout=input.execution_timeout, run_timeout=input.run_timeout,
            headers=headers, cron_schedule=input.cron_schedule,
            search_attributes=attributes)
        ops.append(Start(run_id, started))
        if start_signal is not None:
            signal_ops.append(Deliver(run_id, SignalReceived(
                event_id=0, time=now, signal_name=start_signal,
                args=self.converter.to_payloads(start_signal_args), headers=headers)))
        opened = self.store.change_token()  # the run is open from its commit on
        try:
            await self.commits.commit([*ops, *signal_ops])
        except RunAlreadyExistsError as exc:
            why = f"run {exc.existing_run_id!r} is still open" if plain else \
                "another client started it first"
            raise WorkflowAlreadyStartedError(id, name, exc.existing_run_id, why) from exc
        if input.request_eager_start:
            run_eagerly(self.local_workers, run_id, task_queue)
        return self._handle(id, run_id, run_id, rtype, opened,
                            without_cron=not input.cron_schedule)

    async def start_update_with_start_workflow(
            self, update: Any, arg: Any = UNSET, *,
            start_workflow_operation: WithStartWorkflowOperation,
            wait_for_stage: WorkflowUpdateStage, args: Sequence[Any] = (),
            id: str | None = None, result_type: Any = None,
            rpc_metadata: Mapping[str, str | bytes] = _NO_METADATA,
            rpc_timeout: timedelta | None = None) -> WorkflowUpdateHandle[Any]:
        """Start the operation's run (or, as its id_conflict_policy says, use the open
        one) and send it ``update``, the start and the update in one store commit;
        returns once the update reached ``wait_for_stage`` (ACCEPTED or COMPLETED)."""
        check_rpc_options("start_update_with_start_workflow", rpc_metadata, rpc_timeout)
        return await update_with_start(self, start_workflow_operation, update,
                                       all_args(arg, args), id, wait_for_stage, result_type)

    async def execute_update_with_start_workflow(
            self, update: Any, arg: Any = UNSET, *,
            start_workflow_operation: WithStartWorkflowOperation, args: Sequence[Any] = (),
            id: str | None = None, result_type: Any = None,
            rpc_metadata: Mapping[str, str | bytes] = _NO_METADATA,
            rpc_timeout: timedelta | None = None) -> Any:
        """:meth:`start_update_with_start_workflow` waiting for the update's result."""
        handle = await self.start_update_with_start_workflow(
            update, arg, start_workflow_operation=start_workflow_operation,
            wait_for_stage=WorkflowUpdateStage.COMPLETED, args=args, id=id,
            result_type=result_type, rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout)
        return await handle.result()

    @typing.overload
    async def execute_workflow(
        self, workflow: Callable[[SelfType], Awaitable[ReturnType]], *, id: str,
        task_queue: str, result_type: Any = ..., **options: Unpack[StartWorkflowOptions],
    ) -> ReturnType: ...
    @typing.overload
    async def execute_workflow(
        self, workflow: Callable[[SelfType, ParamType], Awaitable[ReturnType]], arg: ParamType,
        *, id: str, task_queue: str, result_type: Any = ...,
        **options: Unpack[StartWorkflowOptions],
    ) -> ReturnType: ...
    @typing.overload
    async def execute_workflow(
        self, workflow: Callable[Concatenate[SelfType, MultiParams], Awaitable[ReturnType]], *,
        args: Sequence[Any], id: str, task_queue: str, result_type: Any = ...,
        **options: Unpack[StartWorkflowOptions],
    ) -> ReturnType: ...
    @typing.overload
    async def execute_workflow(
        self, workflow: type[SelfType] | str, arg: Any = ..., *, id: str, task_queue: str,
        args: Sequence[Any] = ..., result_type: Any = ..., **options: Unpack[StartWorkflowOptions],
    ) -> Any: ...
    async def execute_workflow(self, workflow: Any, arg: Any = UNSET, **kwargs: Any) -> Any:
        """Start a run and wait for its result (typed by the run method's annotation)."""
        handle = await self.start_workflow(workflow, arg, **kwargs)
        return await handle.result()

    def _handle(self, id: str, run_id: str, first: str, result_type: Any,
                open_at: int | None = None, *,
                without_cron: bool = False) -> WorkflowHandle[Any, Any]:
        return WorkflowHandle(self, id, run_id=None, result_run_id=run_id,
                              first_execution_run_id=first, result_type=result_type,
                              open_at=open_at, without_cron=without_cron)

    # --- handles and listings -------------------------------------------------------------------

    def get_workflow_handle(self, workflow_id: str, *, run_id: str | None = None,
                            first_execution_run_id: str | None = None,
                            result_type: Any = None) -> WorkflowHandle[Any, Any]:
        """A handle to the newest run of ``workflow_id`` (or to ``run_id``)."""
        return WorkflowHandle(self, workflow_id, run_id=run_id,
                              first_execution_run_id=first_execution_run_id,
                              result_type=result_type)

    def get_workflow_handle_for(
            self, workflow: Callable[Concatenate[SelfType, MultiParams], Awaitable[ReturnType]],
            workflow_id: str, *, run_id: str | None = None,
            first_execution_run_id: str | None = None) -> WorkflowHandle[SelfType, ReturnType]:
        """Typed variant: the result type comes from the workflow's run method."""
        _, rtype = workflow_name(workflow)
        handle: WorkflowHandle[SelfType, ReturnType] = self.get_workflow_handle(
            workflow_id, run_id=run_id, first_execution_run_id=first_execution_run_id,
            result_type=rtype)
        return handle

    def get_async_activity_handle(self, *, task_token: bytes | None = None,
                                  workflow_id: str | None = None, run_id: str | None = None,
                                  activity_id: str | None = None) -> AsyncActivityHandle:
        """A handle that completes, fails or heartbeats an activity that called
        ``activity.raise_complete_async()``: by ``task_token`` (its
        ``activity.info().task_token``) or by ``workflow_id``, ``activity_id`` and
        optionally ``run_id`` (default: the workflow's newest run)."""
        by_ids = workflow_id is not None or activity_id is not None or run_id is not None
        if (task_token is None) == (not by_ids) or (by_ids and (
                workflow_id is None or activity_id is None)):
            raise TypeError("get_async_activity_handle() takes either task_token=, or "
                            "workflow_id= and activity_id= (with an optional run_id=)")
        return AsyncActivityHandle(self, task_token=task_token, workflow_id=workflow_id,
                                   run_id=run_id, activity_id=activity_id)

    def list_workflows(self, query: str | None = None, *, status: str | None = None,
                       workflow_type: str | None = None, limit: int | None = None,
                       page_size: int = 1000, next_page_token: bytes | None = None,
                       rpc_metadata: Mapping[str, str | bytes] = _NO_METADATA,
                       rpc_timeout: timedelta | None = None
                       ) -> WorkflowExecutionAsyncIterator:
        """Runs in the store that match ``query``, newest first.

        ``query`` is a list filter (docs/list-queries.md), e.g.
        ``"WorkflowType = 'Orders' AND ExecutionStatus = 'Running' AND Customer = 'acme'"``;
        a malformed one raises ListQueryError (with the position) when iteration
        starts. Without a query, ``status`` and ``workflow_type`` filter instead.
        ``limit`` caps how many runs are returned. ``page_size`` and
        ``next_page_token`` are accepted for familiar code (the store is read at
        once); the iterator's ``map_histories()`` yields the runs' histories.
        """
        check_rpc_options("list_workflows", rpc_metadata, rpc_timeout)
        if query is not None and not isinstance(query, str):
            raise TypeError(f"list_workflows: query must be a str, got {type(query).__name__}")
        return WorkflowExecutionAsyncIterator(
            run_lister(self.store, self.store_calls, query, status=status,
                       workflow_type=workflow_type, limit=limit),
            lambda run_id: self.store_calls(self.store.history, run_id), self.converter)

    async def count_workflows(self, query: str | None = None, *, status: str | None = None,
                              workflow_type: str | None = None,
                              rpc_metadata: Mapping[str, str | bytes] = _NO_METADATA,
                              rpc_timeout: timedelta | None = None) -> WorkflowExecutionCount:
        """How many runs match ``query`` (as in :meth:`list_workflows`), or without one
        the ``status`` and ``workflow_type`` filters."""
        check_rpc_options("count_workflows", rpc_metadata, rpc_timeout)
        if query is not None:
            if status is not None or workflow_type is not None:
                raise TypeError("count_workflows: give a query or the status=/"
                                "workflow_type= filters, not both")
            return WorkflowExecutionCount(await self.store_calls(self.store.count_query,
                                                                 query))
        return WorkflowExecutionCount(await self.store_calls(
            self.store.count_runs, status=status, workflow_type=workflow_type))

    # --- schedules ---------------------------------------------------------------------------

    async def create_schedule(self, id: str, schedule: Schedule, *,
                              trigger_immediately: bool = False,
                              backfill: Sequence[ScheduleBackfill] = (),
                              memo: dict[str, Any] | None = None,
                              search_attributes: Any = None,
                              rpc_metadata: Mapping[str, str | bytes] = _NO_METADATA,
                              rpc_timeout: timedelta | None = None) -> ScheduleHandle:
        """Create a schedule: a run of the engine's schedule workflow, hosted by every
        worker of the action's task queue, that takes the action at the spec's times.

        ``trigger_immediately`` takes one action at once; ``backfill`` takes those due
        in the given ranges at once. ScheduleAlreadyRunningError (RPL-SC02) if ``id``
        exists; InvalidCronError (RPL-SC01), ValueError or TypeError for a schedule that
        cannot be used. In every error case nothing is written. ``search_attributes``
        is refused (TypeError): schedules do not index them yet.
        """
        check_rpc_options("create_schedule", rpc_metadata, rpc_timeout)
        if search_attributes is not None:
            raise TypeError("Client.create_schedule(search_attributes=...) is not supported "
                            "yet; replay would ignore it, so it refuses it instead")
        return await create_schedule(self, id, schedule,
                                     trigger_immediately=trigger_immediately,
                                     backfill=backfill, memo=memo)

    def get_schedule_handle(self, id: str) -> ScheduleHandle:
        """A handle to the schedule ``id`` (not checked until it is used)."""
        return ScheduleHandle(self, id)

    def list_schedules(self, query: str | None = None
                       ) -> AsyncIterator[ScheduleListDescription]:
        """Every schedule in the store, ordered by id (``query``: only None)."""
        _refuse_query("list_schedules", query)
        return list_schedules(self)

    async def running_runs_of_type(self, workflow_type: str) -> list[RunInfo]:
        """The open runs of ``workflow_type`` (off the event loop)."""
        return await self.store_calls(self.store.list_runs, status="running",
                                      workflow_type=workflow_type)

    def definition_for(self, workflow_type: str, hint: WorkflowDefinition | None = None
                       ) -> WorkflowDefinition | None:
        """The workflow code for a type: the class a handler reference names, else a
        worker's registration in this process, else the one class declared with that name.
        """
        return self.checks.definition_for(workflow_type, hint)


class _ClientImpl(OutboundInterceptor):
    """The end of the client's interceptor chain: the client's and handles' own work."""

    def __init__(self, client: Client) -> None:  # the end of the chain has no next
        self._client = client

    def _handle(self, id: str, run_id: str | None, first: str | None) -> WorkflowHandle[Any, Any]:
        return WorkflowHandle(self._client, id, run_id=run_id, first_execution_run_id=first)

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        return await self._client.begin_run(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        await self._handle(input.id, input.run_id,
                           input.first_execution_run_id).deliver_signal(input)

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        return await self._handle(input.id, input.run_id,
                                  input.first_execution_run_id).run_query(input)

    async def start_workflow_update(self, input: StartWorkflowUpdateInput
                                    ) -> WorkflowUpdateHandle[Any]:
        return await self._handle(input.id, input.run_id,
                                  input.first_execution_run_id).send_update(input)

    async def cancel_workflow(self, input: CancelWorkflowInput) -> None:
        await self._handle(input.id, input.run_id,
                           input.first_execution_run_id).request_cancel(input)

    async def terminate_workflow(self, input: TerminateWorkflowInput) -> None:
        await self._handle(input.id, input.run_id, input.first_execution_run_id).end_run(input)

    async def describe_workflow(self, input: DescribeWorkflowInput
                                ) -> WorkflowExecutionDescription:
        return await self._handle(input.id, input.run_id,
                                  input.first_execution_run_id).read_description(input)


def _refuse_query(method: str, query: str | None) -> None:
    if query is not None:
        raise TypeError(
            f"Client.{method}(query={query!r}) is not supported: schedules are listed in "
            "id order without a filter. Pass no query.")
