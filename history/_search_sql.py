"""Compiling a bound list query to a parameterised SQL condition on the runs table.

Values never enter the SQL text: every literal is a parameter, and the only
names written into the text are the fixed column names of the runs index and
of the ``search_attributes`` index table. One compiler serves SQLite and
PostgreSQL through a :class:`Dialect` (placeholders with the type casts
PostgreSQL wants, how times are passed, byte-order string comparison, the
prefix test). Its result selects exactly the runs ``_search_eval.matches``
accepts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from ._search_bind import All, AnyOf, Bound, Negate, Test
from ._search_values import to_micros


@attrs.frozen
class Dialect:
    """What differs between the SQL back ends."""

    placeholders: dict[str, str]
    """Placeholder per parameter kind (text, int, float, time, micros)."""
    ordered_text: str
    """Suffix making a text comparison compare code points (``COLLATE "C"`` on PostgreSQL)."""
    time_param: Callable[[datetime], Any]
    """How a runs-index time is passed (microseconds in SQLite, a datetime in PostgreSQL)."""
    prefix: str
    """SQL testing that ``{col}`` starts with the parameter, with two ``{p}`` placeholders."""


SQLITE = Dialect(
    placeholders={"text": "?", "int": "?", "float": "?", "time": "?", "micros": "?"},
    ordered_text="", time_param=to_micros, prefix="substr({col}, 1, length({p})) = {p}")

POSTGRES = Dialect(
    placeholders={"text": "%s::text", "int": "%s::bigint", "float": "%s::float8",
                  "time": "%s::timestamptz", "micros": "%s::bigint"},
    ordered_text=' COLLATE "C"', time_param=lambda t: t,
    prefix="left({col}, char_length({p})) = {p}")

_VALUE_COLUMN = {"Keyword": "text_value", "Text": "text_value", "KeywordList": "text_value",
                 "Int": "int_value", "Bool": "int_value", "Datetime": "int_value",
                 "Float": "float_value"}
_KIND = {"Keyword": "text", "Text": "text", "KeywordList": "text", "ExecutionStatus": "text",
         "Int": "int", "Bool": "int", "Float": "float"}


def compile_where(bound: Bound, dialect: Dialect) -> tuple[str, list[Any]]:
    """(SQL condition over ``runs``, its parameters in order)."""
    params: list[Any] = []
    return _Compiler(dialect, params).node(bound), params


class _Compiler:
    def __init__(self, dialect: Dialect, params: list[Any]) -> None:
        self.d = dialect
        self.params = params

    def node(self, bound: Bound) -> str:
        if isinstance(bound, All):
            return "(" + " AND ".join(self.node(i) for i in bound.items) + ")" \
                if bound.items else "1 = 1"
        if isinstance(bound, AnyOf):
            return "(" + " OR ".join(self.node(i) for i in bound.items) + ")"
        if isinstance(bound, Negate):
            return f"(NOT {self.node(bound.item)})"
        if bound.field.column is not None:
            return self.builtin(bound)
        return self.custom(bound)

    def param(self, kind: str, value: Any) -> str:
        self.params.append(value)
        return self.d.placeholders[kind]

    def value_param(self, type: str, value: Any) -> str:
        if type == "Datetime":
            return self.param("micros", to_micros(value))
        if type == "Bool":
            return self.param("int", int(value))
        return self.param(_KIND[type], value)

    def condition(self, col: str, test: Test, param: Callable[[Any], str], text: bool) -> str:
        op, values = test.op, test.values
        order = self.d.ordered_text if text else ""
        if op == "starts_with":
            first = param(values[0])
            second = param(values[0])
            return self.d.prefix.replace("{col}", col).replace("{p}", first, 1).replace(
                "{p}", second, 1)
        if op == "between":
            sql = f"{col}{order} BETWEEN {param(values[0])} AND {param(values[1])}"
        elif op == "in":
            sql = f"{col} IN ({', '.join(param(v) for v in values)})"
        else:
            sql = f"{col}{order if op not in ('=', '!=') else ''} {op} {param(values[0])}"
        return f"NOT ({sql})" if test.negated else sql

    def builtin(self, test: Test) -> str:
        col = f"runs.{test.field.column}"
        nullable = test.field.column == "close_time"
        if test.op == "present":
            return f"{col} IS NOT NULL" if nullable else "1 = 1"
        if test.field.type == "Datetime":
            def param(v: Any) -> str:
                return self.param("time", self.d.time_param(v))
            sql = self.condition(col, test, param, text=False)
        else:
            sql = self.condition(col, test, lambda v: self.param("text", v), text=True)
        return f"({col} IS NOT NULL AND {sql})" if nullable else f"({sql})"

    def custom(self, test: Test) -> str:
        field = test.field
        # IN (a subquery that does not refer to runs): evaluated once, through the index on
        # (name, type, value), rather than once per run as a correlated EXISTS would be
        head = ("runs.run_id IN (SELECT sa.run_id FROM search_attributes AS sa WHERE "
                f"sa.name = {self.param('text', field.name)} "
                f"AND sa.type = {self.param('text', field.type)}")
        if test.op == "present":
            return head + ")"
        col = f"sa.{_VALUE_COLUMN[field.type]}"
        def param(v: Any) -> str:
            return self.value_param(field.type, v)
        if field.type == "KeywordList" and (test.op == "!=" or test.negated):
            inner = attrs.evolve(test, op="=" if test.op == "!=" else test.op, negated=False)
            present = head + ")"
            return f"({present} AND NOT {self.custom(inner)})"
        text = field.type in ("Keyword", "Text", "KeywordList")
        return f"{head} AND {self.condition(col, test, param, text)})"
