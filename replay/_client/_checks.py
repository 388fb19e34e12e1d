"""Checks of a message against the workflow's declaration, before anything is written.

When this process knows the code of a run's workflow type (a handler
reference names it, a local worker runs it, or exactly one class declares
that name), a signal, update or start with an unknown handler name or
arguments that do not fit the annotations fails at the caller with
``PayloadError``, and nothing is sent. Code this process does not have is
checked against the store's registry of what the task queue's workers host
(``_registry_checks``), when they registered anything. The registry read is
kept for ``REGISTRY_TTL`` seconds (workers register when they start, rarely);
a message the kept view would refuse is checked again against a fresh read
before it is refused, so a handler a worker registered a moment ago is never
refused for a stale view.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from replay.history import (
    JsonValue,
    PayloadConverter,
    PayloadError,
    ReplayError,
    Store,
    WorkflowRegistration,
)

from .._core._definition import WorkflowDefinition, known_workflow
from ._local import LocalWorkers
from ._registry_checks import check_message, check_start
from ._store_calls import StoreCalls

REGISTRY_TTL = 2.0
"""Seconds a client keeps what it read of the registry (a refusal always reads again)."""


class MessageChecks:
    """Finds the workflow code for a type and checks messages against it."""

    def __init__(self, converter: PayloadConverter, workers: LocalWorkers,
                 store: Store | None = None, store_calls: StoreCalls | None = None) -> None:
        self.converter = converter
        self.workers = workers
        self.store = store
        self.store_calls = store_calls
        self._registry: dict[str | None, tuple[float, list[WorkflowRegistration]]] = {}

    async def _registered(self, task_queue: str | None, *, fresh: bool = False
                          ) -> list[WorkflowRegistration]:
        """The registry's workflow types of ``task_queue`` (every queue if None), read
        again when the kept copy is older than REGISTRY_TTL or ``fresh`` is asked."""
        assert self.store is not None and self.store_calls is not None
        now = time.monotonic()
        kept = self._registry.get(task_queue)
        if kept is not None and not fresh and now - kept[0] < REGISTRY_TTL:
            return kept[1]
        found = await self.store_calls(self.store.registered_workflows, task_queue)
        self._registry[task_queue] = (now, found)
        return found

    async def _check(self, task_queue: str | None,
                     check: Callable[[list[WorkflowRegistration]], None]) -> None:
        try:
            check(await self._registered(task_queue))
        except ReplayError:  # refuse only on what the store holds now
            check(await self._registered(task_queue, fresh=True))

    async def check_registered_start(self, task_queue: str, workflow_type: str,
                                     payloads: list[JsonValue],
                                     hint: WorkflowDefinition | None = None) -> None:
        """Without the code here: refuse a start that no worker of ``task_queue`` could
        take, by the store's registry (UnknownHandlerError's family, RPL-C10..C12)."""
        if (self.store is None or self.store_calls is None
                or self.definition_for(workflow_type, hint) is not None):
            return
        await self._check(None, lambda found: check_start(found, task_queue, workflow_type,
                                                          payloads))

    async def check_registered_message(self, task_queue: str, workflow_type: str, kind: str,
                                       name: str, payloads: list[JsonValue],
                                       hint: WorkflowDefinition | None = None) -> None:
        """Without the code here: refuse a signal, query or update that the run's type,
        as registered on ``task_queue``, has no handler for or cannot take (RPL-C09..C11)."""
        if (self.store is None or self.store_calls is None
                or self.definition_for(workflow_type, hint) is not None):
            return
        await self._check(task_queue, lambda found: check_message(found, workflow_type, kind,
                                                                  name, payloads))

    def definition_for(self, workflow_type: str, hint: WorkflowDefinition | None = None
                       ) -> WorkflowDefinition | None:
        """The workflow code for a type: the class a handler reference names, else a
        worker's registration in this process, else the one class declared with that name.
        """
        if hint is not None and hint.name == workflow_type:
            return hint
        found = self.workers.workflow_definition(workflow_type)
        return found if found is not None else known_workflow(workflow_type)

    def check_handler(self, workflow_type: str, kind: str, name: str,
                      hint: WorkflowDefinition | None = None) -> None:
        """PayloadError if the workflow declares no ``kind`` handler named ``name``."""
        d = self.definition_for(workflow_type, hint)
        if d is None or kind in d.runtime_handlers:
            return  # unknown code, or handlers registered while it runs: cannot tell
        table = {"signal": d.signals, "update": d.updates, "query": d.queries}[kind]
        if name not in table and None not in table:
            known = ", ".join(sorted(n for n in table if n)) or "none"
            raise PayloadError(
                f"workflow {workflow_type!r} has no {kind} named {name!r} (its {kind}s: "
                f"{known}). Nothing was sent.", type_name=kind, path="$")

    def check_args(self, workflow_type: str, kind: str, name: str, payloads: list[Any],
                   hint: WorkflowDefinition | None = None) -> None:
        """PayloadError if ``payloads`` do not fit the handler's (or run method's) annotations.

        ``kind`` is ``"workflow"`` (the run method), ``"signal"`` or ``"update"``.
        """
        d = self.definition_for(workflow_type, hint)
        if d is None:
            return
        if kind == "workflow":
            handler = d.run
        else:
            table = d.signals if kind == "signal" else d.updates
            found = table.get(name)
            if found is None:
                return
            handler = found
        if len(payloads) > len(handler.arg_types):
            raise PayloadError(
                f"{kind} {name!r} takes {len(handler.arg_types)} argument(s), got "
                f"{len(payloads)}. Nothing was sent.", type_name=kind, path="$")
        for i, (p, t) in enumerate(zip(payloads, handler.arg_types, strict=False)):
            try:
                self.converter.from_payload(p, t)
            except PayloadError as exc:
                raise PayloadError(
                    f"argument {i} of {kind} {name!r} does not fit its annotation: {exc}. "
                    "Nothing was sent.", type_name=exc.type_name, path=f"$[{i}]") from exc
