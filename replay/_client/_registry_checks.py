"""Checks of starts and messages against the store's registry of what workers host.

A client that does not have a run's workflow code (the CLI, a service that
only sends signals) still refuses, before anything is written, what no
worker of the task queue could take: a start of a workflow type none of them
registered, a signal, query or update name the type does not declare, a
wrong number of arguments, or an argument whose JSON kind cannot be the
parameter's simple type (a string for an ``int``). When the task queue has no
registrations at all, nothing is checked (as before the registry existed).
See ``history._registry`` for which registration wins when workers disagree.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from replay.history import HandlerSignature, JsonValue, WorkflowRegistration

from ._registry_errors import (
    ArgumentCountError,
    ArgumentTypeError,
    UnknownHandlerError,
    WorkflowTypeNotRegisteredError,
    source_text,
)

#: JSON kinds each simple annotation accepts (others are not checked here).
_KINDS: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
}


def close_matches(name: str, known: Sequence[str]) -> list[str]:
    """Up to three known names close to ``name`` (difflib), best first."""
    return difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "an array", dict: "an object"}.get(type(value), type(value).__name__)


def check_start(all_queues: list[WorkflowRegistration], task_queue: str,
                workflow_type: str, payloads: Sequence[JsonValue]) -> None:
    """Refuse a start the registrations of ``task_queue`` rule out (nothing if none)."""
    registrations = [r for r in all_queues if r.task_queue == task_queue]
    if not registrations:
        return
    found = _find(registrations, workflow_type)
    if found is None:
        known = [t for r in registrations if (t := r.signature.workflow_type)]
        elsewhere = sorted({r.task_queue for r in all_queues
                            if r.signature.workflow_type == workflow_type})
        raise WorkflowTypeNotRegisteredError(workflow_type, task_queue, known,
                                             close_matches(workflow_type, known), elsewhere)
    _check_args(found.signature.run, f"workflow {workflow_type!r}", payloads, found)


def check_message(registrations: list[WorkflowRegistration], workflow_type: str, kind: str,
                  name: str, payloads: Sequence[JsonValue]) -> None:
    """Refuse a ``kind`` message (signal, query, update) the registration of
    ``workflow_type`` rules out (nothing if the type is not registered there)."""
    found = _find(registrations, workflow_type)
    if found is None or kind in found.signature.runtime_handlers:
        return  # code we know nothing of, or handlers set while it runs: cannot tell
    handler = found.signature.handler(kind, name)
    source = source_text(found.task_queue, found.worker, found.registered_at)
    if handler is None:
        known = [n for h in found.signature.handlers(kind) if (n := h.name)]
        raise UnknownHandlerError(workflow_type, kind, name, known,
                                  close_matches(name, known), source)
    _check_args(handler, f"{kind} {name!r} of workflow {workflow_type!r}", payloads, found)


def _find(registrations: list[WorkflowRegistration], workflow_type: str
          ) -> WorkflowRegistration | None:
    exact = next((r for r in registrations if r.signature.workflow_type == workflow_type), None)
    return exact or next((r for r in registrations if r.signature.workflow_type is None), None)


def _check_args(handler: HandlerSignature, what: str, payloads: Sequence[JsonValue],
                found: WorkflowRegistration) -> None:
    if handler.dynamic:
        return
    source = source_text(found.task_queue, found.worker, found.registered_at)
    if not handler.accepts(len(payloads)):
        raise ArgumentCountError(what, handler.arity(), len(payloads), list(handler.arg_types),
                                 source)
    for i, (value, type_name) in enumerate(zip(payloads, handler.arg_types, strict=False)):
        kinds = _KINDS.get(type_name)
        wrong_bool = isinstance(value, bool) and type_name != "bool"
        if kinds is not None and (not isinstance(value, kinds) or wrong_bool):
            raise ArgumentTypeError(what, i, type_name, _json_kind(value), source)
