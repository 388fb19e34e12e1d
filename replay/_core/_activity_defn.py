"""``activity.defn``: the activity declaration the workflow side needs to name it."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from ._definition import signature_types
from ._exceptions import WorkflowDefinitionError

F = TypeVar("F", bound=Callable[..., Any])
_ATTR = "__replay_activity_definition__"


@attrs.frozen(kw_only=True)
class ActivityDefinition:
    """An activity's name, function and argument/return types."""

    name: str | None  # None: the dynamic activity
    fn: Callable[..., Any]
    is_async: bool
    arg_types: tuple[Any, ...]
    return_type: Any

    @staticmethod
    def bound(fn: Callable[..., Any]) -> ActivityDefinition:
        """The definition of a registered callable, calling it as given (a bound method
        keeps its instance)."""
        return attrs.evolve(ActivityDefinition.of(fn), fn=fn)

    @staticmethod
    def find(obj: object) -> ActivityDefinition | None:
        """The definition of ``obj`` if it is decorated with ``activity.defn``, else None."""
        d = getattr(obj, _ATTR, None) if callable(obj) else None
        return d if isinstance(d, ActivityDefinition) else None

    @staticmethod
    def of(fn: Callable[..., Any]) -> ActivityDefinition:
        d = getattr(fn, _ATTR, None)
        if not isinstance(d, ActivityDefinition):
            raise WorkflowDefinitionError(
                f"{getattr(fn, '__qualname__', fn)!r} is not an activity: decorate it with "
                "@activity.defn"
            )
        return d


@typing.overload
def defn(fn: F) -> F: ...
@typing.overload
def defn(*, name: str | None = None, dynamic: bool = False) -> Callable[[F], F]: ...
def defn(fn: F | None = None, *, name: str | None = None, dynamic: bool = False
         ) -> F | Callable[[F], F]:
    """Declare an activity (``async def`` or plain ``def``, which runs in a thread pool)."""

    def decorate(f: F) -> F:
        if dynamic and name is not None:
            raise WorkflowDefinitionError("a dynamic activity cannot also have a name")
        params = list(inspect.signature(f).parameters)
        # A method (decorated in its class, registered bound: Worker(activities=[obj.m]))
        # takes `self` first; the dynamic activity takes its raw arguments.
        skip = (1 if params[:1] == ["self"] else 0) + (1 if dynamic else 0)
        arg_types, return_type = signature_types(f, skip=skip)
        setattr(f, _ATTR, ActivityDefinition(
            name=None if dynamic else (name or f.__name__),
            fn=f,
            is_async=inspect.iscoroutinefunction(f),
            arg_types=arg_types,
            return_type=return_type,
        ))
        return f

    return decorate(fn) if fn is not None else decorate


def activity_name_and_result_type(activity: Any) -> tuple[str, Any]:
    """The name to schedule ``activity`` under, and its declared return type."""
    if isinstance(activity, str):
        return activity, None
    d = getattr(activity, _ATTR, None)
    if isinstance(d, ActivityDefinition) and d.name is not None:
        return d.name, d.return_type
    if callable(activity):
        return getattr(activity, "__name__", str(activity)), signature_types(
            activity, skip=0)[1]
    raise TypeError(f"{activity!r} is not an activity function or name")
