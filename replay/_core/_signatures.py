"""What a worker registers in the store about the code it hosts (see history._registry).

A workflow class becomes a :class:`~replay.history.WorkflowSignature`: its
type name, and for its run method and each signal, query and update handler
the name, how many positional arguments it takes (those without a default
are required; ``*args`` takes any number) and its annotations' names. An
activity becomes a :class:`~replay.history.HandlerSignature`. Clients without
the code check messages against these.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from replay.history import HandlerSignature, WorkflowSignature

from ._activity_defn import ActivityDefinition
from ._definition import HandlerDefinition, WorkflowDefinition

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def type_name(annotation: Any) -> str:
    """A readable name for an annotation: ``int``, ``Order``, ``list[int]``, ``Any``."""
    if annotation is Any or annotation is inspect.Parameter.empty:
        return "Any"
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__qualname__
    return str(annotation).replace("typing.", "")


def handler_signature(name: str | None, fn: Callable[..., Any],
                      arg_types: tuple[Any, ...]) -> HandlerSignature:
    """The signature of a handler whose positional parameters are typed by ``arg_types``
    (the last ``len(arg_types)`` positional parameters of ``fn``: ``self`` is not one)."""
    names = tuple(type_name(t) for t in arg_types)
    if name is None:  # dynamic: any name, any arguments
        return HandlerSignature(name=None, min_args=0, max_args=None, arg_types=names)
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # no signature to read: say only what the types say
        return HandlerSignature(name=name, min_args=0, max_args=None, arg_types=names)
    positional = [p for p in params if p.kind in _POSITIONAL]
    positional = positional[len(positional) - len(arg_types):]
    required = sum(1 for p in positional if p.default is inspect.Parameter.empty)
    varargs = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)
    return HandlerSignature(name=name, min_args=required,
                            max_args=None if varargs else len(positional), arg_types=names)


def _of(h: HandlerDefinition) -> HandlerSignature:
    return handler_signature(h.name, h.fn, h.arg_types)


def _sorted(table: dict[str | None, HandlerDefinition]) -> tuple[HandlerSignature, ...]:
    return tuple(_of(h) for _, h in sorted(table.items(), key=lambda kv: kv[0] or ""))


def workflow_signature(d: WorkflowDefinition) -> WorkflowSignature:
    """What a worker registers for a workflow class."""
    run = handler_signature(d.run.name or "run", d.run.fn, d.run.arg_types)
    if d.name is None:
        run = handler_signature(None, d.run.fn, d.run.arg_types)
    return WorkflowSignature(
        workflow_type=d.name, run=run, signals=_sorted(d.signals), queries=_sorted(d.queries),
        updates=_sorted(d.updates), runtime_handlers=tuple(sorted(d.runtime_handlers)))


def activity_signature(d: ActivityDefinition) -> HandlerSignature:
    """What a worker registers for an activity."""
    return handler_signature(d.name, d.fn, d.arg_types)
