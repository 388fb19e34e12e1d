"""What the lint can tell about a value from source alone: is it a set, is it a string?

Two kinds matter to the rules: :data:`SET` (iterating it follows hash order,
RPL-SB16) and :data:`STR` (hashing it is salted, RPL-SB15). An expression has a
kind when it is built as one (``{...}``, ``set(...)``, a set comprehension, a
string literal, an f-string, ``str(...)``, ``a | b`` of sets, ``"-".join(...)``,
...), when it is a name every binding of which in its scope has that kind (by
value or annotation: ``tags: set[str]``, ``def f(name: str)``), or when it is
``self.x`` and every assignment or annotation of ``x`` in the workflow class has
that kind. Anything else is unknown, and unknown values are never reported.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from typing import TypeGuard

from ._scopes import dotted

SET, STR = "set", "str"

Resolve = Callable[[ast.AST], "str | None"]

_SET_TYPES = frozenset({"set", "frozenset", "Set", "FrozenSet", "AbstractSet", "MutableSet"})
_STR_TYPES = frozenset({"str", "bytes", "LiteralString", "Text"})
_SET_METHODS = frozenset({"copy", "difference", "intersection", "symmetric_difference", "union"})
_STR_METHODS = frozenset(
    {
        "capitalize", "casefold", "decode", "encode", "format", "join", "lower", "lstrip",
        "removeprefix", "removesuffix", "replace", "rstrip", "strip", "swapcase", "title",
        "upper", "zfill",
    }
)
_SET_OPS = (ast.BitOr, ast.BitAnd, ast.Sub, ast.BitXor)
_STR_BUILDERS = frozenset({"str", "bytes", "repr", "ascii", "chr", "format"})
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_DEFINES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.ExceptHandler)


def annotation_kind(annotation: ast.AST | None) -> str | None:
    """SET for ``set[str]``, ``frozenset``, ``AbstractSet[...] | None``; STR for str/bytes."""
    if annotation is None:
        return None
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return None
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        sides = [annotation_kind(s) for s in (annotation.left, annotation.right) if not _none(s)]
        return sides[0] if len(sides) == 1 else None
    if isinstance(annotation, ast.Subscript):
        if (dotted(annotation.value) or "").rpartition(".")[2] == "Optional":
            return annotation_kind(annotation.slice)
        annotation = annotation.value
    name = (dotted(annotation) or "").rpartition(".")[2]
    if name in _SET_TYPES:
        return SET
    return STR if name in _STR_TYPES else None


def _none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


class Kinds:
    """The kinds of the names (and ``self.`` attributes) visible in one scope."""

    def __init__(self, names: dict[str, str], attrs: dict[str, str], resolve: Resolve) -> None:
        self.names = names
        self.attrs = attrs
        self.resolve = resolve

    def of(self, expr: ast.AST) -> str | None:
        """SET, STR or None (unknown) for an expression."""
        if isinstance(expr, (ast.Set, ast.SetComp)):
            return SET
        if isinstance(expr, ast.Constant):
            return STR if isinstance(expr.value, (str, bytes)) else None
        if isinstance(expr, ast.JoinedStr):
            return STR
        if isinstance(expr, ast.Name):
            return self.names.get(expr.id)
        if isinstance(expr, ast.Attribute):
            is_self = isinstance(expr.value, ast.Name) and expr.value.id == "self"
            return self.attrs.get(expr.attr) if is_self else None
        if isinstance(expr, ast.Call):
            return self._call(expr)
        if isinstance(expr, ast.BinOp):
            return self._binop(expr)
        if isinstance(expr, ast.IfExp):
            body = self.of(expr.body)
            return body if body == self.of(expr.orelse) else None
        if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Slice):
            return STR if self.of(expr.value) == STR else None
        if isinstance(expr, ast.NamedExpr):
            return self.of(expr.value)
        return None

    def holds_str(self, expr: ast.AST) -> bool:
        """STR, or a tuple display with a STR inside (its hash is salted as well)."""
        if isinstance(expr, ast.Tuple):
            return any(self.holds_str(e) for e in expr.elts)
        return self.of(expr) == STR

    def _call(self, call: ast.Call) -> str | None:
        target = self.resolve(call.func)
        if target in ("set", "frozenset"):
            return SET
        if target in _STR_BUILDERS:
            return STR
        if isinstance(call.func, ast.Attribute):
            receiver = self.of(call.func.value)
            if receiver == SET and call.func.attr in _SET_METHODS:
                return SET
            if receiver == STR and call.func.attr in _STR_METHODS:
                return STR
        return None

    def _binop(self, expr: ast.BinOp) -> str | None:
        sides = (self.of(expr.left), self.of(expr.right))
        if isinstance(expr.op, _SET_OPS) and SET in sides:
            return SET
        if isinstance(expr.op, (ast.Add, ast.Mult)) and STR in sides:
            return STR
        if isinstance(expr.op, ast.Mod) and sides[0] == STR:
            return STR
        return None

    def child(self, scope: ast.AST, nodes: list[ast.AST], resolve: Resolve) -> Kinds:
        """The kinds inside a nested scope made of ``nodes`` (its parameters included)."""
        kinds = Kinds(dict(self.names), self.attrs, resolve)
        bindings = _bindings(nodes, kinds)
        for _ in range(3):  # names defined from other names: settle in a few rounds
            local = _settle(bindings(), _parameters(scope))
            kinds.names = {k: v for k, v in self.names.items() if k not in local} | {
                k: v for k, v in local.items() if v is not None
            }
        return kinds


def _parameters(scope: ast.AST) -> dict[str, str | None]:
    if not isinstance(scope, _SCOPES):
        return {}
    args = scope.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return {a.arg: annotation_kind(a.annotation) for a in every if a is not None}


def _settle(
    bindings: Iterable[tuple[str, str | None]], parameters: dict[str, str | None]
) -> dict[str, str | None]:
    """One kind per name: the common kind of all its bindings, else None."""
    seen: dict[str, set[str | None]] = {name: {kind} for name, kind in parameters.items()}
    for name, kind in bindings:
        seen.setdefault(name, set()).add(kind)
    return {name: kinds.pop() if len(kinds) == 1 else None for name, kinds in seen.items()}


def _bindings(
    nodes: list[ast.AST], kinds: Kinds
) -> Callable[[], list[tuple[str, str | None]]]:
    """A function listing (name, kind) for every binding among ``nodes``, with current kinds."""

    def collect() -> list[tuple[str, str | None]]:
        typed: dict[int, str | None] = {}
        for node in nodes:
            typed.update(_typed_targets(node, kinds))
        found: list[tuple[str, str | None]] = []
        for node in nodes:
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                found.append((node.id, typed.get(id(node))))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                found += [((a.asname or a.name).partition(".")[0], None) for a in node.names]
            elif isinstance(node, _DEFINES) and node.name:
                found.append((node.name, None))
        return found

    return collect


def _typed_targets(node: ast.AST, kinds: Kinds) -> dict[int, str | None]:
    """id(target Name) -> kind, for the names ``node`` binds from a value or annotation."""
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        kind = annotation_kind(node.annotation)
        if kind is None and node.value is not None:
            kind = kinds.of(node.value)
        return {id(node.target): kind}
    if isinstance(node, ast.NamedExpr):
        return {id(node.target): kinds.of(node.value)}
    if not isinstance(node, ast.Assign):
        return {}
    typed: dict[int, str | None] = {}
    for target in node.targets:
        if isinstance(target, ast.Name):
            typed[id(target)] = kinds.of(node.value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            typed.update(_unpacked(target, node.value, kinds))
    return typed


def _unpacked(target: ast.Tuple | ast.List, value: ast.AST, kinds: Kinds) -> dict[int, str | None]:
    """``a, b = {1}, "x"`` element by element; ``done, pending = await asyncio.wait(...)``."""
    names = [e for e in target.elts if isinstance(e, ast.Name)]
    if len(names) != len(target.elts):
        return {}
    if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(names):
        return {id(n): kinds.of(v) for n, v in zip(names, value.elts, strict=True)}
    call = value.value if isinstance(value, ast.Await) else value
    if isinstance(call, ast.Call) and kinds.resolve(call.func) == "asyncio.wait":
        return {id(n): SET for n in names}
    return {}


def attribute_kinds(cls: ast.ClassDef, kinds: Kinds) -> dict[str, str]:
    """Kinds of ``self.x`` in a class: from class-level annotations and ``self.x = ...``."""
    seen: dict[str, set[str | None]] = {}
    for item in cls.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            kind = annotation_kind(item.annotation)
            seen.setdefault(item.target.id, set()).add(kind)
        elif isinstance(item, ast.Assign):
            for target in item.targets:
                if isinstance(target, ast.Name):
                    seen.setdefault(target.id, set()).add(kinds.of(item.value))
    for item in cls.body:
        if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(item):
            for attr, kind in _self_assignments(node, kinds):
                seen.setdefault(attr, set()).add(kind)
    return {
        name: kind
        for name, found in seen.items()
        if len(found) == 1
        for kind in found
        if kind is not None
    }


def _self_assignments(node: ast.AST, kinds: Kinds) -> list[tuple[str, str | None]]:
    targets: list[ast.expr]
    if isinstance(node, ast.AnnAssign):
        targets, value = [node.target], node.value
        kind = annotation_kind(node.annotation)
    elif isinstance(node, ast.Assign):
        targets, value, kind = node.targets, node.value, None
    else:
        return []
    if kind is None and value is not None:
        kind = kinds.of(value)
    found: list[tuple[str, str | None]] = []
    for target in targets:
        if _is_self_attribute(target):
            found.append((target.attr, kind))
        elif isinstance(target, (ast.Tuple, ast.List)):  # unpacked: kind unknown
            found += [(e.attr, None) for e in ast.walk(target) if _is_self_attribute(e)]
    return found


def _is_self_attribute(node: ast.AST) -> TypeGuard[ast.Attribute]:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )
