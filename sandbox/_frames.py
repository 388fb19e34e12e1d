"""Who made a call: the calling frame decides, and what happens to a violation.

A restricted call is a violation only when the frame that made it belongs to
user code. The standard library acting on its own behalf (importlib loading a
module, linecache reading source for a traceback, logging stamping a record
with ``time.time()``), the engine (``replay``, ``history``, ``sandbox``),
attrs/cattrs and the context's pass-through modules are allowed.

For I/O, subprocess and thread rules (``Rule.through_stdlib``) the stdlib
modules that exist to do that work *for their caller* (:data:`DELEGATES`:
``pathlib``, ``subprocess``, ``socket``, ``asyncio``, ...) are looked through,
and the first frame outside them decides: ``Path.read_text()`` called by a
workflow is the workflow's file access.

A module name is only a claim: code run with ``__name__ = "replay._x"`` is engine
code only if its code object's file lies inside the installed engine packages
(:func:`engine_file`); otherwise it is workflow code like any other.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import sys
from types import FrameType

from ._context import _CURRENT, GuardContext, Mode, Violation
from ._rules import Rule

USER, STDLIB, DELEGATE, ENGINE = 0, 1, 2, 3

#: Top-level packages always allowed: the engine and the data libraries it uses.
ENGINE_PACKAGES = frozenset({"replay", "attr", "attrs", "cattr", "cattrs"})

#: Stdlib packages that do I/O, run programs or start threads for their caller.
DELEGATES = frozenset(
    {
        "_pyio", "asyncio", "bz2", "codecs", "concurrent", "configparser", "dbm",
        "fileinput", "ftplib", "glob", "gzip", "http", "imaplib", "io", "lzma", "mailbox",
        "multiprocessing", "ntpath", "os", "pathlib", "poplib", "posixpath", "selectors",
        "shelve", "shutil", "smtplib", "socket", "socketserver", "sqlite3", "ssl",
        "subprocess", "tarfile", "tempfile", "threading", "urllib", "webbrowser", "xml",
        "xmlrpc", "zipfile",
    }
)

_KINDS: dict[str, int] = {}
_ENGINE_FILES: dict[str, bool] = {}
_LOGGER = logging.getLogger("replay.sandbox")


def module_kind(name: str) -> int:
    """USER, STDLIB, DELEGATE or ENGINE for a module name (cached)."""
    kind = _KINDS.get(name)
    if kind is None:
        top = name.partition(".")[0]
        if top in ENGINE_PACKAGES:
            kind = ENGINE
        elif top in DELEGATES:
            kind = DELEGATE
        elif top in sys.stdlib_module_names or top.startswith("_frozen_importlib"):
            kind = STDLIB
        else:
            kind = USER
        _KINDS[name] = kind
    return kind


@functools.cache
def _engine_roots() -> tuple[str, ...]:
    """The directories of the installed engine packages, as imported and resolved."""
    roots: set[str] = set()
    for top in ENGINE_PACKAGES:
        module = sys.modules.get(top)
        locations = list(getattr(module, "__path__", None) or ())
        if not locations:
            try:
                spec = importlib.util.find_spec(top)
            except (ImportError, ValueError):  # not installed, or a broken entry
                spec = None
            locations = list(spec.submodule_search_locations or ()) if spec else []
        for location in locations:
            roots.add(os.path.join(location, ""))
            roots.add(os.path.join(os.path.realpath(location), ""))
    return tuple(sorted(roots))


def engine_file(path: str) -> bool:
    """True when ``path`` (a code object's file) lies inside an engine package (cached).

    Generated code (``<string>``, ``<attrs generated ...>``) and relative paths
    never do, so a module that only names itself ``replay.x`` is not trusted.
    """
    known = _ENGINE_FILES.get(path)
    if known is None:
        roots = _engine_roots()
        known = os.path.isabs(path) and (
            path.startswith(roots) or os.path.realpath(path).startswith(roots)
        )
        _ENGINE_FILES[path] = known
    return known


def code_kind(name: str, path: str) -> int:
    """Like :func:`module_kind`, but an engine name counts only with an engine file."""
    kind = module_kind(name)
    if kind == ENGINE and not engine_file(path):
        return USER
    return kind


def _passes(name: str, ctx: GuardContext) -> bool:
    return name in ctx.passthrough_modules or name.startswith(ctx.passthrough_packages)


def blame(frame: FrameType | None, ctx: GuardContext, through_stdlib: bool) -> FrameType | None:
    """The user frame to blame for a call made by ``frame``, or None if it is allowed.

    Hot path: every allowed restricted call inside the guard comes here.
    """
    kinds = _KINDS
    while frame is not None:
        name = frame.f_globals.get("__name__", "?")
        kind = kinds.get(name)
        if kind is None:
            name = name if isinstance(name, str) else "?"
            kind = module_kind(name)
        if kind == ENGINE and not engine_file(frame.f_code.co_filename):
            kind = USER  # a module that only calls itself part of the engine
        if kind == USER:
            return None if _passes(name, ctx) else frame
        if kind != DELEGATE or not through_stdlib:
            return None
        frame = frame.f_back
    return None


def location(frame: FrameType) -> str:
    """``path:LINE`` of a frame, the path relative to the working directory if inside it."""
    path = frame.f_code.co_filename
    try:
        cwd = os.getcwd()
    except OSError:  # the working directory was removed
        cwd = ""
    if cwd and path.startswith(cwd + os.sep):
        path = path[len(cwd) + 1 :]
    return f"{path}:{frame.f_lineno}"


def enforce(
    ctx: GuardContext, rule: Rule, call: str, frame: FrameType | None, detail: str = ""
) -> None:
    """Report ``call`` if ``frame`` (the caller) is user code; raise in strict mode."""
    culprit = blame(frame, ctx, rule.through_stdlib)
    if culprit is not None:
        report(ctx, rule, call, culprit, detail)


def report(ctx: GuardContext, rule: Rule, call: str, culprit: FrameType, detail: str) -> None:
    """Tell ``on_violation``, then warn or raise ``ctx.error_type`` as the mode says."""
    violation = Violation(
        rule=rule,
        call=call,
        location=location(culprit),
        workflow_type=ctx.workflow_type,
        run_id=ctx.run_id,
        detail=detail,
    )
    token = _CURRENT.set(None)  # the callback and logging run unguarded
    try:
        if ctx.on_violation is not None:
            ctx.on_violation(violation)
        if ctx.mode is Mode.WARN:
            _LOGGER.warning("%s", violation.message)
    finally:
        _CURRENT.reset(token)
    if ctx.mode is Mode.STRICT:
        raise ctx.error_type(violation)


def short_repr(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
