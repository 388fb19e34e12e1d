"""WorkflowHandle and WorkflowUpdateHandle: what a client holds on to a run."""

from __future__ import annotations

import contextlib
import enum
import types
import typing
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Concatenate, Generic, Protocol, TypeVar, Unpack

import attrs

from replay.history import (
    TERMINAL_KINDS,
    CancelRequested,
    Deliver,
    Event,
    EventEmitted,
    History,
    PayloadConverter,
    RunClosedError,
    RunCloseWaits,
    RunInfo,
    SignalReceived,
    Store,
    UpdateRequest,
    WorkflowCanceled,
    WorkflowCompleted,
    WorkflowContinuedAsNew,
    WorkflowFailed,
    WorkflowStarted,
    WorkflowTerminated,
    WorkflowTimedOut,
)

from .._core._args import UNSET, all_args
from .._core._clock import Clock
from .._core._definition import WorkflowDefinition, handler_name, owner_workflow
from .._core._effects import run_close_effects
from .._core._exceptions import (
    CancelledError,
    QueryFailedError,
    TerminatedError,
    TimeoutError,
    UnknownQueryError,
)
from .._core._failure import from_failure
from .._core._search_attributes import TypedSearchAttributes, decode_attributes, untyped_attributes
from .._replay._queries import QueryEngine
from ._checks import MessageChecks
from ._commit_queue import CommitQueue
from ._describe import (
    PendingActivityInfo,
    WorkflowTaskFailure,
    pending_activities_of,
    task_failure_of,
)
from ._errors import (
    WorkflowClosedError,
    WorkflowFailureError,
    WorkflowNotFoundError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
)
from ._handle_errors import WorkflowContinuedAsNewError
from ._inputs import (
    CancelWorkflowInput,
    DescribeWorkflowInput,
    QueryWorkflowInput,
    SignalWorkflowInput,
    StartWorkflowUpdateInput,
    TerminateWorkflowInput,
    check_rpc_options,
)
from ._lineage import root_of
from ._local import LocalWorkers
from ._memo import Memo, memo_value
from ._query_routing import answer_query, answer_source
from ._raw_description import describe_as_data
from ._run_context import RunContext
from ._store_calls import StoreCalls
from ._stream import StopEvent, StreamedEvent, internal_event, stop_event
from ._typing import (
    LocalReturnType,
    MultiParams,
    ParamType,
    ReturnType,
    RpcOptions,
    SelfType,
)

T = TypeVar("T")
_NO_METADATA: Mapping[str, str | bytes] = types.MappingProxyType({})
"""``rpc_metadata``'s default (accepted and type-checked only: there is no RPC)."""


def _hint(ref: Any) -> WorkflowDefinition | None:
    """The workflow a handler reference (a method, not a name) belongs to."""
    return None if ref is None or isinstance(ref, str) else owner_workflow(ref)


class HandleClient(Protocol):
    """What a handle needs from the client that made it (``Client`` is one)."""

    @property
    def store(self) -> Store: ...
    @property
    def converter(self) -> PayloadConverter: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def queries(self) -> QueryEngine: ...
    @property
    def checks(self) -> MessageChecks: ...
    @property
    def local_workers(self) -> LocalWorkers: ...
    @property
    def store_calls(self) -> StoreCalls: ...
    @property
    def commits(self) -> CommitQueue: ...
    @property
    def outbound(self) -> ClientOutbound:
        """The client's interceptor chain, which every call below goes through."""
        ...


class ClientOutbound(Protocol):
    """What handles call on the client's interceptor chain (an ``OutboundInterceptor``)."""

    async def signal_workflow(self, input: SignalWorkflowInput) -> None: ...
    async def query_workflow(self, input: QueryWorkflowInput) -> Any: ...
    async def start_workflow_update(self, input: StartWorkflowUpdateInput
                                    ) -> WorkflowUpdateHandle[Any]: ...
    async def cancel_workflow(self, input: CancelWorkflowInput) -> None: ...
    async def terminate_workflow(self, input: TerminateWorkflowInput) -> None: ...
    async def describe_workflow(self, input: DescribeWorkflowInput
                                ) -> WorkflowExecutionDescription: ...


class WorkflowExecutionStatus(enum.Enum):
    """A run's status, as ``describe()`` and ``list_workflows()`` report it."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"
    TERMINATED = "terminated"
    CONTINUED_AS_NEW = "continued_as_new"
    TIMED_OUT = "timed_out"


class QueryRejectCondition(enum.Enum):
    """When a query should be refused because of the run's status."""

    NONE = 0
    NOT_OPEN = 1
    NOT_COMPLETED_CLEANLY = 2


class WorkflowUpdateStage(enum.Enum):
    """How far ``start_update`` waits before returning its handle (ADMITTED is refused)."""

    ADMITTED = 1
    ACCEPTED = 2
    COMPLETED = 3


def check_wait_stage(stage: Any) -> None:
    """ValueError unless ``stage`` is ACCEPTED or COMPLETED (nothing has been sent)."""
    if stage is WorkflowUpdateStage.ADMITTED:
        raise ValueError(
            "start_update(wait_for_stage=WorkflowUpdateStage.ADMITTED) is not supported, as "
            "in the familiar SDK: wait for ACCEPTED (the validator passed) or COMPLETED. "
            "Nothing was sent.")
    if not isinstance(stage, WorkflowUpdateStage):
        raise TypeError(f"start_update: wait_for_stage must be a WorkflowUpdateStage "
                        f"(ACCEPTED or COMPLETED), got {stage!r}")


