"""Errors a client sees, with the familiar SDK's names (home: replay.exceptions)."""

from __future__ import annotations

from replay.history import ReplayError


class WorkflowFailureError(ReplayError):
    """The run ended without a result; ``cause`` says why (failure, cancel, terminate...)."""

    code = "RPL-C01"

    def __init__(self, workflow_id: str, run_id: str, status: str,
                 cause: BaseException) -> None:
        super().__init__(f"workflow {workflow_id!r} run {run_id!r} {status}: "
                         f"{cause}")
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.status = status
        self.__cause__ = cause

    @property
    def cause(self) -> BaseException:
        assert self.__cause__ is not None
        return self.__cause__


class WorkflowAlreadyStartedError(ReplayError):
    """A run with this workflow id is open (or its id may not be reused)."""

    code = "RPL-C02"

    def __init__(self, workflow_id: str, workflow_type: str, run_id: str | None,
                 why: str) -> None:
        super().__init__(f"cannot start workflow {workflow_id!r} "
                         f"({workflow_type}): {why}. Nothing was written.")
        self.workflow_id = workflow_id
        self.workflow_type = workflow_type
        self.run_id = run_id


class WorkflowNotFoundError(ReplayError):
    """No run matches the workflow id (and run id) of a handle."""

    code = "RPL-C03"

    def __init__(self, workflow_id: str, run_id: str | None) -> None:
        which = f" run {run_id!r}" if run_id else ""
        super().__init__(f"no workflow {workflow_id!r}{which} in this store. "
                         "Check the id, or the database path the client opened.")
        self.workflow_id = workflow_id
        self.run_id = run_id


class WorkflowClosedError(ReplayError):
    """A signal, update or cancellation was sent to a run that has ended. Nothing was written."""

    code = "RPL-C04"

    def __init__(self, workflow_id: str, run_id: str, status: str, what: str) -> None:
        super().__init__(f"cannot send {what} to workflow {workflow_id!r} run "
                         f"{run_id!r}: it is {status}. Nothing was written.")
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.status = status
        self.what = what


class WorkflowUpdateFailedError(ReplayError):
    """An update was rejected by its validator, failed in its handler, or was abandoned."""

    code = "RPL-C05"

    def __init__(self, update_id: str, name: str, cause: BaseException) -> None:
        super().__init__(f"update {name!r} ({update_id}) failed: {cause}")
        self.update_id = update_id
        self.name = name
        self.__cause__ = cause

    @property
    def cause(self) -> BaseException:
        assert self.__cause__ is not None
        return self.__cause__


class WorkflowQueryRejectedError(ReplayError):
    """A query was refused by its ``reject_condition`` (the run's status)."""

    code = "RPL-C06"

    def __init__(self, workflow_id: str, status: str) -> None:
        super().__init__(f"query on workflow {workflow_id!r} rejected: the run "
                         f"is {status}")
        self.workflow_id = workflow_id
        self.status = status


class WorkflowQueryFailedError(ReplayError):
    """A query handler raised, or names no handler; the message says which."""

    code = "RPL-C07"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedTargetError(ReplayError):
    """``Client.connect`` was given a target this embedded engine cannot serve."""

    code = "RPL-C08"

    def __init__(self, target: str) -> None:
        super().__init__(
            f"cannot connect to {target!r}: replay opens a store, not a server. Use "
            "Client.connect() for ./replay.db (or $REPLAY_DB), "
            "Client.connect('sqlite:///path/to.db'), Client.connect('memory://') or "
            "Client.connect('postgresql://user@host/db').")
        self.target = target
