"""Refusals of messages checked against the store's registry (see ``_registry_checks``).

Each says what was refused, which task queue's registration it was checked
against (which worker registered it, and when), the close matches, and that
nothing was written.
"""

from __future__ import annotations

from datetime import datetime

from replay.history import ReplayError


def source_text(task_queue: str, worker: str, registered_at: datetime) -> str:
    """Where a registration came from, for messages."""
    return (f"as registered on task queue {task_queue!r} by worker {worker} at "
            f"{registered_at.isoformat(timespec='seconds')}")


def suggestion(matches: list[str]) -> str:
    """`` Did you mean 'x'?`` for close matches, else nothing."""
    if not matches:
        return ""
    return " Did you mean " + " or ".join(repr(m) for m in matches) + "?"


class UnknownHandlerError(ReplayError):
    """A signal, query or update names no handler of the run's workflow type, as its
    workers registered it. Nothing was written."""

    code = "RPL-C09"

    def __init__(self, workflow_type: str, kind: str, name: str, known: list[str],
                 matches: list[str], source: str) -> None:
        listed = ", ".join(known) or "none"
        plural = "queries" if kind == "query" else f"{kind}s"
        super().__init__(
            f"workflow {workflow_type!r} has no {kind} named {name!r} ({source}; its "
            f"{plural}: {listed}).{suggestion(matches)} Nothing was written.")
        self.workflow_type = workflow_type
        self.kind = kind
        self.name = name
        self.matches = matches


class ArgumentCountError(ReplayError):
    """A start, signal, query or update passes more or fewer arguments than its handler
    (or run method) takes, as registered. Nothing was written."""

    code = "RPL-C10"

    def __init__(self, what: str, takes: str, given: int, types: list[str],
                 source: str) -> None:
        shown = f" ({', '.join(types)})" if types else ""
        super().__init__(
            f"{what} takes {takes} argument(s){shown}, got {given} ({source}). Nothing was "
            "written.")
        self.what = what
        self.given = given


class ArgumentTypeError(ReplayError):
    """An argument's JSON kind cannot be its parameter's registered type (a string for an
    ``int``, say). Nothing was written."""

    code = "RPL-C11"

    def __init__(self, what: str, index: int, type_name: str, got: str, source: str) -> None:
        super().__init__(
            f"argument {index} of {what} must be {type_name}, got {got} ({source}). "
            "Nothing was written.")
        self.what = what
        self.index = index
        self.type_name = type_name


class WorkflowTypeNotRegisteredError(ReplayError):
    """A start names a workflow type that no worker of the task queue registered (while
    some did register others). Nothing was written."""

    code = "RPL-C12"

    def __init__(self, workflow_type: str, task_queue: str, known: list[str],
                 matches: list[str], elsewhere: list[str]) -> None:
        listed = ", ".join(known) or "none"
        other = (f" It is registered on task queue(s) {', '.join(map(repr, elsewhere))}."
                 if elsewhere else "")
        super().__init__(
            f"no worker of task queue {task_queue!r} hosts workflow type {workflow_type!r} "
            f"(registered there: {listed}).{suggestion(matches)}{other} Nothing was "
            "written. Check the type and the task queue, or start a worker that hosts it.")
        self.workflow_type = workflow_type
        self.task_queue = task_queue
        self.matches = matches