@attrs.frozen(kw_only=True)
class WorkflowExecution:
    """One run, as listed by ``Client.list_workflows``.

    ``memo`` is a dict of the recorded values that can also be awaited as the
    familiar ``await memo()``; :meth:`memo_value` decodes one into a type.
    ``execution_time`` is when the run began executing (its start time: runs
    start at once here). ``root_id``/``root_run_id`` name the top of the run's
    chain of parents (the run itself without a parent; ``describe()`` follows the
    chain, a listing leaves them None for a child). ``raw_info`` is the store's
    row for the run (:class:`~replay.history.RunInfo`).
    """

    id: str
    run_id: str
    workflow_type: str
    task_queue: str
    status: WorkflowExecutionStatus
    start_time: datetime
    close_time: datetime | None
    history_length: int
    parent_id: str | None
    parent_run_id: str | None
    memo: Memo = attrs.field(converter=Memo)
    typed_search_attributes: TypedSearchAttributes = TypedSearchAttributes.empty
    """The run's search attributes now (as the store's index holds them)."""
    search_attributes: dict[str, list[Any]] = attrs.field(factory=dict)
    """The same in the familiar SDK's older untyped form: name -> list of values."""
    execution_time: datetime | None = None
    root_id: str | None = None
    root_run_id: str | None = None
    raw_info: RunInfo | None = attrs.field(default=None, eq=False, repr=False)
    data_converter: PayloadConverter | None = attrs.field(default=None, eq=False, repr=False)

    @staticmethod
    def from_run(run: RunInfo, converter: PayloadConverter | None = None,
                 root: tuple[str, str] | None = None) -> WorkflowExecution:
        if root is None and run.parent_run_id is None:
            root = (run.workflow_id, run.run_id)
        return WorkflowExecution(
            id=run.workflow_id, run_id=run.run_id, workflow_type=run.workflow_type,
            task_queue=run.task_queue, status=WorkflowExecutionStatus(run.status),
            start_time=run.start_time, close_time=run.close_time,
            history_length=run.last_event_id, parent_id=run.parent_workflow_id,
            parent_run_id=run.parent_run_id, memo=Memo(run.memo),
            execution_time=run.start_time, root_id=root[0] if root else None,
            root_run_id=root[1] if root else None, raw_info=run, data_converter=converter,
            typed_search_attributes=decode_attributes(run.search_attributes),
            search_attributes=untyped_attributes(run.search_attributes))

    async def memo_value(self, key: str, default: Any = UNSET, *,
                         type_hint: Any = None) -> Any:
        """One memo value decoded into ``type_hint``; ``default`` if the key is
        missing, else KeyError."""
        return memo_value(self.memo, self.data_converter or PayloadConverter(), key, default,
                          type_hint)


@attrs.frozen(kw_only=True)
class WorkflowExecutionDescription(WorkflowExecution):
    """``describe()``: the listing fields, the failing workflow task and the open activities.

    ``task_failure`` is set while the run's workflow task keeps failing (its cause,
    attempt count and next retry, as recorded in the store, so any process sees
    it); ``last_task_failure`` says the same in one line. ``pending_activities``
    lists the activities without an outcome yet, with their attempts, last failure
    and last heartbeat.
    """

    last_task_failure: str | None = None
    task_failure: WorkflowTaskFailure | None = None
    pending_activities: list[PendingActivityInfo] = attrs.field(factory=list)

    @property
    def raw_description(self) -> dict[str, Any]:
        """The description as JSON data (the familiar SDK's raw response, which here is
        the store's row for the run, the failing task and the open activities)."""
        return describe_as_data(self)


