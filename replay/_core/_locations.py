"""Where in workflow code something happened: ``file:line`` for commands, failures, waits.

Frames of the engine (this package, ``history`` and ``asyncio``) are skipped, so
a location names the user's line. A walk up the stack from a command stops at
the engine function that runs workflow code (see :func:`mark_boundary`): a
command the engine issues itself (an update acceptance, an update's completion
from a done-callback) has no location, rather than whatever called the engine.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from types import CodeType
from typing import Any

import replay.history as history

ENGINE_DIRS = tuple(
    os.path.dirname(p) + os.sep for p in (__file__, history.__file__, asyncio.__file__)
)
"""Directories whose frames are the engine's, never workflow code."""

_BOUNDARIES: set[CodeType] = set()


def mark_boundary(*functions: Callable[..., Any]) -> None:
    """Declare engine functions that run workflow code: a stack walk stops at their frames."""
    for fn in functions:
        _BOUNDARIES.add(fn.__code__)


def caller_location() -> tuple[str, int] | None:
    """The nearest workflow-code frame up the stack from our (engine) caller.

    None if the walk reaches a boundary (or the stack's end) first: the engine,
    not workflow code, is the caller.
    """
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code in _BOUNDARIES:
            return None
        if not code.co_filename.startswith(ENGINE_DIRS):
            return (code.co_filename, frame.f_lineno)
        frame = frame.f_back  # type: ignore[assignment]  # None ends the loop
    return None


def traceback_location(exc: BaseException) -> str | None:
    """``file:line`` of the innermost workflow-code frame in ``exc``'s traceback."""
    tb = exc.__traceback__
    found: str | None = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.startswith(ENGINE_DIRS):
            found = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def awaiting_location(coro: Any) -> str | None:
    """``file:line`` where a coroutine chain waits (its innermost workflow-code frame)."""
    found: str | None = None
    awaiting: Any = coro
    while awaiting is not None:
        frame = getattr(awaiting, "cr_frame", None)
        if frame is not None and not frame.f_code.co_filename.startswith(ENGINE_DIRS):
            found = f"{frame.f_code.co_filename}:{frame.f_lineno}"
        awaiting = getattr(awaiting, "cr_await", None)
    return found


def task_stacks(loop: asyncio.AbstractEventLoop) -> str:
    """Where each task of ``loop`` is waiting, one ``file:line in function`` per frame."""
    lines: list[str] = []
    for task in asyncio.all_tasks(loop):
        lines.append(f"task {task.get_name()}:")
        for frame in task.get_stack():
            code = frame.f_code
            lines.append(f"  {code.co_filename}:{frame.f_lineno} in {code.co_name}")
    return "\n".join(lines)


def format_location(location: tuple[str, int] | None) -> str | None:
    """``file:line`` for a command's location, or None."""
    if location is None:
        return None
    return f"{location[0]}:{location[1]}"
