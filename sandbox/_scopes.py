"""What the lint knows about a module's names: imports, module-level bindings, scopes."""

from __future__ import annotations

import ast
from collections.abc import Iterator

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_NAMED = (*_FUNCTIONS, ast.ClassDef, ast.ExceptHandler, ast.MatchAs, ast.MatchStar)

#: Builtins the rules name or look at; they resolve to themselves unless shadowed.
BUILTINS = frozenset(
    {
        "all", "any", "ascii", "bytes", "chr", "dict", "enumerate", "filter", "format",
        "frozenset", "hash", "iter", "len", "list", "map", "max", "min", "open", "repr", "set",
        "sorted", "str", "sum", "tuple", "zip",
    }
)


def own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """Every node in ``scope`` that runs in it, not descending into nested scopes.

    Nested functions, lambdas and classes are yielded themselves, and so are
    the parts of them that run in the enclosing scope (decorators, defaults,
    base classes), but not their bodies.
    """
    stack = list(_children(scope))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _SCOPES):
            stack.extend(_outer_parts(node))
        else:
            stack.extend(ast.iter_child_nodes(node))


def _children(scope: ast.AST) -> Iterator[ast.AST]:
    if isinstance(scope, ast.Lambda):
        yield scope.body
    elif isinstance(scope, (ast.Module, ast.ClassDef, *_FUNCTIONS)):
        yield from scope.body
    else:
        yield from ast.iter_child_nodes(scope)


def _outer_parts(node: ast.AST) -> list[ast.AST]:
    parts: list[ast.AST] = []
    if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
        parts.extend(node.decorator_list)
    if isinstance(node, (*_FUNCTIONS, ast.Lambda)):
        parts.extend(node.args.defaults)
        parts.extend(d for d in node.args.kw_defaults if d is not None)
    if isinstance(node, ast.ClassDef):
        parts.extend(node.bases)
        parts.extend(k.value for k in node.keywords)
    return parts


def is_scope(node: ast.AST) -> bool:
    """True for nodes whose body is a scope of its own (functions, lambdas, classes)."""
    return isinstance(node, _SCOPES)


def import_aliases(nodes: Iterator[ast.AST] | list[ast.AST]) -> dict[str, str]:
    """Local name -> dotted target for the absolute imports among ``nodes``."""
    aliases: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.partition(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                if alias.name != "*":
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def parameters(node: ast.AST) -> set[str]:
    """The parameter names of a function or lambda (empty for a class)."""
    if not isinstance(node, (*_FUNCTIONS, ast.Lambda)):
        return set()
    args = node.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every += [a for a in (args.vararg, args.kwarg) if a is not None]
    return {a.arg for a in every}


def bound_names(nodes: list[ast.AST]) -> set[str]:
    """Names a scope binds other than by import: assignments, defs, ``as`` targets."""
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, _NAMED) and node.name:
            names.add(node.name)
    return names


def declared(nodes: list[ast.AST], kind: type[ast.Global] | type[ast.Nonlocal]) -> set[str]:
    """Names declared ``global`` (or ``nonlocal``) in a scope."""
    return {name for node in nodes if isinstance(node, kind) for name in node.names}


def dotted(expr: ast.AST) -> str | None:
    """``a.b.c`` for a plain attribute chain, as written (no alias resolution)."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        base = dotted(expr.value)
        return f"{base}.{expr.attr}" if base else None
    return None


def root_name(expr: ast.AST) -> ast.Name | None:
    """The name at the root of ``x.a[1].b`` (``x``), if any."""
    while isinstance(expr, (ast.Attribute, ast.Subscript)):
        expr = expr.value
    return expr if isinstance(expr, ast.Name) else None


class Names:
    """Resolves names in one scope to dotted targets, honouring local shadowing."""

    def __init__(self, aliases: dict[str, str], shadowed: set[str]) -> None:
        self.aliases = aliases
        self.shadowed = shadowed

    def child(self, nodes: list[ast.AST], extra_locals: set[str]) -> Names:
        """The names of a nested scope made of ``nodes``."""
        local_imports = import_aliases(nodes)
        shadowed = (self.shadowed | extra_locals | bound_names(nodes)) - set(local_imports)
        aliases = {k: v for k, v in self.aliases.items() if k not in shadowed}
        aliases.update(local_imports)
        return Names(aliases, shadowed)

    def resolve(self, expr: ast.AST) -> str | None:
        """``time.time`` for ``t.time`` after ``import time as t``; None if unknown."""
        if isinstance(expr, ast.Name):
            if expr.id in self.aliases:
                return self.aliases[expr.id]
            if expr.id in BUILTINS and expr.id not in self.shadowed:
                return expr.id
            return None
        if isinstance(expr, ast.Attribute):
            base = self.resolve(expr.value)
            return f"{base}.{expr.attr}" if base else None
        return None
