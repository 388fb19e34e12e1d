"""Binding a parsed list query to attribute types: the checked tree both back ends run.

:func:`bind` resolves every name against the built-in attributes and the
custom attributes a store knows (name -> the types its runs used), checks that
each operator fits the attribute's type and turns each literal into a typed
value. The result, a tree of :class:`Test`, :class:`All`, :class:`AnyOf` and
:class:`Negate`, is what the SQL compiler (``_search_sql``) and the in-memory
evaluator (``_search_eval``) both read, so the stores cannot disagree about
what a query means.

Semantics: a test holds only for a run that has the attribute (a running run
has no CloseTime); ``!=``, ``NOT IN`` and ``NOT BETWEEN`` too. ``NOT expr`` is
the plain complement. A KeywordList attribute ``= v`` holds when the list
contains ``v``; ``!= v`` when it is set and does not.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol, TypeAlias

import attrs

from ._search_query import (
    And,
    Between,
    Compare,
    In,
    IsNull,
    ListQueryAttributeError,
    Literal,
    MatchAll,
    Node,
    Not,
    Or,
    StartsWith,
    parse,
)
from ._search_values import BUILTIN_ATTRIBUTES, INT64

STATUS_NAMES: dict[str, str] = {
    "running": "running", "completed": "completed", "failed": "failed",
    "canceled": "canceled", "cancelled": "canceled", "terminated": "terminated",
    "continuedasnew": "continued_as_new", "continued_as_new": "continued_as_new",
    "timedout": "timed_out", "timed_out": "timed_out",
}
"""ExecutionStatus values as a query may spell them (the familiar ``Running``,
``ContinuedAsNew``... in any case, or the store's own ``continued_as_new``)."""

BUILTIN_COLUMNS: dict[str, str] = {
    "WorkflowId": "workflow_id", "WorkflowType": "workflow_type", "RunId": "run_id",
    "TaskQueue": "task_queue", "ExecutionStatus": "status", "StartTime": "start_time",
    "CloseTime": "close_time",
}
"""The runs-index column of each built-in attribute."""

_ORDERED = ("=", "!=", "<", "<=", ">", ">=", "between", "in")
_OPS: dict[str, tuple[str, ...]] = {
    "Keyword": (*_ORDERED, "starts_with"),
    "Text": (*_ORDERED, "starts_with"),
    "Int": _ORDERED,
    "Float": _ORDERED,
    "Datetime": _ORDERED,
    "Bool": ("=", "!=", "in"),
    "KeywordList": ("=", "!=", "in"),
    "ExecutionStatus": ("=", "!=", "in"),
}
"""The operators each type takes (``IS [NOT] NULL`` is allowed for every attribute)."""


@attrs.frozen
class Field:
    """An attribute as a test reads it: its name, type and, if built in, its column."""

    name: str
    type: str
    column: str | None = None


@attrs.frozen
class Test:
    """One check of one attribute. ``op`` is ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``,
    ``between`` (values: low, high), ``in``, ``starts_with`` or ``present``; ``negated``
    (for between and in) keeps runs that have the attribute outside the values."""

    field: Field
    op: str
    values: tuple[Any, ...] = ()
    negated: bool = False


@attrs.frozen
class All:
    items: tuple[Bound, ...]


@attrs.frozen
class AnyOf:
    items: tuple[Bound, ...]


@attrs.frozen
class Negate:
    item: Bound


Bound: TypeAlias = Test | All | AnyOf | Negate


class AttributeTypes(Protocol):
    """What binding asks a store about its custom attributes."""

    def types_of(self, name: str) -> Collection[str]:
        """The types runs of the store gave ``name`` (empty: no run has it)."""
        ...

    def names(self) -> Collection[str]:
        """Every custom attribute name runs of the store have (for error messages)."""
        ...


@attrs.frozen
class KnownTypes:
    """:class:`AttributeTypes` from a map of name -> types."""

    known: Mapping[str, Collection[str]]

    def types_of(self, name: str) -> Collection[str]:
        return self.known.get(name, ())

    def names(self) -> Collection[str]:
        return list(self.known)


def bind(query: str, known: AttributeTypes | Mapping[str, Collection[str]]) -> Bound:
    """Parse ``query`` and bind it to the built-in attributes and the store's custom ones
    (``known``: a lookup, or a map of name -> types); ListQueryError /
    ListQueryAttributeError on a mistake."""
    lookup = KnownTypes(known) if isinstance(known, Mapping) else known
    return _Binder(query, lookup).node(parse(query))


class _Binder:
    def __init__(self, query: str, known: AttributeTypes) -> None:
        self.query = query
        self.known = known

    def fail(self, position: int, problem: str) -> ListQueryAttributeError:
        return ListQueryAttributeError(self.query, position, problem)

    def node(self, node: Node) -> Bound:
        if isinstance(node, MatchAll):
            return All(())
        if isinstance(node, And):
            return All(tuple(self.node(n) for n in node.items))
        if isinstance(node, Or):
            return AnyOf(tuple(self.node(n) for n in node.items))
        if isinstance(node, Not):
            return Negate(self.node(node.item))
        return self.predicate(node)

    def fields(self, name: str, position: int) -> list[Field]:
        if name in BUILTIN_ATTRIBUTES:
            kind = "ExecutionStatus" if name == "ExecutionStatus" else BUILTIN_ATTRIBUTES[name]
            return [Field(name, kind, BUILTIN_COLUMNS[name])]
        types = self.known.types_of(name)
        if not types:
            names = sorted(self.known.names())
            near = [n for n in (*BUILTIN_ATTRIBUTES, *names) if n.lower() == name.lower()]
            hint = f" (did you mean {near[0]}?)" if near else ""
            custom = ", ".join(names) or "none yet"
            raise self.fail(position, (
                f"unknown attribute {name!r}{hint}. Built-in: "
                f"{', '.join(BUILTIN_ATTRIBUTES)}; custom attributes set by runs in this "
                f"store: {custom}"))
        return [Field(name, t) for t in sorted(types)]

    def predicate(self, node: Compare | Between | In | StartsWith | IsNull) -> Bound:
        fields = self.fields(node.name, node.position)
        if isinstance(node, IsNull):
            present: Bound = _any([Test(f, "present") for f in fields])
            return present if node.negated else Negate(present)
        op, literals, negated = _shape(node)
        tests: list[Bound] = []
        errors: list[tuple[str, int]] = []
        for field in fields:
            if op not in _OPS[field.type]:
                errors.append((f"{field.name} is {_a(field.type)} attribute, which does not "
                               f"take {_op_text(op)} (it takes {_op_list(field.type)})",
                               node.position))
                continue
            try:
                values = tuple(self.value(field, lit) for lit in literals)
            except _Mismatch as exc:
                errors.append((exc.problem, exc.literal.position))
                continue
            tests.append(Test(field, op, values, negated))
        if tests:
            return _any(tests)
        if len(fields) == 1:
            raise self.fail(errors[0][1], errors[0][0])
        raise self.fail(node.position, (
            f"{node.name} holds values of types {', '.join(f.type for f in fields)} in this "
            f"store, and this comparison fits none of them: "
            + "; ".join(e[0] for e in errors)))

    def value(self, field: Field, lit: Literal) -> Any:
        value, kind = lit.value, field.type
        if kind in ("Keyword", "Text", "KeywordList"):
            if not isinstance(value, str):
                raise _Mismatch(f"{field.name} is {_a(kind)} attribute: compare it with a "
                                f"quoted string, not {lit.text}", lit)
            return value
        if kind == "ExecutionStatus":
            status = STATUS_NAMES.get(str(value).lower()) if isinstance(value, str) else None
            if status is None:
                raise _Mismatch(f"{lit.text} is not an execution status (Running, Completed, "
                                "Failed, Canceled, Terminated, ContinuedAsNew, TimedOut)", lit)
            return status
        if kind == "Int":
            if not isinstance(value, int) or isinstance(value, bool):
                raise _Mismatch(f"{field.name} is an Int attribute: compare it with a whole "
                                f"number, not {lit.text}", lit)
            if not INT64[0] <= value <= INT64[1]:
                raise _Mismatch(f"{lit.text} is outside the 64-bit range of Int", lit)
            return value
        if kind == "Float":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise _Mismatch(f"{field.name} is a Float attribute: compare it with a number, "
                                f"not {lit.text}", lit)
            return float(value)
        if kind == "Bool":
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            if not isinstance(value, bool):
                raise _Mismatch(f"{field.name} is a Bool attribute: compare it with true or "
                                f"false, not {lit.text}", lit)
            return value
        return _datetime(field, lit)


class _Mismatch(Exception):
    def __init__(self, problem: str, literal: Literal) -> None:
        super().__init__(problem)
        self.problem = problem
        self.literal = literal


def _datetime(field: Field, lit: Literal) -> datetime:
    if not isinstance(lit.value, str):
        raise _Mismatch(f"{field.name} is a Datetime attribute: compare it with a quoted ISO "
                        f"8601 time such as '2024-05-01T12:00:00Z', not {lit.text}", lit)
    try:
        parsed = datetime.fromisoformat(lit.value)
    except ValueError:
        raise _Mismatch(f"{lit.text} is not an ISO 8601 time (e.g. '2024-05-01T12:00:00Z' or "
                        "'2024-05-01')", lit) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _shape(node: Compare | Between | In | StartsWith) -> tuple[str, tuple[Literal, ...], bool]:
    if isinstance(node, Compare):
        return node.op, (node.value,), False
    if isinstance(node, Between):
        return "between", (node.low, node.high), node.negated
    if isinstance(node, In):
        return "in", node.values, node.negated
    return "starts_with", (node.prefix,), False


def _any(items: list[Bound]) -> Bound:
    return items[0] if len(items) == 1 else AnyOf(tuple(items))


def _a(kind: str) -> str:
    return ("an " if kind[0] in "AEIOU" else "a ") + kind


def _op_text(op: str) -> str:
    return {"between": "BETWEEN", "in": "IN", "starts_with": "STARTS_WITH"}.get(op, op)


def _op_list(kind: str) -> str:
    return ", ".join(_op_text(op) for op in _OPS[kind])
