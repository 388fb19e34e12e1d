"""``describe().raw_description``: the description as JSON data, for tests and tools.

The familiar SDK exposes the server's raw response; here the same information
is the store's row for the run, the root of its chain, the failing workflow
task and the open activities, written by the one payload converter (times as
ISO 8601 text), so it can be printed, compared or saved as it is.
"""

from __future__ import annotations

from typing import Any, Protocol

from replay.history import PayloadConverter, RunInfo


class Described(Protocol):
    """What the raw description is made of (a ``WorkflowExecutionDescription``)."""

    @property
    def raw_info(self) -> RunInfo | None: ...
    @property
    def root_id(self) -> str | None: ...
    @property
    def root_run_id(self) -> str | None: ...
    @property
    def task_failure(self) -> Any: ...
    @property
    def pending_activities(self) -> Any: ...


def describe_as_data(desc: Described) -> dict[str, Any]:
    """``desc`` as JSON-able data: ``run``, ``root``, ``task_failure``, ``pending_activities``."""
    conv = PayloadConverter()
    return {
        "run": None if desc.raw_info is None else conv.to_payload(desc.raw_info),
        "root": {"workflow_id": desc.root_id, "run_id": desc.root_run_id},
        "task_failure": conv.to_payload(desc.task_failure),
        "pending_activities": conv.to_payload(desc.pending_activities),
    }
