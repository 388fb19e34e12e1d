"""The static lint: restricted calls and shared-state writes in workflow code, from source.

It finds workflow classes (decorated with ``workflow.defn``, ``defn`` or
``workflow.defn(...)``, however ``defn`` was imported from ``replay``,
``replay.workflow`` or ``temporalio.workflow``), then reads their methods and,
transitively, the module-level functions they use. Import aliases are resolved
(``import time as t``, ``from datetime import datetime``), so ``t.time()`` is
``time.time``. Nothing is imported or run.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

from ._kinds import Kinds, attribute_kinds
from ._lint_order import hashes_a_string, order_free_nodes, set_iterations
from ._rules import BY_CODE, DEFAULTED_ARG, READ_NAMES, Rule, rule_for_call
from ._scopes import (
    Names,
    bound_names,
    declared,
    dotted,
    import_aliases,
    is_scope,
    own_nodes,
    parameters,
    root_name,
)

WORKFLOW_DECORATORS = frozenset({"replay.workflow.defn", "replay.defn", "temporalio.workflow.defn"})
_AS_WRITTEN = frozenset({"defn", "workflow.defn"})

#: Method names that mutate the object they are called on.
MUTATORS = frozenset(
    {
        "add", "append", "appendleft", "clear", "difference_update", "discard", "extend",
        "extendleft", "insert", "intersection_update", "pop", "popitem", "popleft", "remove",
        "reverse", "rotate", "setdefault", "sort", "symmetric_difference_update", "update",
    }
)

_NOQA = re.compile(r"#\s*noqa\b(?::\s*(?P<codes>[\w-]+(?:[\s,]+[\w-]+)*))?", re.IGNORECASE)
_GLOBAL = BY_CODE["RPL-SB12"]
_MUTATION = BY_CODE["RPL-SB13"]
_SET_ORDER = BY_CODE["RPL-SB16"]

#: Said after the rule's reason, for calls whose harm depends on how the result is used.
_NOTES = {
    "asyncio.wait": "; its done and pending sets are safe only for `in` tests: iterating "
    "them (to cancel the pending tasks, say) follows memory addresses, while "
    "workflow.wait() returns lists in the order given",
}


@attrs.frozen(kw_only=True)
class Finding:
    """One problem the lint found: where (1-based line and column), which rule, what to do."""

    path: str
    line: int
    col: int
    code: str
    message: str
    instead: str


Finding.__module__ = "replay.sandbox"


class _ModuleLint:
    """The lint of one parsed module."""

    def __init__(self, tree: ast.Module, path: str) -> None:
        self.path = path
        nodes = list(own_nodes(tree))
        imports = import_aliases(nodes)
        self.names = Names(imports, bound_names(nodes) - set(imports))
        self.functions = {
            n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        self.state = {
            n.id
            for n in nodes
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        } - set(self.functions)
        self.classes = [n for n in nodes if isinstance(n, ast.ClassDef) and self._is_workflow(n)]
        self.kinds = Kinds({}, {}, self.names.resolve).child(tree, nodes, self.names.resolve)
        self.findings: dict[tuple[int, int, str], Finding] = {}
        self.queued: set[str] = set()

    def _is_workflow(self, cls: ast.ClassDef) -> bool:
        for decorator in cls.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if dotted(target) in _AS_WRITTEN or self.names.resolve(target) in WORKFLOW_DECORATORS:
                return True
        return False

    def run(self) -> list[Finding]:
        queue: list[tuple[ast.AST, str]] = []
        for cls in self.classes:
            where = f"in workflow {cls.name!r}"
            attributes = attribute_kinds(cls, self.kinds)
            kinds = Kinds(self.kinds.names, attributes, self.names.resolve)
            for item in cls.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self._scan(item, self.names, set(), where, queue, kinds)
            while queue:
                helper, helper_where = queue.pop()
                self._scan(helper, self.names, set(), helper_where, queue, self.kinds)
        return sorted(self.findings.values(), key=lambda f: (f.line, f.col, f.code))

    def _scan(
        self, scope: ast.AST, outer: Names, outer_locals: set[str], where: str,
        queue: list[tuple[ast.AST, str]], outer_kinds: Kinds,
    ) -> None:
        nodes = list(own_nodes(scope))
        globals_ = declared(nodes, ast.Global)
        locals_ = (outer_locals | parameters(scope) | bound_names(nodes)) - globals_
        names = outer.child(nodes, parameters(scope))
        kinds = outer_kinds.child(scope, nodes, names.resolve)
        free = order_free_nodes(nodes, kinds)
        for node in nodes:
            if is_scope(node):
                continue
            self._check_node(node, names, locals_, globals_, where, queue)
            self._check_order(node, kinds, free, where)
        for node in nodes:
            if is_scope(node) and not isinstance(node, ast.ClassDef):
                self._scan(node, names, locals_, where, queue, kinds)

    def _check_order(self, node: ast.AST, kinds: Kinds, free: set[int], where: str) -> None:
        for expr, what in set_iterations(node, kinds, free):
            self._add(expr, _SET_ORDER, f"{what} {where}: {_SET_ORDER.why}")
        if (
            isinstance(node, ast.Call)
            and kinds.resolve(node.func) == "hash"
            and hashes_a_string(node, kinds)
        ):
            rule = BY_CODE["RPL-SB15"]
            self._add(node, rule, f"hash() of a string called {where}: {rule.why}")

    def _check_node(
        self, node: ast.AST, names: Names, locals_: set[str], globals_: set[str], where: str,
        queue: list[tuple[ast.AST, str]],
    ) -> None:
        if isinstance(node, ast.Call):
            self._check_call(node, names, locals_, where)
        elif isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load):
            target = names.resolve(node)
            if target in READ_NAMES:
                rule = BY_CODE["RPL-SB06"]
                self._add(node, rule, f"{target} read {where}: {rule.why}")
            if (
                isinstance(node, ast.Name)
                and node.id in self.functions
                and node.id not in locals_
                and node.id not in self.queued
            ):
                self.queued.add(node.id)
                queue.append((self.functions[node.id], _helper_where(node.id, where)))
        if (
            isinstance(node, ast.Name)
            and node.id in globals_
            and isinstance(node.ctx, (ast.Store, ast.Del))
        ):
            message = f"assigns module global {node.id!r} {where}: {_GLOBAL.why}"
            self._add(node, _GLOBAL, message)
        for written in _mutated_targets(node):
            root = root_name(written)
            if root is not None and root.id in self.state and root.id not in locals_:
                message = f"mutates module-level {root.id!r} {where}: {_MUTATION.why}"
                self._add(written, _MUTATION, message)

    def _check_call(self, call: ast.Call, names: Names, locals_: set[str], where: str) -> None:
        target = names.resolve(call.func)
        rule = rule_for_call(target) if target else None
        if target is None or rule is None or target in READ_NAMES or target == "hash":
            return  # hash() depends on its argument: see _check_order
        index = DEFAULTED_ARG.get(target)
        if index is not None and not _defaulted(call, index):
            return
        self._add(call, rule, f"{target}() called {where}: {rule.why}{_NOTES.get(target, '')}")

    def _add(self, node: ast.AST, rule: Rule, message: str) -> None:
        line, col = getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1
        key = (line, col, rule.code)
        if key not in self.findings:
            self.findings[key] = Finding(
                path=self.path, line=line, col=col, code=rule.code, message=message,
                instead=rule.instead,
            )


def _helper_where(name: str, where: str) -> str:
    """Where a module-level helper runs: "in fetch(), used in workflow 'Order'"."""
    return f"in {name}(), used {where.split(', used ')[-1]}"


def _defaulted(call: ast.Call, index: int) -> bool:
    """True when the argument at ``index`` is missing or a literal None."""
    if call.keywords or any(isinstance(a, ast.Starred) for a in call.args):
        return False
    if len(call.args) <= index:
        return True
    arg = call.args[index]
    return isinstance(arg, ast.Constant) and arg.value is None


def _mutated_targets(node: ast.AST) -> list[ast.AST]:
    """Subscript/attribute targets written by ``node``, or the receiver of a mutator call."""
    targets: list[ast.AST] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    elif isinstance(node, ast.Delete):
        targets = list(node.targets)
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in MUTATORS
    ):
        return [node.func.value]
    flat: list[ast.AST] = []
    while targets:
        target = targets.pop()
        if isinstance(target, (ast.Tuple, ast.List)):
            targets.extend(target.elts)
        elif isinstance(target, (ast.Subscript, ast.Attribute)):
            flat.append(target)
    return flat


def _suppressed(finding: Finding, lines: Sequence[str]) -> bool:
    if not 0 < finding.line <= len(lines):
        return False
    match = _NOQA.search(lines[finding.line - 1])
    if match is None:
        return False
    codes = match.group("codes")
    return codes is None or finding.code in re.split(r"[\s,]+", codes.upper())


def lint_source(source: str, path: str = "<string>") -> list[Finding]:
    """Findings for one module's source text; raises SyntaxError if it does not parse."""
    tree = ast.parse(source, filename=path)
    lines = source.splitlines()
    return [f for f in _ModuleLint(tree, path).run() if not _suppressed(f, lines)]


def _python_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(
                p for p in path.rglob("*.py")
                if not any(part.startswith(".") or part == "__pycache__"
                           for part in p.relative_to(path).parts)
            )
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file or directory: {str(path)!r}")
    return files


def lint_paths(
    paths: Sequence[str | Path], *, select: Iterable[str] | None = None
) -> list[Finding]:
    """Lint the workflow code in Python files and directories (recursively).

    ``select`` keeps only findings whose code starts with one of the given
    strings (``["RPL-SB01", "RPL-SB1"]``). A trailing ``# noqa`` or
    ``# noqa: RPL-SB01`` on a line suppresses findings there. Raises OSError
    for a missing or unreadable path and SyntaxError for a file that does not
    parse.
    """
    prefixes = tuple(select) if select is not None else None
    findings: list[Finding] = []
    for file in _python_files(paths):
        source = importlib.util.decode_source(file.read_bytes())
        findings += lint_source(source, str(file))
    if prefixes is not None:
        findings = [f for f in findings if f.code.startswith(prefixes)]
    return findings
