"""Workflow declarations: the decorators and what they collect.

The decorators only mark functions; ``defn`` gathers the marks of a class
into one frozen :class:`WorkflowDefinition` that the engine reads.
"""

from __future__ import annotations

import contextlib
import enum
import inspect
import typing
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs

from ._exceptions import WorkflowDefinitionError

ClassT = TypeVar("ClassT", bound=type)
P = typing.ParamSpec("P")
R_co = TypeVar("R_co", covariant=True)
CallableT = TypeVar("CallableT", bound=Callable[..., Any])

_MARK = "__replay_handler__"
_KNOWN: dict[str, dict[tuple[str, str], WorkflowDefinition]] = {}
_DEFN = "__replay_workflow_definition__"


class HandlerUnfinishedPolicy(enum.Enum):
    """What to do when a run finishes while this handler is still running."""

    WARN_AND_ABANDON = 1
    ABANDON = 2


@attrs.frozen(kw_only=True)
class HandlerDefinition:
    """One signal, query or update handler (or the run method)."""

    kind: str  # run, signal, query, update
    name: str | None  # None for a dynamic handler
    fn: Callable[..., Any]
    arg_types: tuple[Any, ...]
    return_type: Any
    is_async: bool
    unfinished_policy: HandlerUnfinishedPolicy = HandlerUnfinishedPolicy.WARN_AND_ABANDON
    validator: Callable[..., Any] | None = None

    @property
    def dynamic(self) -> bool:
        return self.name is None


@attrs.frozen(kw_only=True)
class WorkflowDefinition:
    """Everything the engine needs to know about a workflow class."""

    name: str | None  # None for the dynamic workflow
    cls: type
    run: HandlerDefinition
    init_takes_args: bool
    signals: dict[str | None, HandlerDefinition]
    queries: dict[str | None, HandlerDefinition]
    updates: dict[str | None, HandlerDefinition]
    failure_exception_types: tuple[type[BaseException], ...] = ()
    sandbox_mode: str | None = None
    runtime_handlers: frozenset[str] = frozenset()
    """Handler kinds ("signal", "query", "update") the class registers while it runs."""

    @staticmethod
    def of(cls: type) -> WorkflowDefinition:
        """The definition of a class decorated with ``workflow.defn``."""
        defn = cls.__dict__.get(_DEFN)
        if not isinstance(defn, WorkflowDefinition):
            raise WorkflowDefinitionError(
                f"{cls.__qualname__} is not a workflow: decorate it with @workflow.defn"
            )
        return defn

    @staticmethod
    def find(obj: object) -> WorkflowDefinition | None:
        """The definition of ``obj`` if it is a class decorated with ``workflow.defn``
        itself (a subclass of a workflow class is not one), else None."""
        defn = vars(obj).get(_DEFN) if isinstance(obj, type) else None
        return defn if isinstance(defn, WorkflowDefinition) else None


class _UpdateMark:
    """What ``workflow.update`` attaches, so ``@fn.validator`` can fill it in later."""

    def __init__(self) -> None:
        self.validator: Callable[..., Any] | None = None


def signature_types(fn: Callable[..., Any], *, skip: int = 1) -> tuple[tuple[Any, ...], Any]:
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # unresolvable forward refs: decode as plain data
        hints = {}
    params = list(inspect.signature(fn).parameters.values())[skip:]
    arg_types = tuple(
        hints.get(p.name, Any)
        for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    )
    return arg_types, hints.get("return", Any)


_signature_types = signature_types  # the old name, still imported by replay.testing


def _mark(fn: Callable[..., Any], kind: str, name: str | None, **extra: Any) -> None:
    marks = dict(getattr(fn, _MARK, {}))
    marks[kind] = (name, extra)
    try:
        setattr(fn, _MARK, marks)
    except AttributeError as exc:  # e.g. a builtin
        raise WorkflowDefinitionError(f"cannot use {fn!r} as a workflow {kind} handler") from exc


def run(fn: CallableT) -> CallableT:
    """Mark the workflow's entry point: an ``async def`` method, exactly one per class."""
    if not inspect.iscoroutinefunction(fn):
        raise WorkflowDefinitionError(
            f"@workflow.run method {fn.__qualname__} must be `async def`"
        )
    _mark(fn, "run", None)
    return fn


def init(fn: CallableT) -> CallableT:
    """Mark ``__init__`` as taking the same arguments as the run method."""
    _mark(fn, "init", None)
    return fn


def _handler_decorator(kind: str, fn: Callable[..., Any] | None, name: str | None,
                       dynamic: bool, **extra: Any) -> Any:
    if dynamic and name is not None:
        raise WorkflowDefinitionError(f"a dynamic {kind} handler cannot also have a name")

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        _mark(f, kind, None if dynamic else (name or f.__name__), **extra)
        return f

    return decorate(fn) if fn is not None else decorate


