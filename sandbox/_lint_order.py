"""Lint checks on order and hashing: iterating a set (RPL-SB16), hash() of a string (RPL-SB15).

A set's order is not part of its value: sets of strings follow the per-process
hash seed and sets of tasks or plain objects follow memory addresses, so code
that walks a set may take its steps in another order on replay. Uses that do
not depend on the order are fine: ``sorted(s)``, ``len(s)``, ``x in s``, set
algebra, ``min``/``max``/``any``/``all``/``sum``, building another set.
"""

from __future__ import annotations

import ast

from ._kinds import SET, STR, Kinds

#: Calls whose result does not depend on the order of the iterable they are given.
ORDER_FREE = frozenset(
    {"all", "any", "frozenset", "len", "max", "min", "set", "sorted", "sum"}
)

#: Calls that walk their (positional) arguments in order, and which arguments.
_ORDERED_CALLS = {
    "list": 0, "tuple": 0, "enumerate": 0, "iter": 0, "zip": 0, "dict.fromkeys": 0,
    "map": 1, "filter": 1,
}


def order_free_nodes(nodes: list[ast.AST], kinds: Kinds) -> set[int]:
    """ids of comprehensions and ``*x`` whose order cannot matter (``sorted(x for x in s)``)."""
    free: set[int] = set()
    for node in nodes:
        if isinstance(node, ast.Set):
            free.update(id(e) for e in node.elts if isinstance(e, ast.Starred))
        elif isinstance(node, ast.Call) and kinds.resolve(node.func) in ORDER_FREE:
            free.update(
                id(arg) for arg in node.args
                if isinstance(arg, (ast.Starred, ast.GeneratorExp, ast.ListComp))
            )
    return free


def describe(expr: ast.AST) -> str:
    """``set 'tags'``, ``set 'self.pending'`` or ``a set``, for messages."""
    if isinstance(expr, ast.Name):
        return f"set {expr.id!r}"
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        return f"set '{expr.value.id}.{expr.attr}'"
    return "a set"


def set_iterations(node: ast.AST, kinds: Kinds, free: set[int]) -> list[tuple[ast.AST, str]]:
    """(where, what) for each place ``node`` itself walks a set in its order."""
    walked: list[tuple[ast.AST, str]] = []
    if isinstance(node, (ast.For, ast.AsyncFor)):
        walked.append((node.iter, "iterates over {}"))
    elif isinstance(node, (ast.ListComp, ast.DictComp, ast.GeneratorExp)) and id(node) not in free:
        walked += [(g.iter, "iterates over {} in a comprehension") for g in node.generators]
    elif isinstance(node, ast.Starred) and id(node) not in free:
        walked.append((node.value, "unpacks {}"))
    elif isinstance(node, ast.YieldFrom):
        walked.append((node.value, "yields from {}"))
    elif isinstance(node, ast.Call):
        walked += _call_walks(node, kinds)
    return [(expr, what.format(describe(expr))) for expr, what in walked if kinds.of(expr) == SET]


def _call_walks(call: ast.Call, kinds: Kinds) -> list[tuple[ast.AST, str]]:
    func = call.func
    if isinstance(func, ast.Attribute):
        if func.attr == "pop" and not call.args and kinds.of(func.value) == SET:
            return [(func.value, "takes an arbitrary element of {} with pop()")]
        if func.attr == "join" and kinds.of(func.value) == STR and call.args:
            return [(call.args[0], "joins {} into a string")]
    target = kinds.resolve(func)
    first = _ORDERED_CALLS.get(target or "")
    if first is None:
        return []
    name = target.rpartition(".")[2] if target else "?"
    return [(arg, f"passes {{}} to {name}()") for arg in call.args[first:]]


def hashes_a_string(call: ast.Call, kinds: Kinds) -> bool:
    """True for ``hash(x)`` where ``x`` is known to be a string, bytes or a tuple holding one."""
    return len(call.args) == 1 and not call.keywords and kinds.holds_str(call.args[0])
