"""The registry of what workers host: per task queue, workflow types and their handlers.

Every worker records, when it starts, the workflow types it runs on its task
queue (each with its run method's, signal, query and update handlers' names
and parameter signatures) and its activity names. A client that does not have
the workflow's code (the CLI, a plain client in another service) reads the
registry to refuse a misspelled signal, a wrong number of arguments or a start
of a type no worker hosts, before anything is written.

The store keeps one row per (task queue, kind, name): the newest registration
wins, by its ``registered_at`` (a registration older than the row it would
replace is ignored), and registering the same thing twice changes nothing.
When two worker versions disagree (a rolling deploy, or a rollback), the one
that started last is the view clients check against: its handlers are the ones
new messages are most likely to reach, and restarting the other version makes
that one the newest again. The registry is advisory: workers still check every
message they receive.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from ._codec import PayloadConverter
from ._events import JsonValue

HANDLER_KINDS = ("signal", "query", "update")
"""The kinds of message handlers a workflow registers."""


@attrs.frozen(kw_only=True)
class HandlerSignature:
    """A handler's (or run method's, or activity's) name and parameters.

    ``name`` is None for a dynamic handler (it takes any name, and any
    arguments). ``min_args`` counts the positional parameters without a default,
    ``max_args`` all of them (None when it takes ``*args``); ``arg_types`` names
    each positional parameter's annotation (``"Any"`` without one).
    """

    name: str | None
    min_args: int = 0
    max_args: int | None = 0
    arg_types: tuple[str, ...] = ()

    @property
    def dynamic(self) -> bool:
        """True for a dynamic handler (any name, any arguments)."""
        return self.name is None

    def accepts(self, count: int) -> bool:
        """True if ``count`` positional arguments fit (always, for a dynamic handler)."""
        if self.dynamic:
            return True
        return count >= self.min_args and (self.max_args is None or count <= self.max_args)

    def arity(self) -> str:
        """The accepted argument counts in words: ``2``, ``1 to 2``, ``at least 1``."""
        if self.max_args is None:
            return f"at least {self.min_args}"
        if self.max_args == self.min_args:
            return str(self.min_args)
        return f"{self.min_args} to {self.max_args}"


@attrs.frozen(kw_only=True)
class WorkflowSignature:
    """A workflow type as a worker hosts it: its run method and message handlers.

    ``workflow_type`` is None for the dynamic workflow (it runs any type).
    ``runtime_handlers`` names the handler kinds the class registers while it
    runs (``workflow.set_signal_handler`` ...): those cannot be checked ahead.
    """

    workflow_type: str | None
    run: HandlerSignature
    signals: tuple[HandlerSignature, ...] = ()
    queries: tuple[HandlerSignature, ...] = ()
    updates: tuple[HandlerSignature, ...] = ()
    runtime_handlers: tuple[str, ...] = ()

    def handlers(self, kind: str) -> tuple[HandlerSignature, ...]:
        """The handlers of ``kind`` (``signal``, ``query`` or ``update``)."""
        if kind not in HANDLER_KINDS:
            raise ValueError(f"kind must be one of {', '.join(HANDLER_KINDS)}, got {kind!r}")
        return {"signal": self.signals, "query": self.queries, "update": self.updates}[kind]

    def handler(self, kind: str, name: str) -> HandlerSignature | None:
        """The handler that takes ``name``: its own, else a dynamic one, else None."""
        table = self.handlers(kind)
        exact = next((h for h in table if h.name == name), None)
        return exact or next((h for h in table if h.dynamic), None)


@attrs.frozen(kw_only=True)
class WorkflowRegistration:
    """A workflow type registered on a task queue, by which worker and when."""

    task_queue: str
    worker: str
    registered_at: datetime
    signature: WorkflowSignature


@attrs.frozen(kw_only=True)
class ActivityRegistration:
    """An activity registered on a task queue, by which worker and when."""

    task_queue: str
    worker: str
    registered_at: datetime
    signature: HandlerSignature


Registration = WorkflowRegistration | ActivityRegistration

WORKFLOW = "workflow"
ACTIVITY = "activity"
_CONVERTER = PayloadConverter()


def registration_rows(task_queue: str, worker: str, registered_at: datetime,
                      workflows: Sequence[WorkflowSignature],
                      activities: Sequence[HandlerSignature]
                      ) -> list[tuple[str, str, str, JsonValue]]:
    """(kind, key name, worker, data) for each thing registered; the dynamic one's key is
    the empty string."""
    del task_queue, registered_at  # the same for every row: the caller writes them
    rows: list[tuple[str, str, str, JsonValue]] = []
    for w in workflows:
        rows.append((WORKFLOW, w.workflow_type or "", worker, _CONVERTER.to_payload(w)))
    for a in activities:
        rows.append((ACTIVITY, a.name or "", worker, _CONVERTER.to_payload(a)))
    return rows


def registration_from_row(task_queue: str, kind: str, worker: str, registered_at: datetime,
                          data: JsonValue) -> Registration:
    """The registration a stored row holds."""
    if kind == WORKFLOW:
        return WorkflowRegistration(
            task_queue=task_queue, worker=worker, registered_at=registered_at,
            signature=_CONVERTER.from_payload(data, WorkflowSignature))
    return ActivityRegistration(
        task_queue=task_queue, worker=worker, registered_at=registered_at,
        signature=_CONVERTER.from_payload(data, HandlerSignature))


def sort_key(r: Registration) -> tuple[str, str]:
    """Registrations are listed by task queue, then name (the dynamic one first)."""
    name = (r.signature.workflow_type if isinstance(r, WorkflowRegistration)
            else r.signature.name)
    return r.task_queue, name or ""


for _cls in (HandlerSignature, WorkflowSignature, WorkflowRegistration, ActivityRegistration):
    _cls.__module__ = "replay.history"
del _cls


class RegistryTable:
    """The registry rows in memory (MemoryStore's table; the SQL stores keep their own)."""

    def __init__(self) -> None:
        # (task queue, kind, name) -> (worker, registered at, data)
        self._rows: dict[tuple[str, str, str], tuple[str, datetime, JsonValue]] = {}

    def register(self, task_queue: str, worker: str, registered_at: datetime,
                 workflows: Sequence[WorkflowSignature],
                 activities: Sequence[HandlerSignature]) -> None:
        """Upsert each row unless the stored one is newer."""
        for kind, name, who, data in registration_rows(task_queue, worker, registered_at,
                                                       workflows, activities):
            key = (task_queue, kind, name)
            known = self._rows.get(key)
            if known is None or known[1] <= registered_at:
                self._rows[key] = (who, registered_at, data)

    def read(self, kind: str, task_queue: str | None) -> list[Registration]:
        """The rows of ``kind`` on ``task_queue`` (or every queue), in key order."""
        return [registration_from_row(queue, kind, who, at, data)
                for (queue, k, _), (who, at, data) in sorted(self._rows.items())
                if k == kind and (task_queue is None or queue == task_queue)]
