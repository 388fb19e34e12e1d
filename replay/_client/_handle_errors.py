"""Errors of the handle surfaces added for parity (home: replay.exceptions)."""

from __future__ import annotations

from replay.history import ReplayError


class WorkflowContinuedAsNewError(ReplayError):
    """``result(follow_runs=False)`` found that the run continued as new.

    ``new_execution_run_id`` is the run that took over; ``result()`` (which
    follows runs by default) waits for the chain's last run instead.
    """

    code = "RPL-H02"

    def __init__(self, workflow_id: str, run_id: str, new_execution_run_id: str) -> None:
        super().__init__(
            f"workflow {workflow_id!r} run {run_id!r} continued as new as run "
            f"{new_execution_run_id!r}, so it has no result of its own. Call result() "
            "without follow_runs=False to wait for the last run of the chain, or get a "
            "handle to the new run with client.get_workflow_handle(workflow_id, "
            "run_id=err.new_execution_run_id).")
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.new_execution_run_id = new_execution_run_id
