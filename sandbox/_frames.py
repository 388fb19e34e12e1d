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
"""

from __future__ import annotations

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