class WorkflowHandle(Generic[SelfType, ReturnType]):
    """A handle to a workflow id (and optionally one run of it).

    Await it (or ``result()``) for the result; ``stream_events()`` yields what
    the workflow emits, from the history, so a reconnecting client resumes
    from its offset. ``WorkflowHandle[MyWorkflow, Result]`` (what
    ``start_workflow(MyWorkflow.run, ...)`` returns) types ``result()`` and checks
    the arguments given to the workflow's handlers.
    """

    def __init__(self, client: HandleClient, id: str, *, run_id: str | None = None,
                 result_run_id: str | None = None, first_execution_run_id: str | None = None,
                 result_type: Any = None, open_at: int | None = None,
                 without_cron: bool = False) -> None:
        self._client = client
        # ``result_run_id`` was started without a cron schedule: its end starts no next
        # run of a cron chain, so the result needs no look for one
        self._no_successor = result_run_id if without_cron else None
        # a change token of the store at which ``result_run_id`` was open (its start's):
        # the first wait for its result needs no look at the run before it
        self._open_at = open_at
        self.id = id
        self._target_run_id = run_id  # the exact run calls address (None: the newest)
        self.run_id: str | None = run_id or result_run_id
        """The run this handle was made for: ``run_id`` if given, else the run
        ``start_workflow`` started (where the familiar SDK leaves it None). Calls still
        address the workflow id's newest run unless ``run_id`` was given."""
        self.result_run_id = result_run_id or run_id
        self.first_execution_run_id = first_execution_run_id
        self._result_type = result_type
        self._stop_event: StopEvent | None = None

    last_query_source: str | None = None
    """Who answered this handle's last query: ``worker <identity>`` (a worker of the
    run's task queue, running the run's code) or ``local replay`` (this process's
    copy of the code, used only when no worker answered)."""

    def __repr__(self) -> str:
        return f"WorkflowHandle(id={self.id!r}, run_id={self.run_id!r})"

    # --- finding the run ------------------------------------------------------------------

    def _run(self, run_id: str | None = None) -> RunInfo:
        store = self._client.store
        rid = run_id or self._target_run_id
        run = store.get_run(rid) if rid else store.latest_run(self.id)
        if run is None or run.workflow_id != self.id:
            raise WorkflowNotFoundError(self.id, rid)
        if self.first_execution_run_id and run.first_execution_run_id != \
                self.first_execution_run_id:
            raise WorkflowNotFoundError(self.id, self.first_execution_run_id)
        return run

    async def _found_run(self, run_id: str | None = None) -> RunInfo:
        """:meth:`_run`, off the event loop."""
        return await self._client.store_calls(self._run, run_id)

    async def _open_run(self, what: str) -> RunInfo:
        run = await self._found_run()
        if run.status != "running":
            raise WorkflowClosedError(self.id, run.run_id, run.status, what)
        return run

    # --- result ------------------------------------------------------------------------------

    def __await__(self) -> Generator[Any, None, ReturnType]:
        return self.result().__await__()

    @property
    def ctx(self) -> RunContext:
        """The run's context, as the event-driven handler has it: its info, events sent
        as signals, a read view of its state through queries, and ``to_dict()``."""
        return RunContext(self)

    def get_stop_event(self) -> StopEvent | None:
        """The stop event (the result) once this handle has seen the run complete
        (``result()``, ``await handle`` or the end of ``stream_events()``), else None."""
        return self._stop_event

    async def stop_event_result(self, *, raise_cause: bool = False) -> StopEvent:
        """Wait for the run to complete and return its stop event (see ``result()``)."""
        await self.result(raise_cause=raise_cause)
        assert self._stop_event is not None
        return self._stop_event

    async def result(self, *, follow_runs: bool = True, result_type: Any = None,
                     raise_cause: bool = False,
                     rpc_metadata: Mapping[str, str | bytes] = _NO_METADATA,
                     rpc_timeout: timedelta | None = None) -> ReturnType:
        """Wait for the run to end; its result, or WorkflowFailureError with the cause.

        With ``follow_runs`` (the default) a run that continued as new is followed to
        the chain's last run; without it, WorkflowContinuedAsNewError names the new run.
        With ``raise_cause`` the run's own exception (the ``ApplicationError`` it raised,
        ``CancelledError``, ``TerminatedError``, ``TimeoutError``) is raised instead of
        the WorkflowFailureError wrapping it, as the event-driven handler does.
        """
        check_rpc_options("result", rpc_metadata, rpc_timeout)
        try:
            return await self._result(follow_runs, result_type)
        except WorkflowFailureError as exc:
            if raise_cause:
                raise exc.cause from exc
            raise

    async def _result(self, follow_runs: bool, result_type: Any) -> ReturnType:
        store, calls = self._client.store, self._client.store_calls
        run_id = self.result_run_id or (await self._found_run()).run_id
        rtype = result_type if result_type is not None else self._result_type
        open_at, self._open_at = self._open_at, None
        while True:
            if open_at is not None:  # the run was open at this token: wait before looking
                token, open_at = open_at, None
                run = last = latest = None
            else:
                token = store.change_token()
                # one store call (one thread hop) per look: the run, and once it has
                # ended, its last event and the cron chain's newest run
                run, last, latest = await calls(self._ended, run_id, follow_runs)
                if run is None:
                    raise WorkflowNotFoundError(self.id, run_id)
            if run is None or last is None:
                if isinstance(store, RunCloseWaits):  # sleeps through the run's steps
                    await store.wait_closed(run_id, 1.0, since=token)
                else:
                    await store.wait_changed(1.0, since=token, run_id=run_id)
                continue
            if isinstance(last, WorkflowContinuedAsNew) and follow_runs:
                run_id = last.new_run_id
                continue
            if latest is not None and latest.run_id != run.run_id and \
                    latest.first_execution_run_id == run.first_execution_run_id:
                # a cron run's end started the next run of its chain: follow it
                run_id = latest.run_id
                continue
            value: ReturnType = self._outcome(run, last, rtype)
            self._stop_event = stop_event(run_id, last, value)
            return value

    def _ended(self, run_id: str, follow_runs: bool
               ) -> tuple[RunInfo | None, Event | None, RunInfo | None]:
        """The run; once it has ended, its last event, and (if ``follow_runs`` and it
        ended as a cron run may continue) the newest run of its workflow id."""
        store = self._client.store
        run = store.get_run(run_id)
        if run is None or run.status == "running":
            return run, None, None
        last = store.read(run_id, after_event_id=run.last_event_id - 1)[-1]
        latest = None
        if follow_runs and run_id != self._no_successor and isinstance(
                last, WorkflowCompleted | WorkflowFailed | WorkflowTimedOut):
            latest = store.latest_run(self.id)
        return run, last, latest

    def _outcome(self, run: RunInfo, last: Event, rtype: Any) -> Any:
        if isinstance(last, WorkflowCompleted):
            return self._client.converter.from_payload(last.result, rtype)
        cause: BaseException
        if isinstance(last, WorkflowFailed):
            cause = from_failure(last.failure)
        elif isinstance(last, WorkflowCanceled):
            cause = CancelledError("workflow cancelled")
        elif isinstance(last, WorkflowTerminated):
            cause = TerminatedError(last.reason or "terminated")
        elif isinstance(last, WorkflowTimedOut):
            cause = TimeoutError("workflow timed out", type=last.timeout_type)
        elif isinstance(last, WorkflowContinuedAsNew):
            raise WorkflowContinuedAsNewError(self.id, run.run_id, last.new_run_id)
        else:
            raise AssertionError(f"run {run.run_id!r} ended with {type(last).__name__}")
        raise WorkflowFailureError(self.id, run.run_id, run.status, cause)

    def is_done(self) -> bool:
        """True once the run has ended (any status)."""
        return self._run().status != "running"

    # --- messages ---------------------------------------------------------------------------

    @typing.overload
    async def signal(self, signal: Callable[[SelfType], Awaitable[None] | None],
                     **rpc: Unpack[RpcOptions]) -> None: ...
    @typing.overload
    async def signal(self, signal: Callable[[SelfType, ParamType], Awaitable[None] | None],
                     arg: ParamType, **rpc: Unpack[RpcOptions]) -> None: ...
    @typing.overload
    async def signal(self, signal: Callable[Concatenate[SelfType, MultiParams],
                                            Awaitable[None] | None], *,
                     args: Sequence[Any], **rpc: Unpack[RpcOptions]) -> None: ...
    @typing.overload
    async def signal(self, signal: str, arg: Any = ..., *, args: Sequence[Any] = ...,
                     **rpc: Unpack[RpcOptions]) -> None: ...
    async def signal(self, signal: Any, arg: Any = UNSET, *, args: Sequence[Any] = (),
                     rpc_metadata: Mapping[str, str | bytes] = _NO_METADATA,
                     rpc_timeout: timedelta | None = None) -> None:
        """Send a signal; WorkflowClosedError if the run has ended (nothing is written)."""
        check_rpc_options("signal", rpc_metadata, rpc_timeout)
        await self._client.outbound.signal_workflow(SignalWorkflowInput(
            id=self.id, run_id=self._target_run_id,
            first_execution_run_id=self.first_execution_run_id,
            signal=handler_name(signal, "signal"), args=all_args(arg, args),
            rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout, signal_ref=signal))

    async def deliver_signal(self, input: SignalWorkflowInput) -> None:
        """Send the signal ``input`` describes (the end of the client's chain)."""
        name = input.signal
        run = await self._open_run(f"signal {name!r}")
        hint = _hint(input.signal_ref)
        self._client.checks.check_handler(run.workflow_type, "signal", name, hint)
        payloads = self._client.converter.to_payloads(input.args)
        self._client.checks.check_args(run.workflow_type, "signal", name, payloads, hint)
        await self._client.checks.check_registered_message(
            run.task_queue, run.workflow_type, "signal", name, payloads, hint)
        try:
            async with self._client.local_workers.sending(run.run_id):
                await self._client.commits.commit([Deliver(
                    run.run_id, SignalReceived(event_id=0, time=self._client.clock.now(),
                                               signal_name=name, args=payloads,
                                               headers=dict(input.headers)))])
        except RunClosedError as exc:
            raise WorkflowClosedError(self.id, run.run_id, exc.status,
                                      f"signal {name!r}") from exc

    @typing.overload
    async def query(self, query: Callable[[SelfType], LocalReturnType], *,
                    reject_condition: QueryRejectCondition = ..., result_type: Any = ...,
                    **rpc: Unpack[RpcOptions]) -> LocalReturnType: ...
    @typing.overload
    async def query(self, query: Callable[[SelfType, ParamType], LocalReturnType],
                    arg: ParamType, *, reject_condition: QueryRejectCondition = ...,
                    result_type: Any = ..., **rpc: Unpack[RpcOptions]) -> LocalReturnType: ...
    @typing.overload
    async def query(self, query: Callable[Concatenate[SelfType, MultiParams], LocalReturnType],
                    *, args: Sequence[Any], reject_condition: QueryRejectCondition = ...,
                    result_type: Any = ..., **rpc: Unpack[RpcOptions]) -> LocalReturnType: ...
    @typing.overload
    async def query(self, query: str, arg: Any = ..., *, args: Sequence[Any] = ...,
                    reject_condition: QueryRejectCondition = ...,
                    result_type: Any = ..., rpc_metadata: Mapping[str, str | bytes] = ...,
                    rpc_timeout: timedelta | None = ...) -> Any: ...
    async def query(self, query: Any, arg: Any = UNSET, *, args: Sequence[Any] = (),
                    reject_condition: QueryRejectCondition = QueryRejectCondition.NONE,
                    result_type: Any = None,
                    rpc_metadata: Mapping[str, str | bytes] = _NO_METADATA,
                    rpc_timeout: timedelta | None = None) -> Any:
        """Run a query handler against the run's state (works on closed runs).

        A worker of the run's task queue answers, with the code the run runs on;
        only if none answers within ``rpc_timeout`` (default 5 s) and this process
        has the workflow's code is the history replayed here. ``last_query_source``
        says which answered.
        """
        check_rpc_options("query", rpc_metadata, rpc_timeout)
        with answer_source() as source:
            value = await self._client.outbound.query_workflow(QueryWorkflowInput(
                id=self.id, run_id=self._target_run_id,
                first_execution_run_id=self.first_execution_run_id,
                query=handler_name(query, "query"), args=all_args(arg, args),
                reject_condition=reject_condition, ret_type=result_type, query_ref=query,
                rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout))
        self.last_query_source = source.get()
        return value

    async def run_query(self, input: QueryWorkflowInput) -> Any:
        """Answer the query ``input`` describes (the end of the client's chain)."""
        query = input.query if input.query_ref is None else input.query_ref
        reject_condition, result_type = input.reject_condition, input.ret_type
        name = input.query
        run = await self._found_run()
        if reject_condition is QueryRejectCondition.NOT_OPEN and run.status != "running":
            raise WorkflowQueryRejectedError(self.id, run.status)
        if (reject_condition is QueryRejectCondition.NOT_COMPLETED_CLEANLY
                and run.status not in ("running", "completed")):
            raise WorkflowQueryRejectedError(self.id, run.status)
        if result_type is None and not isinstance(query, str):
            result_type = getattr(query, "__annotations__", {}).get("return")
            d = owner_workflow(query)
            if d is not None and name in d.queries:
                result_type = d.queries[name].return_type
        payloads = self._client.converter.to_payloads(input.args)
        hint = None if isinstance(query, str) else owner_workflow(query)
        await self._client.checks.check_registered_message(
            run.task_queue, run.workflow_type, "query", name, payloads, hint)
        try:
            value = await answer_query(self._client, run, name, payloads, hint,
                                       input.rpc_timeout, dict(input.headers))
        except (UnknownQueryError, QueryFailedError) as exc:
            raise WorkflowQueryFailedError(str(exc)) from exc
        return self._client.converter.from_payload(value, result_type)

    @typing.overload
    async def execute_update(
        self, update: Callable[[SelfType], Awaitable[LocalReturnType]], *,
        id: str | None = ..., result_type: Any = ..., **rpc: Unpack[RpcOptions]
    ) -> LocalReturnType: ...
    @typing.overload
    async def execute_update(
        self, update: Callable[[SelfType], LocalReturnType], *,
        id: str | None = ..., result_type: Any = ..., **rpc: Unpack[RpcOptions]
    ) -> LocalReturnType: ...
    @typing.overload
    async def execute_update(
        self, update: Callable[[SelfType, ParamType], Awaitable[LocalReturnType]],
        arg: ParamType, *, id: str | None = ..., result_type: Any = ..., **rpc: Unpack[RpcOptions]
    ) -> LocalReturnType: ...
    @typing.overload
    async def execute_update(
        self, update: Callable[[SelfType, ParamType], LocalReturnType], arg: ParamType, *,
        id: str | None = ..., result_type: Any = ..., **rpc: Unpack[RpcOptions]
    ) -> LocalReturnType: ...
    @typing.overload
    async def execute_update(
        self, update: Callable[Concatenate[SelfType, MultiParams], Awaitable[LocalReturnType]],
        *, args: Sequence[Any], id: str | None = ..., result_type: Any = ...,
        **rpc: Unpack[RpcOptions]
    ) -> LocalReturnType: ...
    @typing.overload
    async def execute_update(
        self, update: Callable[Concatenate[SelfType, MultiParams], LocalReturnType], *,
        args: Sequence[Any], id: str | None = ..., result_type: Any = ..., **rpc: Unpack[RpcOptions]
    ) -> LocalReturnType: ...
    @typing.overload
    async def execute_update(self, update: str, arg: Any = ..., *, args: Sequence[Any] = ...,
                             id: str | None = ..., result_type: Any = ...,
                             rpc_metadata: Mapping[str, str | bytes] = ...,
                             rpc_timeout: timedelta | None = ...) -> Any: ...
    async def execute_update(self, update: Any, arg: Any = UNSET, *,
                             args: Sequence[Any] = (), id: str | None = None,
                             result_type: Any = None,
                             rpc_metadata: Mapping[str, str | bytes] = _NO_METADATA,
                             rpc_timeout: timedelta | None = None) -> Any:
        """Send an update and wait for its result (WorkflowUpdateFailedError if it fails)."""
        handle = await self.start_update(update, arg, args=args, id=id,
                                         wait_for_stage=WorkflowUpdateStage.COMPLETED,
                                         result_type=result_type, rpc_metadata=rpc_metadata,
                                         rpc_timeout=rpc_timeout)
        return await handle.result()

    @typing.overload
    async def start_update(
        self, update: Callable[[SelfType], Awaitable[LocalReturnType]], *,
        wait_for_stage: WorkflowUpdateStage, id: str | None = ..., result_type: Any = ...,
        **rpc: Unpack[RpcOptions]) -> WorkflowUpdateHandle[LocalReturnType]: ...
    @typing.overload
    async def start_update(
        self, update: Callable[[SelfType], LocalReturnType], *,
        wait_for_stage: WorkflowUpdateStage, id: str | None = ..., result_type: Any = ...,
        **rpc: Unpack[RpcOptions]) -> WorkflowUpdateHandle[LocalReturnType]: ...
    @typing.overload
    async def start_update(
        self, update: Callable[[SelfType, ParamType], Awaitable[LocalReturnType]],
        arg: ParamType, *, wait_for_stage: WorkflowUpdateStage, id: str | None = ...,
        result_type: Any = ..., **rpc: Unpack[RpcOptions]
    ) -> WorkflowUpdateHandle[LocalReturnType]: ...
    @typing.overload
    async def start_update(
        self, update: Callable[[SelfType, ParamType], LocalReturnType], arg: ParamType, *,
        wait_for_stage: WorkflowUpdateStage, id: str | None = ..., result_type: Any = ...,
        **rpc: Unpack[RpcOptions]) -> WorkflowUpdateHandle[LocalReturnType]: ...
    @typing.overload
    async def start_update(
        self, update: Callable[Concatenate[SelfType, MultiParams], Awaitable[LocalReturnType]],
        *, wait_for_stage: WorkflowUpdateStage, args: Sequence[Any], id: str | None = ...,
        result_type: Any = ..., **rpc: Unpack[RpcOptions]
    ) -> WorkflowUpdateHandle[LocalReturnType]: ...
    @typing.overload
    async def start_update(
        self, update: Callable[Concatenate[SelfType, MultiParams], LocalReturnType], *,
        wait_for_stage: WorkflowUpdateStage, args: Sequence[Any], id: str | None = ...,
        result_type: Any = ..., **rpc: Unpack[RpcOptions]
    ) -> WorkflowUpdateHandle[LocalReturnType]: ...
    @typing.overload
    async def start_update(
        self, update: str, arg: Any = ..., *, wait_for_stage: WorkflowUpdateStage,
        args: Sequence[Any] = ..., id: str | None = ..., result_type: Any = ...,
        **rpc: Unpack[RpcOptions]
    ) -> WorkflowUpdateHandle[Any]: ...
    async def start_update(self, update: Any, arg: Any = UNSET, *,
                           wait_for_stage: WorkflowUpdateStage, args: Sequence[Any] = (),
                           id: str | None = None, result_type: Any = None,
                           rpc_metadata: Mapping[str, str | bytes] = _NO_METADATA,
                           rpc_timeout: timedelta | None = None) -> WorkflowUpdateHandle[Any]:
        """Send an update; returns once it reached ``wait_for_stage``: ACCEPTED (its
        validator passed) or COMPLETED. ADMITTED is refused (ValueError, nothing is
        sent), as the familiar SDK refuses it. An update the run has no handler for
        is rejected by the worker: WorkflowUpdateFailedError."""
        check_rpc_options("start_update", rpc_metadata, rpc_timeout)
        check_wait_stage(wait_for_stage)
        return await self._client.outbound.start_workflow_update(StartWorkflowUpdateInput(
            id=self.id, run_id=self._target_run_id,
            first_execution_run_id=self.first_execution_run_id,
            update_id=id, update=handler_name(update, "update"), args=all_args(arg, args),
            wait_for_stage=wait_for_stage, ret_type=result_type, update_ref=update,
            rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout))

    async def send_update(self, input: StartWorkflowUpdateInput) -> WorkflowUpdateHandle[Any]:
        """Send the update ``input`` describes (the end of the client's chain)."""
        update = input.update if input.update_ref is None else input.update_ref
        wait_for_stage, result_type, id = input.wait_for_stage, input.ret_type, input.update_id
        name = input.update
        run = await self._open_run(f"update {name!r}")
        hint = None if isinstance(update, str) else owner_workflow(update)
        # an unknown name is the worker's to reject (WorkflowUpdateFailedError), as the
        # familiar engine does; arguments of a known update are checked here
        payloads = self._client.converter.to_payloads(input.args)
        self._client.checks.check_args(run.workflow_type, "update", name, payloads, hint)
        await self._client.checks.check_registered_message(
            run.task_queue, run.workflow_type, "update", name, payloads, hint)
        if result_type is None and not isinstance(update, str):
            d = owner_workflow(update)
            if d is not None and name in d.updates:
                result_type = d.updates[name].return_type
        update_id = id or str(uuid.uuid4())
        store = self._client.store
        try:
            await self._client.store_calls(store.request_update, run.run_id, update_id, name,
                                           payloads, self._client.clock.now(),
                                           dict(input.headers))
        except RunClosedError as exc:
            raise WorkflowClosedError(self.id, run.run_id, exc.status,
                                      f"update {name!r}") from exc
        handle: WorkflowUpdateHandle[Any] = WorkflowUpdateHandle(
            self._client, update_id, self.id, run.run_id, name, result_type)
        await _update_reaching(self._client, run.run_id, update_id, name, wait_for_stage)
        return handle

    def get_update_handle(self, id: str, *, workflow_run_id: str | None = None,
                          result_type: Any = None) -> WorkflowUpdateHandle[Any]:
        """A handle to an update sent earlier (by id), of run ``workflow_run_id`` (default:
        this handle's run, else the workflow's newest run)."""
        run_id = workflow_run_id or self._target_run_id or self._run().run_id
        return WorkflowUpdateHandle(self._client, id, self.id, run_id, "", result_type)

    def get_update_handle_for(self, update: Any, id: str, *,
                              workflow_run_id: str | None = None) -> WorkflowUpdateHandle[Any]:
        """Typed variant of :meth:`get_update_handle` (the result type comes from ``update``)."""
        d = owner_workflow(update)
        name = handler_name(update, "update")
        rtype = d.updates[name].return_type if d is not None and name in d.updates else None
        return self.get_update_handle(id, workflow_run_id=workflow_run_id, result_type=rtype)

    # --- ending runs -------------------------------------------------------------------------

    async def cancel(self, reason: str = "", *,
                     rpc_metadata: Mapping[str, str | bytes] = _NO_METADATA,
                     rpc_timeout: timedelta | None = None) -> None:
        """Ask the run to cancel; workflow code sees asyncio.CancelledError."""
        check_rpc_options("cancel", rpc_metadata, rpc_timeout)
        await self._client.outbound.cancel_workflow(CancelWorkflowInput(
            id=self.id, run_id=self._target_run_id,
            first_execution_run_id=self.first_execution_run_id,
            reason=reason, rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout))

    async def request_cancel(self, input: CancelWorkflowInput) -> None:
        """Ask for the cancellation ``input`` describes (the end of the client's chain)."""
        reason = input.reason
        run = await self._open_run("a cancellation request")
        try:
            async with self._client.local_workers.sending(run.run_id):
                await self._client.commits.commit([Deliver(
                    run.run_id, CancelRequested(event_id=0, time=self._client.clock.now(),
                                                reason=reason))])
        except RunClosedError as exc:
            raise WorkflowClosedError(self.id, run.run_id, exc.status, "cancel") from exc

    async def cancel_run(self) -> None:
        """Cancel the run and wait until it has ended (the event-driven handler's
        ``cancel_run``): ``is_done()`` is true afterwards. How the run ended is not
        reported (``result()`` says); a run that had already ended is left as it is."""
        with contextlib.suppress(WorkflowClosedError):
            await self.cancel()
        with contextlib.suppress(WorkflowFailureError, WorkflowContinuedAsNewError):
            await self._result(True, None)

    async def terminate(self, *details: Any, reason: str | None = None,
                        rpc_metadata: Mapping[str, str | bytes] = _NO_METADATA,
                        rpc_timeout: timedelta | None = None) -> None:
        """End the run now, without running workflow code."""
        check_rpc_options("terminate", rpc_metadata, rpc_timeout)
        await self._client.outbound.terminate_workflow(TerminateWorkflowInput(
            id=self.id, run_id=self._target_run_id,
            first_execution_run_id=self.first_execution_run_id,
            args=details, reason=reason, rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout))

    async def end_run(self, input: TerminateWorkflowInput) -> None:
        """Terminate as ``input`` says (the end of the client's chain)."""
        details, reason = input.args, input.reason
        run = await self._open_run("terminate")
        store, calls = self._client.store, self._client.store_calls
        event = WorkflowTerminated(event_id=0, time=self._client.clock.now(),
                                   reason=reason or "",
                                   details=self._client.converter.to_payloads(details))
        started = (await calls(store.read, run.run_id))[0]
        assert isinstance(started, WorkflowStarted)
        try:
            effects = await calls(run_close_effects, store, run.run_id, started, event)
            await calls(store.commit, [Deliver(run.run_id, event), *effects])
        except RunClosedError as exc:
            raise WorkflowClosedError(self.id, run.run_id, exc.status, "terminate") from exc

    # --- inspecting -----------------------------------------------------------------------------

    async def describe(self, *, rpc_metadata: Mapping[str, str | bytes] = _NO_METADATA,
                       rpc_timeout: timedelta | None = None
                       ) -> WorkflowExecutionDescription:
        """Status, type, task queue, times, history length, parent, memo, the failing
        workflow task (if it is failing) and the open activities."""
        check_rpc_options("describe", rpc_metadata, rpc_timeout)
        return await self._client.outbound.describe_workflow(DescribeWorkflowInput(
            id=self.id, run_id=self._target_run_id,
            first_execution_run_id=self.first_execution_run_id,
            rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout))

    async def read_description(self, input: DescribeWorkflowInput
                               ) -> WorkflowExecutionDescription:
        """The description ``input`` asks for (the end of the client's chain)."""
        run = await self._found_run()
        root = await self._client.store_calls(root_of, self._client.store, run)
        base = WorkflowExecution.from_run(run, self._client.converter, root)
        task_failure = task_failure_of(run)
        last = str(task_failure) if task_failure is not None else (
            self._client.local_workers.task_failure(run.run_id))
        pending = await self._client.store_calls(pending_activities_of, self._client.store, run)
        return WorkflowExecutionDescription(
            **attrs.asdict(base, recurse=False), last_task_failure=last,
            task_failure=task_failure, pending_activities=pending)

    async def fetch_history(self) -> History:
        """The run's whole history."""
        run = await self._found_run()
        return await self._client.store_calls(self._client.store.history, run.run_id)

    def fetch_history_events(self, *, page_size: int | None = None,
                             next_page_token: bytes | None = None,
                             wait_new_event: bool = False) -> AsyncIterator[Event]:
        """Yield the run's events; with ``wait_new_event`` keep following until it ends.

        ``page_size`` sets, in the familiar SDK, how many events one request to the
        server fetches; it never changes which events are yielded. Here the events
        come from the local store, so any positive size gives the same events (and
        anything but None or a positive int raises TypeError).
        """
        if page_size is not None and (
                not isinstance(page_size, int) or isinstance(page_size, bool) or page_size < 1):
            raise TypeError(f"fetch_history_events(page_size={page_size!r}): page_size must "
                            "be None or a positive int")
        return self._events(next_page_token, wait_new_event)

    async def _events(self, next_page_token: bytes | None, wait_new_event: bool
                      ) -> AsyncIterator[Event]:
        store = self._client.store
        run_id = (await self._found_run()).run_id
        after = int(next_page_token.decode()) if next_page_token else 0
        if wait_new_event:
            async for event in store.tail(run_id, after):
                yield event
            return
        for event in await self._client.store_calls(store.read, run_id, after_event_id=after):
            yield event

    async def stream_events(self, after: int = 0, *, event_type: Any = None,
                            expose_internal: bool = False, raise_cause: bool = False
                            ) -> AsyncIterator[StreamedEvent]:
        """Yield what the workflow emits (offset > ``after``), following continue-as-new,
        and last a :class:`StopEvent` with the result (as the event-driven handler's
        stream ends); a run that fails raises what ``result()`` raises instead.

        Read from the history: any number of streams can be read, from the start or
        resumed after an offset (our addition to the reference's one-shot stream).
        ``expose_internal`` also yields the run's own history events
        (:class:`InternalEvent`: activities, timers, signals...).
        """
        store = self._client.store
        # the run this handle started (as result() follows it), else the newest one
        run_id = self.result_run_id or (await self._found_run()).run_id
        conv = self._client.converter
        while True:
            async for event in store.tail(run_id, 0):
                if isinstance(event, EventEmitted):
                    if event.seq > after:
                        after = event.seq
                        yield StreamedEvent(offset=event.seq, event_id=event.event_id,
                                            time=event.time,
                                            data=conv.from_payload(event.payload, event_type))
                    continue
                if expose_internal:
                    yield internal_event(run_id, after, event)
                if isinstance(event, WorkflowContinuedAsNew):
                    run_id, after = event.new_run_id, 0
                    break
                if type(event) in TERMINAL_KINDS:
                    yield await self._stop(run_id, event, raise_cause)
                    return
            else:
                return

    async def _stop(self, run_id: str, terminal: Event, raise_cause: bool) -> StopEvent:
        """The stop event of a run that ended with ``terminal`` (or its failure, raised)."""
        run = await self._found_run(run_id)
        try:
            value = self._outcome(run, terminal, self._result_type)
        except WorkflowFailureError as exc:
            if raise_cause:
                raise exc.cause from exc
            raise
        self._stop_event = stop_event(run_id, terminal, value)
        return self._stop_event


