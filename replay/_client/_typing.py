"""Type variables and option sets of the client's typed signatures (overloads).

The overloads of ``Client.start_workflow``, ``execute_workflow`` and the
handle's messages follow the familiar SDK's: given a workflow's method (not
its name), the type checker knows the argument the method takes and the value
it returns, so a wrong argument fails ``mypy --strict`` and ``result()`` is
typed. ``StartWorkflowOptions`` lists ``start_workflow``'s keywords once, for
every overload: a keyword added to ``start_workflow`` is added here too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, ParamSpec, TypedDict, TypeVar

from .._core._common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from .._core._search_attributes import TypedSearchAttributes

SelfType = TypeVar("SelfType")
"""The workflow class a handle (or a handler reference) belongs to."""
ReturnType = TypeVar("ReturnType")
"""What a run (or a handler) returns."""
ReturnType_co = TypeVar("ReturnType_co", covariant=True)
ParamType = TypeVar("ParamType")
"""The single argument of a run method or handler."""
LocalReturnType = TypeVar("LocalReturnType")
"""What one handler returns (a query's or an update's value)."""
MultiParams = ParamSpec("MultiParams")


class RpcOptions(TypedDict, total=False):
    """The keywords every handle call accepts for familiar code (there is no RPC)."""

    rpc_metadata: Mapping[str, str | bytes]
    rpc_timeout: timedelta | None


class StartWorkflowOptions(TypedDict, total=False):
    """``start_workflow``'s keywords besides ``id``, ``task_queue`` and ``args``."""

    id_reuse_policy: WorkflowIDReusePolicy
    id_conflict_policy: WorkflowIDConflictPolicy
    start_signal: str | None
    start_signal_args: Sequence[Any]
    execution_timeout: timedelta | None
    run_timeout: timedelta | None
    memo: dict[str, Any] | None
    task_timeout: timedelta | None
    rpc_metadata: Mapping[str, str | bytes]
    rpc_timeout: timedelta | None
    cron_schedule: str
    search_attributes: TypedSearchAttributes | None
    request_eager_start: bool
