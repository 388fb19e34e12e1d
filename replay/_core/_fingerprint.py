"""A workflow class's code fingerprint: did the code that recorded a history change?

Every ``WorkflowTaskCompleted`` a run records carries the fingerprint of the code
that produced that activation. When a replay diverges and every recorded
fingerprint equals the current one, the code did not change, so the divergence
comes from nondeterministic code (set order, unseeded randomness, the clock,
global state) and ``workflow.patched()`` is not the remedy.

The fingerprint hashes the bytecode of the class's functions (its own and its
bases', with nested functions and lambdas) and of the plain functions defined
in those classes' modules (helpers the workflow is likely to call), and the
constants those namespaces and the functions' closures and defaults hold:
numbers, strings, durations, enums and tuples of them (a timeout set in a
module constant is code). It leaves out file paths and line numbers, so moving
the code or editing comments does not change it, and mutable values (a dict or
list the code may change as it runs is a cause of nondeterminism, not code).
It is computed once per class and process, when the first run of the class is
created, before its code has run. A new Python version compiles other bytecode
and so reads as changed code, the cautious side.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import hashlib
import sys
from collections.abc import Mapping
from datetime import date, time, timedelta
from types import CodeType, FunctionType, ModuleType
from typing import Any

_CACHED = "__replay_code_fingerprint__"
"""Where a class keeps its fingerprint once computed (a lookup per run must be cheap)."""

LENGTH = 16
"""Hex digits kept: 64 bits, recorded with every activation."""

_MAX_WRAPPED = 16
"""Decorators followed down a ``__wrapped__`` chain (a cycle must not hang us)."""


def code_fingerprint(cls: type) -> str:
    """The fingerprint of workflow class ``cls``'s code (computed once per class)."""
    found = cls.__dict__.get(_CACHED)
    if not isinstance(found, str):
        found = _compute(cls)
        with contextlib.suppress(AttributeError, TypeError):  # a class that refuses it
            setattr(cls, _CACHED, found)  # as workflow.defn keeps its definition there
    return found


def _compute(cls: type) -> str:
    h = hashlib.sha256()
    modules: dict[str, ModuleType] = {}
    for klass in cls.__mro__:
        if klass is object or klass.__module__ == "builtins":
            continue
        h.update(f"class {klass.__qualname__}\n".encode())
        _hash_namespace(h, vars(klass), None)
        module = sys.modules.get(klass.__module__)
        if module is not None:
            modules.setdefault(module.__name__, module)
    for name in sorted(modules):
        h.update(f"module {name}\n".encode())
        _hash_namespace(h, vars(modules[name]), name)
    return h.hexdigest()[:LENGTH]


def _hash_namespace(h: Any, namespace: Mapping[str, Any], module: str | None) -> None:
    """Hash the functions and constants of a class body or (``module`` given) a module's
    (only the functions defined in it, not imported ones)."""
    for name in sorted(namespace):
        if name.startswith("__") and name.endswith("__"):
            continue  # __file__, __doc__...: paths and prose, not behaviour
        value = namespace[name]
        functions = _functions(value)
        if module is not None:
            functions = [f for f in functions if getattr(f, "__module__", None) == module]
        if functions:
            h.update(f"def {name}\n".encode())
            for fn in functions:
                _hash_function(h, fn)
        elif (text := _value_text(value)) is not None:
            h.update(f"{name}={text}\n".encode())


def _hash_function(h: Any, fn: Any) -> None:
    """A function's code, closure constants and defaults, and those of what it wraps."""
    for _ in range(_MAX_WRAPPED):  # down a decorator's __wrapped__ chain
        code = getattr(fn, "__code__", None)
        if isinstance(code, CodeType):
            _hash_code(h, code)
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                h.update(f"cell={_value_text(cell.cell_contents)}\n".encode())
            except ValueError:  # an empty cell
                h.update(b"cell=\n")
        h.update(f"defaults={_value_text(getattr(fn, '__defaults__', None))}\n".encode())
        kwdefaults = getattr(fn, "__kwdefaults__", None) or {}
        for key in sorted(kwdefaults):
            h.update(f"{key}={_value_text(kwdefaults[key])}\n".encode())
        fn = getattr(fn, "__wrapped__", None)
        if fn is None:
            break


def _functions(value: Any) -> list[Any]:
    """The functions behind a class attribute (methods, static/class methods, properties)."""
    if isinstance(value, staticmethod | classmethod):
        return [value.__func__]
    if isinstance(value, property):
        return [f for f in (value.fget, value.fset, value.fdel) if f is not None]
    if isinstance(value, functools.partialmethod):
        return [value.func]
    if isinstance(value, FunctionType):
        return [value]
    return []


def _hash_code(h: Any, code: CodeType) -> None:
    h.update(code.co_code)
    h.update(repr((code.co_name, code.co_argcount, code.co_posonlyargcount,
                   code.co_kwonlyargcount, code.co_flags, code.co_names, code.co_varnames,
                   code.co_freevars, code.co_cellvars)).encode())
    for const in code.co_consts:
        if isinstance(const, CodeType):
            _hash_code(h, const)
        else:
            h.update(_const_text(const).encode())


def _const_text(value: Any) -> str:
    """A code constant's text, the same in every process (a frozenset's order is not)."""
    if isinstance(value, frozenset):
        return "frozenset(" + ",".join(sorted(_const_text(v) for v in value)) + ")"
    if isinstance(value, tuple):
        return "(" + ",".join(_const_text(v) for v in value) + ")"
    return repr(value)


_SCALARS = (type(None), bool, int, float, complex, str, bytes, timedelta, date, time,
            enum.Enum)


def _value_text(value: Any) -> str | None:
    """The text of an immutable constant (tuples and frozensets of them too), else None."""
    if isinstance(value, _SCALARS):
        return repr(value)
    if isinstance(value, tuple | frozenset):
        texts: list[str] = []
        for item in value:
            text = _value_text(item)
            if text is None:
                return None
            texts.append(text)
        if isinstance(value, frozenset):
            texts.sort()  # its own order follows the per-process string hash
        return f"{type(value).__name__}({','.join(texts)})"
    return None
