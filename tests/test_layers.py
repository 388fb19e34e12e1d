"""The package layers, pinned: which part of ``replay`` may import which, and no cycles.

The graph is read from the source (every ``import`` and ``from ... import``,
including those under ``TYPE_CHECKING`` and inside functions: a type-only
circle is still a circle), so a change that breaks a rule fails here before
anyone has to notice it in review. ``docs/architecture.md`` draws the same rules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "replay"

#: layer -> the layers it may import (besides itself). A module's layer is the
#: longest prefix of its dotted name found here.
ALLOWED: dict[str, set[str]] = {
    "replay.history": set(),
    "replay.sandbox": set(),
    "replay._core": {"replay.history", "replay.sandbox"},
    "replay._replay": {"replay._core", "replay.history", "replay.sandbox"},
    "replay._client": {"replay._core", "replay._replay", "replay.history"},
    "replay._worker": {"replay._core", "replay._replay", "replay._client", "replay.history",
                       "replay.sandbox"},
    "replay.testing": {"replay._core", "replay._replay", "replay._client", "replay._worker",
                       "replay.history", "replay.sandbox"},
    # The command line is a user of the public faces, like any other program.
    "replay._cli": {"replay.client", "replay.worker", "replay.workflow", "replay.activity",
                    "replay.debug", "replay.converter",
                    "replay.exceptions", "replay.common", "replay.history",
                    "replay.sandbox", "replay", "replay._ui", "replay.contrib"},
    # The web UI, like the command line, uses the public faces (and the CLI's event
    # summaries, so both show a history the same way).
    "replay._ui": {"replay.client", "replay.debug", "replay.exceptions", "replay.history",
                   "replay.converter", "replay._cli"},
    # Integrations: users of the public faces, like any other program.
    "replay.contrib": {"replay.client", "replay.worker", "replay.workflow", "replay.activity",
                       "replay.common", "replay.exceptions", "replay.history"},
}
FACES = ["replay.workflow", "replay.activity", "replay.client", "replay.worker",
         "replay.common", "replay.debug", "replay.exceptions", "replay.converter",
         "replay._pytest_plugin", "replay"]
for _face in FACES:
    ALLOWED[_face] = {"replay._core", "replay._replay", "replay._client", "replay._worker",
                      "replay.testing", "replay.history", "replay.sandbox", *FACES}

# Integrations with other libraries, built on the public faces like any user's code.
ALLOWED["replay.contrib"] = {*FACES, "replay.history", "replay.sandbox"}

#: Single modules that one layer must not import directly even where the layer rule
#: would allow it: the client talks to runs, it never runs workflow code's API.
FORBIDDEN_EDGES = [("replay._client", "replay._core._runtime")]


def _module_files() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


MODULES: dict[str, Path] = dict(_module_files())


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    found = []
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        found.append(sub if sub in MODULES else target)
    return found


def imports_of(module: str) -> set[str]:
    """Every module of the package that ``module`` imports, anywhere in its source."""
    path = MODULES[module]
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.update(_resolve(module, is_package, node))
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: imports_of(module) for module in MODULES}


def layer_of(module: str) -> str:
    candidates = [layer for layer in ALLOWED
                  if module == layer or module.startswith(layer + ".")]
    assert candidates, f"{module} belongs to no layer: add it to ALLOWED in {__file__}"
    return max(candidates, key=len)


def test_every_module_belongs_to_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_layers(module: str) -> None:
    layer = layer_of(module)
    wrong = sorted(
        target for target in GRAPH[module]
        if (other := layer_of(target)) != layer and other not in ALLOWED[layer]
    )
    assert wrong == [], f"{module} ({layer}) may not import {wrong}"


def test_forbidden_single_edges() -> None:
    broken = [(module, target) for module, targets in GRAPH.items() for target in targets
              for layer, forbidden in FORBIDDEN_EDGES
              if layer_of(module) == layer and target == forbidden]
    assert broken == []


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycles_among_modules() -> None:
    # A package's __init__ importing its own submodules is how re-exports work, and a
    # submodule importing a sibling through the package is not; so edges into a
    # module's own ancestor packages are kept and would show up as cycles.
    cycle = _find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_history_and_sandbox_know_nothing_of_each_other_or_the_engine() -> None:
    for module, targets in GRAPH.items():
        if module.startswith("replay.history"):
            assert all(t.startswith("replay.history") for t in targets), (module, targets)
        if module.startswith("replay.sandbox"):
            assert all(t.startswith("replay.sandbox") for t in targets), (module, targets)


#: The repository's top-level folders, and the folders each must not import: the engine
#: knows none of them; the shared workload (fixtures) sits below tests and benchmarks;
#: a benchmark never imports a test.
FOLDERS_NEVER_IMPORTED: dict[str, set[str]] = {
    "replay": {"tests", "benchmarks", "fixtures", "examples"},
    "history": {"tests", "benchmarks", "fixtures", "examples"},
    "sandbox": {"tests", "benchmarks", "fixtures", "examples"},
    "fixtures": {"tests", "benchmarks", "examples"},
    # examples/postgres_demo.py starts tests/postgres_server.py's throwaway server when
    # it is given no URL in a checkout
    "examples": {"benchmarks", "fixtures"},
    "benchmarks": {"tests", "examples"},
}


def absolute_imports(path: Path) -> set[str]:
    """The first part of every absolute import in ``path`` (a relative import stays in
    its own top-level folder)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("folder", sorted(FOLDERS_NEVER_IMPORTED))
def test_top_level_folders_import_only_below_them(folder: str) -> None:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, f"{folder}/ has no modules: update FOLDERS_NEVER_IMPORTED"
    wrong = sorted((str(path.relative_to(ROOT)), name) for path in files
                   for name in absolute_imports(path) & FOLDERS_NEVER_IMPORTED[folder])
    assert wrong == [], f"{folder}/ may not import {sorted(FOLDERS_NEVER_IMPORTED[folder])}"


def test_the_folder_rule_sees_an_import_of_tests(tmp_path: Path) -> None:
    module = tmp_path / "bench.py"
    module.write_text("import os\nfrom tests.replay import x\nfrom . import y\n"
                      "def f() -> None:\n    import tests.strategies\n")
    assert absolute_imports(module) == {"os", "tests"}