class WorkflowUpdateHandle(Generic[LocalReturnType]):
    """An update sent to a run: ``await handle.result()`` for its outcome."""

    def __init__(self, client: HandleClient, id: str, workflow_id: str, run_id: str,
                 name: str, result_type: Any) -> None:
        self._client = client
        self.id = id
        self.workflow_id = workflow_id
        self.workflow_run_id = run_id
        self.name = name
        self._result_type = result_type

    async def result(self) -> LocalReturnType:
        """Wait for the update to complete and decode its result."""
        try:
            req = await _update_reaching(self._client, self.workflow_run_id, self.id,
                                         self.name, WorkflowUpdateStage.COMPLETED)
        except WorkflowUpdateFailedError as exc:
            self.name = self.name or exc.name
            raise
        self.name = self.name or req.name
        value: LocalReturnType = self._client.converter.from_payload(req.result,
                                                                     self._result_type)
        return value

    def __await__(self) -> Generator[Any, None, LocalReturnType]:
        return self.result().__await__()


async def _update_reaching(client: HandleClient, run_id: str, update_id: str, name: str,
                           stage: WorkflowUpdateStage) -> UpdateRequest:
    """The update's request once it reached ``stage``; WorkflowUpdateFailedError if it
    was rejected, failed or abandoned (``name``: for the message, if known)."""
    store = client.store
    while True:
        token = store.change_token()
        req = await client.store_calls(store.get_update, run_id, update_id)
        if req is None:
            raise WorkflowUpdateFailedError(update_id, name, LookupError("no such update"))
        name = name or req.name
        if req.status in ("rejected", "aborted") or (
                req.status == "completed" and req.failure is not None):
            assert req.failure is not None
            raise WorkflowUpdateFailedError(update_id, name, from_failure(req.failure))
        if req.status == "completed" or (
                req.status == "accepted" and stage is WorkflowUpdateStage.ACCEPTED):
            return req
        await store.wait_changed(1.0, since=token, run_id=run_id)

