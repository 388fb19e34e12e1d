"""The inputs of the client's interceptor chain (see ``_interceptors``).

Apart from the chain's classes so that handles can build inputs without
importing the module that names handles in its signatures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import attrs

from .._core._common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from .._core._search_attributes import TypedSearchAttributes

Headers = Mapping[str, Any]
"""Header name -> payload (JSON-able data)."""
RpcMetadata = Mapping[str, str | bytes]


@attrs.define(kw_only=True)
class StartWorkflowInput:
    """A run about to be started (``start_workflow``, ``execute_workflow``)."""

    workflow: str
    args: Sequence[Any]
    id: str
    task_queue: str
    execution_timeout: timedelta | None = None
    run_timeout: timedelta | None = None
    task_timeout: timedelta | None = None
    id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE
    id_conflict_policy: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.UNSPECIFIED
    memo: Mapping[str, Any] | None = None
    search_attributes: TypedSearchAttributes | None = None
    start_signal: str | None = None
    start_signal_args: Sequence[Any] = ()
    ret_type: Any = None
    headers: Headers = attrs.field(factory=dict)
    rpc_metadata: RpcMetadata = attrs.field(factory=dict)
    rpc_timeout: timedelta | None = None
    workflow_ref: Any = None
    """The workflow as the caller named it (a class's run method or a name)."""
    request_eager_start: bool = False
    """Run the first workflow task at once on a worker of this process (see
    ``Client.start_workflow``)."""
    cron_schedule: str = ""
    """A cron expression ("" for none): see ``docs/schedules.md``."""


@attrs.define(kw_only=True)
class SignalWorkflowInput:
    """A signal about to be sent."""

    id: str
    run_id: str | None
    signal: str
    args: Sequence[Any]
    first_execution_run_id: str | None = None
    headers: Headers = attrs.field(factory=dict)
    rpc_metadata: RpcMetadata = attrs.field(factory=dict)
    rpc_timeout: timedelta | None = None
    signal_ref: Any = None
    """The signal as the caller named it (a method or a string), for the code lookup."""


@attrs.define(kw_only=True)
class QueryWorkflowInput:
    """A query about to be asked (its headers reach ``HandleQueryInput.headers``)."""

    id: str
    run_id: str | None
    query: str
    args: Sequence[Any]
    reject_condition: Any
    """A ``QueryRejectCondition``."""
    ret_type: Any = None
    first_execution_run_id: str | None = None
    headers: Headers = attrs.field(factory=dict)
    rpc_metadata: RpcMetadata = attrs.field(factory=dict)
    rpc_timeout: timedelta | None = None
    query_ref: Any = None
    """The query as the caller named it (a method or a string), for the code lookup."""


@attrs.define(kw_only=True)
class StartWorkflowUpdateInput:
    """An update about to be sent (its headers reach ``HandleUpdateInput.headers`` and are
    recorded in ``UpdateAccepted``)."""

    id: str
    run_id: str | None
    update_id: str | None
    update: str
    args: Sequence[Any]
    wait_for_stage: Any
    """A ``WorkflowUpdateStage``."""
    ret_type: Any = None
    first_execution_run_id: str | None = None
    headers: Headers = attrs.field(factory=dict)
    rpc_metadata: RpcMetadata = attrs.field(factory=dict)
    rpc_timeout: timedelta | None = None
    update_ref: Any = None
    """The update as the caller named it (a method or a string), for the code lookup."""


@attrs.define(kw_only=True)
class CancelWorkflowInput:
    """A cancellation request about to be sent."""

    id: str
    run_id: str | None
    first_execution_run_id: str | None = None
    reason: str = ""
    rpc_metadata: RpcMetadata = attrs.field(factory=dict)
    rpc_timeout: timedelta | None = None


@attrs.define(kw_only=True)
class TerminateWorkflowInput:
    """A termination about to happen."""

    id: str
    run_id: str | None
    args: Sequence[Any] = ()
    reason: str | None = None
    first_execution_run_id: str | None = None
    rpc_metadata: RpcMetadata = attrs.field(factory=dict)
    rpc_timeout: timedelta | None = None


@attrs.define(kw_only=True)
class DescribeWorkflowInput:
    """A description about to be read."""

    id: str
    run_id: str | None
    first_execution_run_id: str | None = None
    rpc_metadata: RpcMetadata = attrs.field(factory=dict)
    rpc_timeout: timedelta | None = None


def check_rpc_options(call: str, rpc_metadata: Any, rpc_timeout: Any) -> None:
    """TypeError unless ``rpc_metadata`` maps str to str or bytes and ``rpc_timeout`` is a
    timedelta or None (they have no other effect: replay makes no remote call)."""
    if not isinstance(rpc_metadata, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str | bytes) for k, v in rpc_metadata.items()):
        raise TypeError(f"{call}: rpc_metadata must map str to str or bytes, got "
                        f"{rpc_metadata!r}")
    if rpc_timeout is not None and not isinstance(rpc_timeout, timedelta):
        raise TypeError(f"{call}: rpc_timeout must be a timedelta or None, got "
                        f"{type(rpc_timeout).__name__}")
