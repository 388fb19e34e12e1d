"""Random runs with search attributes, random list queries, and a reference evaluator.

The store conformance kit's property test draws runs (each with a random set of
typed attributes, some upserted or removed later, some closed) and queries
built from a small expression tree. Each expression renders itself as query
text *and* evaluates itself on the Python values the runs were given, with the
documented semantics (docs/list-queries.md), independently of the stores'
parser, binder, SQL compiler and evaluator. A store passes when it returns
exactly the runs the reference picks, newest first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from hypothesis import strategies as st

from replay.history import (
    Append,
    Operation,
    SearchAttributesUpserted,
    Start,
    WorkflowCompleted,
    WorkflowStarted,
    encode_search_attribute,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)

TYPES: dict[str, str] = {
    "Customer": "Keyword", "Note": "Text", "Amount": "Int", "Score": "Float",
    "Urgent": "Bool", "Due": "Datetime", "Tags": "KeywordList",
}
"""The custom attributes the property test uses, and their types."""

_WORDS = ["", "a", "ab", "abc", "b", "ba", "Z", "é", "ö ö", "'q\"", "\\"]
_INTS = [-(2**63), -2, 0, 1, 5, 2**40, 2**63 - 1]
_FLOATS = [-1.5, -0.0, 0.0, 0.1, 0.30000000000000004, 2.5, 1e300]
_TIMES = [T0 + timedelta(days=d, microseconds=m) for d, m in
          ((-400, 0), (0, 0), (0, 1), (3, 500), (40, 0))]

_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "Keyword": st.sampled_from(_WORDS),
    "Text": st.sampled_from(_WORDS),
    "Int": st.sampled_from(_INTS),
    "Float": st.sampled_from(_FLOATS),
    "Bool": st.booleans(),
    "Datetime": st.sampled_from(_TIMES),
    "KeywordList": st.lists(st.sampled_from(_WORDS), max_size=3),
}


@attrs.frozen
class RunModel:
    """What the reference knows of one run: its index fields and attributes (Python values)."""

    run_id: str
    workflow_id: str
    workflow_type: str
    task_queue: str
    status: str
    start_time: datetime
    close_time: datetime | None
    attributes: dict[str, Any]

    def builtin(self, name: str) -> Any:
        return {"WorkflowId": self.workflow_id, "WorkflowType": self.workflow_type,
                "RunId": self.run_id, "TaskQueue": self.task_queue,
                "ExecutionStatus": self.status, "StartTime": self.start_time,
                "CloseTime": self.close_time}[name]


@attrs.frozen
class RunPlan:
    """A run to write: its attributes at start, later upserts, and whether it closes."""

    index: int
    workflow_type: str
    start: dict[str, Any]
    upserts: tuple[dict[str, Any | None], ...]
    closes: bool

    def operations(self) -> list[Operation]:
        run_id, time = f"run-{self.index:02d}", T0 + timedelta(minutes=self.index)
        started = WorkflowStarted(
            event_id=1, time=time, workflow_type=self.workflow_type,
            workflow_id=f"wf-{self.index}", task_queue=f"q{self.index % 2}",
            search_attributes=_encode(self.start))
        events: list[Any] = []
        for upsert in self.upserts:
            events.append(SearchAttributesUpserted(
                event_id=2 + len(events), time=time, search_attributes=_encode(upsert)))
        if self.closes:
            events.append(WorkflowCompleted(event_id=2 + len(events),
                                            time=time + timedelta(seconds=30)))
        ops: list[Operation] = [Start(run_id, started)]
        if events:
            ops.append(Append(run_id, events, 1))
        return ops

    def model(self) -> RunModel:
        attributes = dict(self.start)
        for upsert in self.upserts:
            for name, value in upsert.items():
                if value is None:
                    attributes.pop(name, None)
                else:
                    attributes[name] = value
        time = T0 + timedelta(minutes=self.index)
        return RunModel(
            run_id=f"run-{self.index:02d}", workflow_id=f"wf-{self.index}",
            workflow_type=self.workflow_type, task_queue=f"q{self.index % 2}",
            status="completed" if self.closes else "running", start_time=time,
            close_time=time + timedelta(seconds=30) if self.closes else None,
            attributes=attributes)


def _encode(values: dict[str, Any]) -> dict[str, Any]:
    return {name: None if value is None else encode_search_attribute(name, TYPES[name], value)
            for name, value in values.items()}


_NAMES = st.sampled_from(sorted(TYPES))
_ATTRIBUTE_MAPS = st.lists(_NAMES, unique=True, min_size=1, max_size=5).flatmap(
    lambda names: st.fixed_dictionaries({n: _VALUES[TYPES[n]] for n in names}))
_UPSERTS = st.lists(st.sampled_from(sorted(TYPES)), unique=True, min_size=1, max_size=3).flatmap(
    lambda names: st.fixed_dictionaries(
        {n: st.one_of(st.none(), _VALUES[TYPES[n]]) for n in names}))


@st.composite
def run_plans(draw: st.DrawFn, *, max_runs: int = 6) -> list[RunPlan]:
    """Runs with random attributes, upserts and endings."""
    count = draw(st.integers(min_value=1, max_value=max_runs))
    return [RunPlan(index=i, workflow_type=draw(st.sampled_from(["Orders", "Refunds"])),
                    start=draw(_ATTRIBUTE_MAPS),
                    upserts=tuple(draw(st.lists(_UPSERTS, max_size=2))),
                    closes=draw(st.booleans()))
            for i in range(count)]


# --- queries: text and meaning together ---------------------------------------------------------


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _literal(type: str, value: Any) -> str:
    if type in ("Keyword", "Text", "KeywordList", "ExecutionStatus"):
        return _quote(str(value))
    if type == "Bool":
        return "true" if value else "false"
    if type == "Datetime":
        return _quote(value.isoformat())
    return repr(value)


_STATUS_TEXT = {"running": "Running", "completed": "Completed", "failed": "Failed"}


@attrs.frozen
class Expr:
    """A query expression: its text, and whether it holds for a run."""

    text: str
    holds: Callable[[RunModel], bool] = attrs.field(eq=False)
    names: frozenset[str] = frozenset()
    """The custom attributes it names (the store must know them all)."""


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: bool(a == b), "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b), "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b), ">=": lambda a, b: bool(a >= b),
}


def _leaf(name: str, type: str, op: str, values: list[Any], negated: bool) -> Expr:
    def value_of(run: RunModel) -> Any:
        return run.attributes.get(name) if name in TYPES else run.builtin(name)

    def holds(run: RunModel) -> bool:
        value = value_of(run)
        if value is None:
            return op == "is null"
        if op == "is null":
            return False
        if op == "is not null":
            return True
        if type == "KeywordList":
            if op == "!=":
                return values[0] not in value
            hit = any(v in values for v in value)
            return hit != negated
        if op == "between":
            inside = bool(values[0] <= value <= values[1])
            return inside != negated
        if op == "in":
            return (value in values) != negated
        if op == "starts_with":
            return bool(value.startswith(values[0]))
        return _COMPARE[op](value, values[0])

    shown = [_literal(type, v if type != "ExecutionStatus" else _STATUS_TEXT[v])
             for v in values]
    prefix = "NOT " if negated else ""
    if op in ("is null", "is not null"):
        text = f"{name} {op.upper()}"
    elif op == "between":
        text = f"{name} {prefix}BETWEEN {shown[0]} AND {shown[1]}"
    elif op == "in":
        text = f"{name} {prefix}IN ({', '.join(shown)})"
    elif op == "starts_with":
        text = f"{name} STARTS_WITH {shown[0]}"
    else:
        text = f"{name} {op} {shown[0]}"
    return Expr(text, holds, frozenset({name}) if name in TYPES else frozenset())


_BUILTIN_VALUES: dict[str, tuple[str, st.SearchStrategy[Any]]] = {
    "WorkflowId": ("Keyword", st.sampled_from([f"wf-{i}" for i in range(7)])),
    "WorkflowType": ("Keyword", st.sampled_from(["Orders", "Refunds", "Other"])),
    "TaskQueue": ("Keyword", st.sampled_from(["q0", "q1"])),
    "RunId": ("Keyword", st.sampled_from([f"run-{i:02d}" for i in range(7)])),
    "ExecutionStatus": ("ExecutionStatus", st.sampled_from(["running", "completed", "failed"])),
    "StartTime": ("Datetime", st.sampled_from([T0 + timedelta(minutes=m) for m in (-1, 0, 2, 9)])),
    "CloseTime": ("Datetime", st.sampled_from([T0 + timedelta(minutes=m, seconds=30)
                                               for m in (0, 2, 9)])),
}
_OPS: dict[str, list[str]] = {
    "Keyword": ["=", "!=", "<", "<=", ">", ">=", "between", "in", "starts_with"],
    "Text": ["=", "!=", "in", "starts_with", "<", "between"],
    "Int": ["=", "!=", "<", "<=", ">", ">=", "between", "in"],
    "Float": ["=", "!=", "<", "<=", ">", ">=", "between", "in"],
    "Datetime": ["=", "!=", "<", "<=", ">", ">=", "between", "in"],
    "Bool": ["=", "!="],
    "KeywordList": ["=", "!=", "in"],
    "ExecutionStatus": ["=", "!=", "in"],
}


@st.composite
def _leaves(draw: st.DrawFn) -> Expr:
    name = draw(st.sampled_from([*sorted(TYPES), *sorted(_BUILTIN_VALUES)]))
    if name in TYPES:
        type = TYPES[name]
        values = _VALUES["Keyword"] if type == "KeywordList" else _VALUES[type]
    else:
        type, values = _BUILTIN_VALUES[name]
    op = draw(st.sampled_from([*_OPS[type], "is null", "is not null"]))
    if op in ("is null", "is not null"):
        return _leaf(name, type, op, [], False)
    count = {"between": 2, "in": draw(st.integers(min_value=1, max_value=3))}.get(op, 1)
    drawn = [draw(values) for _ in range(count)]
    if type == "Float":
        drawn = [float(v) for v in drawn]
    negated = op in ("between", "in") and draw(st.booleans())
    return _leaf(name, type, op, drawn, negated)


def _combine(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    def both(kind: str) -> Callable[[tuple[Expr, Expr]], Expr]:
        def make(pair: tuple[Expr, Expr]) -> Expr:
            a, b = pair
            if kind == "AND":
                return Expr(f"({a.text}) AND ({b.text})",
                            lambda r: a.holds(r) and b.holds(r), a.names | b.names)
            return Expr(f"({a.text}) OR ({b.text})", lambda r: a.holds(r) or b.holds(r),
                        a.names | b.names)
        return make

    def negate(a: Expr) -> Expr:
        return Expr(f"NOT ({a.text})", lambda r: not a.holds(r), a.names)

    pairs = st.tuples(children, children)
    return st.one_of(pairs.map(both("AND")), pairs.map(both("OR")), children.map(negate))


queries: st.SearchStrategy[Expr] = st.recursive(_leaves(), _combine, max_leaves=5)
"""Random list queries (as :class:`Expr`: text and meaning)."""


def expected(query: Expr, plans: list[RunPlan]) -> list[str] | None:
    """The run ids the query selects, newest first; None if it names an attribute no run
    has now (the store must then refuse it)."""
    models = [plan.model() for plan in plans]
    known = {name for model in models for name in model.attributes}
    if not query.names <= known:
        return None
    return [m.run_id for m in reversed(models) if query.holds(m)]