@typing.overload
def signal(fn: CallableT) -> CallableT: ...
@typing.overload
def signal(
    *, name: str | None = None, dynamic: bool = False,
    unfinished_policy: HandlerUnfinishedPolicy = HandlerUnfinishedPolicy.WARN_AND_ABANDON,
) -> Callable[[CallableT], CallableT]: ...
def signal(
    fn: Any = None, *, name: str | None = None, dynamic: bool = False,
    unfinished_policy: HandlerUnfinishedPolicy = HandlerUnfinishedPolicy.WARN_AND_ABANDON,
) -> Any:
    """Mark a signal handler (``def`` or ``async def``); it returns nothing."""
    return _handler_decorator("signal", fn, name, dynamic, unfinished_policy=unfinished_policy)


@typing.overload
def query(fn: CallableT) -> CallableT: ...
@typing.overload
def query(
    *, name: str | None = None, dynamic: bool = False
) -> Callable[[CallableT], CallableT]: ...
def query(fn: Any = None, *, name: str | None = None, dynamic: bool = False) -> Any:
    """Mark a query handler: a plain ``def`` that reads state and issues no commands."""
    def check(f: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(f):
            raise WorkflowDefinitionError(
                f"@workflow.query handler {f.__qualname__} must be a plain `def`: queries "
                "cannot await"
            )
        result: Callable[..., Any] = _handler_decorator("query", f, name, dynamic)
        return result

    return check(fn) if fn is not None else check


class UpdateMethod(typing.Protocol[P, R_co]):
    """An update handler as the type checker sees it: the method, plus ``.validator``."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...

    def validator(self, vfn: Callable[P, None]) -> Callable[P, None]:
        """Declare the update's validator: same arguments, returns None, raises to reject."""
        ...


@typing.overload
def update(fn: Callable[P, R_co]) -> UpdateMethod[P, R_co]: ...
@typing.overload
def update(
    *, name: str | None = None, dynamic: bool = False,
    unfinished_policy: HandlerUnfinishedPolicy = HandlerUnfinishedPolicy.WARN_AND_ABANDON,
) -> Callable[[Callable[P, R_co]], UpdateMethod[P, R_co]]: ...
def update(
    fn: Any = None, *, name: str | None = None, dynamic: bool = False,
    unfinished_policy: HandlerUnfinishedPolicy = HandlerUnfinishedPolicy.WARN_AND_ABANDON,
) -> Any:
    """Mark an update handler; ``@handler.validator`` adds a read-only validator."""
    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        mark = _UpdateMark()
        _handler_decorator("update", f, name, dynamic, unfinished_policy=unfinished_policy,
                           mark=mark)

        def validator(vfn: CallableT) -> CallableT:
            if inspect.iscoroutinefunction(vfn):
                raise WorkflowDefinitionError(
                    f"update validator {vfn.__qualname__} must be a plain `def`"
                )
            mark.validator = vfn
            return vfn

        f.validator = validator  # type: ignore[attr-defined]  # the familiar decorator API
        return f

    return decorate(fn) if fn is not None else decorate


def _build_handler(kind: str, name: str | None, fn: Callable[..., Any],
                   extra: dict[str, Any]) -> HandlerDefinition:
    skip = 2 if name is None and kind != "run" else 1  # dynamic: (self, name, args)
    arg_types, return_type = signature_types(fn, skip=skip)
    mark = extra.get("mark")
    return HandlerDefinition(
        kind=kind,
        name=name,
        fn=fn,
        arg_types=arg_types,
        return_type=return_type,
        is_async=inspect.iscoroutinefunction(fn),
        unfinished_policy=extra.get("unfinished_policy", HandlerUnfinishedPolicy.WARN_AND_ABANDON),
        validator=mark.validator if isinstance(mark, _UpdateMark) else None,
    )


@typing.overload
def defn(cls: ClassT) -> ClassT: ...
@typing.overload
def defn(
    *, name: str | None = None, dynamic: bool = False,
    failure_exception_types: Sequence[type[BaseException]] = (), sandbox: str | None = None,
    sandboxed: bool | None = None,
) -> Callable[[ClassT], ClassT]: ...
def defn(
    cls: ClassT | None = None,
    *,
    name: str | None = None,
    dynamic: bool = False,
    failure_exception_types: Sequence[type[BaseException]] = (),
    sandbox: str | None = None,
    sandboxed: bool | None = None,
) -> ClassT | Callable[[ClassT], ClassT]:
    """Declare a workflow class (its type name defaults to the class name).

    ``failure_exception_types`` lists exception types that fail the run
    instead of failing the workflow task; ``sandbox`` sets the determinism
    guard for this workflow: ``"strict"`` (default), ``"warn"`` or ``"off"``.
    """

    if sandboxed is False and sandbox is None:  # the familiar SDK's spelling of "off"
        sandbox = "off"

    def decorate(c: ClassT) -> ClassT:
        if dynamic and name is not None:
            raise WorkflowDefinitionError("a dynamic workflow cannot also have a name")
        handlers: dict[str, dict[str | None, HandlerDefinition]] = {
            "signal": {}, "query": {}, "update": {}, "run": {},
        }
        init_takes_args = False
        for klass in reversed(c.__mro__):
            for attr in vars(klass).values():
                marks = getattr(attr, _MARK, None)
                if not marks:
                    continue
                for kind, (hname, extra) in marks.items():
                    if kind == "init":
                        init_takes_args = True
                        continue
                    handlers[kind][hname] = _build_handler(kind, hname, attr, extra)
        runs = list(handlers["run"].values())
        if len(runs) != 1:
            raise WorkflowDefinitionError(
                f"workflow class {c.__qualname__} needs exactly one @workflow.run method, "
                f"found {len(runs)}"
            )
        wf_name = None if dynamic else (name or c.__name__)
        definition = WorkflowDefinition(
            name=wf_name,
            cls=c,
            run=runs[0],
            init_takes_args=init_takes_args,
            signals=handlers["signal"],
            queries=handlers["query"],
            updates=handlers["update"],
            failure_exception_types=tuple(failure_exception_types),
            sandbox_mode=sandbox,
            runtime_handlers=_runtime_registrations(c),
        )
        setattr(c, _DEFN, definition)
        if wf_name is not None:
            # the run method names its workflow when passed to start_workflow and friends
            definition.run.fn.__replay_workflow_name__ = wf_name  # type: ignore[attr-defined]
            _KNOWN.setdefault(wf_name, {})[(c.__module__, c.__qualname__)] = definition
        return c

    return decorate(cls) if cls is not None else decorate


def known_workflow(name: str) -> WorkflowDefinition | None:
    """The workflow class declared with this type name in this process, if exactly one is.

    Two classes declared under one name (say, two versions in different modules)
    make the name ambiguous: then None, and callers must be told the class.
    """
    found = _KNOWN.get(name, {})
    return next(iter(found.values())) if len(found) == 1 else None


def owner_workflow(fn: Any) -> WorkflowDefinition | None:
    """The workflow whose handler ``fn`` is (a method reference like ``Wf.approve``)."""
    if isinstance(fn, type):
        d = fn.__dict__.get(_DEFN)
        return d if isinstance(d, WorkflowDefinition) else None
    qualname = getattr(fn, "__qualname__", "")
    module = inspect.getmodule(fn)
    owner: Any = module
    for part in qualname.split(".")[:-1]:
        owner = getattr(owner, part, None)
    if isinstance(owner, type):
        d = owner.__dict__.get(_DEFN)
        return d if isinstance(d, WorkflowDefinition) else None
    return None


def workflow_name(workflow: Any) -> tuple[str, Any]:
    """The type name and declared result type of a workflow given as its class, its
    ``@workflow.run`` method or its type name (the result type is then None)."""
    if isinstance(workflow, str):
        return workflow, None
    if isinstance(workflow, type):
        d = WorkflowDefinition.of(workflow)
        return d.name or workflow.__name__, d.run.return_type
    name = getattr(workflow, "__replay_workflow_name__", None)
    if name is None:
        raise TypeError(
            f"{workflow!r} is not a workflow: pass a workflow class, its @workflow.run "
            "method, or the workflow type name"
        )
    fn = getattr(workflow, "__func__", workflow)  # a bound method: its function
    try:
        return name, _RESULT_TYPES[fn]
    except (KeyError, TypeError):  # not seen yet, or not weakly referable
        pass
    result = signature_types(workflow)[1]
    if result is not Any:  # Any may be a forward reference not resolvable yet: look again
        with contextlib.suppress(TypeError):
            _RESULT_TYPES[fn] = result
    return name, result


_RESULT_TYPES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
"""The declared result type of each ``@workflow.run`` method a client was given (reading
the annotations is the costliest part of starting a run)."""


def handler_name(fn: Any, kind: str) -> str:
    """The registered name of a handler given as a method reference or a string."""
    if isinstance(fn, str):
        return fn
    marks = getattr(fn, _MARK, {})
    if kind in marks and marks[kind][0]:
        return str(marks[kind][0])
    raise TypeError(f"{fn!r} is not a @workflow.{kind} handler; pass the method or its name")


_REGISTRARS = {
    "set_signal_handler": "signal", "set_dynamic_signal_handler": "signal",
    "set_query_handler": "query", "set_dynamic_query_handler": "query",
    "set_update_handler": "update", "set_dynamic_update_handler": "update",
}


def _runtime_registrations(cls: type) -> frozenset[str]:
    """Which handler kinds the class's code registers at run time (names its code uses)."""
    kinds: set[str] = set()
    todo = [getattr(v, "__code__", None) for klass in cls.__mro__ for v in vars(klass).values()]
    while todo:
        code = todo.pop()
        if code is None:
            continue
        kinds |= {_REGISTRARS[n] for n in code.co_names if n in _REGISTRARS}
        todo += [c for c in code.co_consts if hasattr(c, "co_names")]
    return frozenset(kinds)
