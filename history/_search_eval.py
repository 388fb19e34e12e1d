"""Evaluating a bound list query against one runs-index row, in Python (MemoryStore).

The reference semantics: the SQL that ``_search_sql`` compiles must select
exactly the runs for which :func:`matches` is true.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ._search_bind import All, AnyOf, Bound, Field, Negate, Test
from ._search_values import decode
from ._store import RunInfo

_MISSING: Any = object()


def known_types_of(runs: Iterable[RunInfo]) -> dict[str, set[str]]:
    """name -> the types these runs gave each custom attribute."""
    known: dict[str, set[str]] = {}
    for run in runs:
        for name, stored in run.search_attributes.items():
            known.setdefault(name, set()).add(str(stored["type"]))
    return known


def matches(bound: Bound, run: RunInfo) -> bool:
    """Does ``run`` satisfy ``bound``?"""
    if isinstance(bound, All):
        return all(matches(item, run) for item in bound.items)
    if isinstance(bound, AnyOf):
        return any(matches(item, run) for item in bound.items)
    if isinstance(bound, Negate):
        return not matches(bound.item, run)
    return _test(bound, run)


def field_value(field: Field, run: RunInfo) -> Any:
    """The run's value of ``field`` (a list for KeywordList), or ``_MISSING``."""
    if field.column is not None:
        value = getattr(run, field.column)
        return _MISSING if value is None else value
    stored = run.search_attributes.get(field.name)
    if stored is None:
        return _MISSING
    kind, value = decode(field.name, stored)
    return value if kind == field.type else _MISSING


_SCALAR: dict[str, Callable[[Any, tuple[Any, ...]], bool]] = {
    "=": lambda v, a: bool(v == a[0]),
    "!=": lambda v, a: bool(v != a[0]),
    "<": lambda v, a: bool(v < a[0]),
    "<=": lambda v, a: bool(v <= a[0]),
    ">": lambda v, a: bool(v > a[0]),
    ">=": lambda v, a: bool(v >= a[0]),
    "between": lambda v, a: bool(a[0] <= v <= a[1]),
    "in": lambda v, a: v in a,
    "starts_with": lambda v, a: bool(v.startswith(a[0])),
}


def _test(test: Test, run: RunInfo) -> bool:
    value = field_value(test.field, run)
    if value is _MISSING:
        return False
    if test.op == "present":
        return True
    if test.field.type == "KeywordList":
        if test.op == "!=":
            return test.values[0] not in value
        hit = any(item in test.values for item in value)
        return not hit if test.negated else hit
    if test.field.type == "Bool":
        value = bool(value)
    result = _SCALAR[test.op](value, test.values)
    return not result if test.negated else result
