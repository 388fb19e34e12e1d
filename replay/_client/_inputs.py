"""The inputs of the client's interceptor chain (see ``_interceptors``).

Apart from the chain's classes so that handles can build inputs without
importing the module that names handles in its signatures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import attrs
from attrs import Attribute

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


def _in_order(*names: str) -> Callable[[type, list[Attribute[Any]]], list[Attribute[Any]]]:
    """A field transformer listing a class's fields (inherited ones included) in this
    order: the order the class had before it shared its handle fields with the others."""
    def transform(cls: type, fields: list[Attribute[Any]]) -> list[Attribute[Any]]:
        by_name = {f.name: f for f in fields}
        if sorted(by_name) != sorted(names):
            raise TypeError(f"{cls.__name__}: the field order names {sorted(names)}, the "
                            f"class has {sorted(by_name)}")
        return [by_name[name] for name in names]
    return transform


@attrs.define(kw_only=True)
class _HandleCallInput:
    """What every call through a handle carries: the run it addresses, the RPC options."""

    id: str
    run_id: str | None
    first_execution_run_id: str | None = None
    rpc_metadata: RpcMetadata = attrs.field(factory=dict)
    rpc_timeout: timedelta | None = None


@attrs.define(kw_only=True)
class _HandleMessageInput(_HandleCallInput):
    """A call through a handle that carries headers (a signal, a query, an update)."""

    headers: Headers = attrs.field(factory=dict)


_MESSAGE_FIELDS = ("first_execution_run_id", "headers", "rpc_metadata", "rpc_timeout")


@attrs.define(kw_only=True, field_transformer=_in_order(
    "id", "run_id", "signal", "args", *_MESSAGE_FIELDS, "signal_ref"))
class SignalWorkflowInput(_HandleMessageInput):
    """A signal about to be sent."""

    signal: str
    args: Sequence[Any]
    signal_ref: Any = None
    """The signal as the caller named it (a method or a string), for the code lookup."""


@attrs.define(kw_only=True, field_transformer=_in_order(
    "id", "run_id", "query", "args", "reject_condition", "ret_type", *_MESSAGE_FIELDS,
    "query_ref"))
class QueryWorkflowInput(_HandleMessageInput):
    """A query about to be asked (its headers reach ``HandleQueryInput.headers``)."""

    query: str
    args: Sequence[Any]
    reject_condition: Any
    """A ``QueryRejectCondition``."""
    ret_type: Any = None
    query_ref: Any = None
    """The query as the caller named it (a method or a string), for the code lookup."""


@attrs.define(kw_only=True, field_transformer=_in_order(
    "id", "run_id", "update_id", "update", "args", "wait_for_stage", "ret_type",
    *_MESSAGE_FIELDS, "update_ref"))
class StartWorkflowUpdateInput(_HandleMessageInput):
    """An update about to be sent (its headers reach ``HandleUpdateInput.headers`` and are
    recorded in ``UpdateAccepted``)."""

    update_id: str | None
    update: str
    args: Sequence[Any]
    wait_for_stage: Any
    """A ``WorkflowUpdateStage``."""
    ret_type: Any = None
    update_ref: Any = None
    """The update as the caller named it (a method or a string), for the code lookup."""


@attrs.define(kw_only=True, field_transformer=_in_order(
    "id", "run_id", "first_execution_run_id", "reason", "rpc_metadata", "rpc_timeout"))
class CancelWorkflowInput(_HandleCallInput):
    """A cancellation request about to be sent."""

    reason: str = ""


@attrs.define(kw_only=True, field_transformer=_in_order(
    "id", "run_id", "args", "reason", "first_execution_run_id", "rpc_metadata",
    "rpc_timeout"))
class TerminateWorkflowInput(_HandleCallInput):
    """A termination about to happen."""

    args: Sequence[Any] = ()
    reason: str | None = None


@attrs.define(kw_only=True)
class DescribeWorkflowInput(_HandleCallInput):
    """A description about to be read."""


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
