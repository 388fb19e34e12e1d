"""Where in workflow code something happened: ``file:line`` for commands, failures, waits.

Frames of the engine (this package, ``history`` and ``asyncio``) are skipped, so
a location names the user's line. A walk up the stack from a command stops at
the engine function that runs workflow code (see :func:`mark_boundary`): a
command the engine issues itself (an update acceptance, an update's completion
from a done-callback) has no location, rather than whatever called the engine.

A command issued inside a task whose own stack holds no workflow code (a
coroutine of the engine's that ``gather``, ``ensure_future``, ``create_task`` or
``workflow.as_completed`` wrapped, such as ``workflow.execute_activity(...)``)
takes the line that created the task: when the workflow loop creates a task
(:func:`task_created`) whose coroutine is not workflow code, the nearest
workflow-code frame of the creating stack is remembered, or else the site of
the task creating it. That costs a short walk per such task and nothing per
command or per coroutine (coroutine origin tracking, which would name the very
argument line of a multi-line ``gather``, costs a tuple and a line-table scan
for every coroutine created and was measured at several per cent of replay).
"""

from __future__ import annotations

import asyncio
import os
import sys
import weakref
from asyncio import events
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

import replay.history as history

ENGINE_DIRS = tuple(
    os.path.dirname(p) + os.sep for p in (__file__, history.__file__, asyncio.__file__)
)
"""Directories whose frames are the engine's, never workflow code."""

_BOUNDARIES: set[CodeType] = set()
_BOUNDARY_NAMES: set[str] = set()
"""Their names: a code object's hash digests its contents, too slow to compute for every
frame of a walk on every command; a name's hash is cached (and ``id()`` is an audited
call, which the sandbox's hook would see), so names are checked first."""

Site = tuple[str, int]
"""``(file, line)`` of workflow code."""

_TASK_SITES: weakref.WeakKeyDictionary[asyncio.Task[Any], Site] = (
    weakref.WeakKeyDictionary())
"""Where workflow code created a task whose coroutine is the engine's (see task_created)."""


def mark_boundary(*functions: Callable[..., Any]) -> None:
    """Declare engine functions that run workflow code: a stack walk stops at their frames."""
    for fn in functions:
        _BOUNDARIES.add(fn.__code__)
        _BOUNDARY_NAMES.add(fn.__code__.co_name)


def _walk(frame: FrameType | None) -> Site | None:
    """The nearest workflow-code frame from ``frame`` up; None at a boundary or the end."""
    while frame is not None:
        code = frame.f_code
        if code.co_name in _BOUNDARY_NAMES and code in _BOUNDARIES:
            return None
        if not code.co_filename.startswith(ENGINE_DIRS):
            return (code.co_filename, frame.f_lineno)
        frame = frame.f_back
    return None


def caller_location(skip: int = 0) -> Site | None:
    """The nearest workflow-code frame up the stack from our (engine) caller.

    If the walk reaches a boundary (or the stack's end) first, the site of the
    running task: where workflow code created it. None outside a task (a
    callback of the engine's own) or if no workflow code made the task: the
    engine, not workflow code, is the caller.

    ``skip`` frames above our caller are passed over unexamined: the caller
    knows they are the engine's own and none is a boundary (the loop's timer
    path: each frame examined costs an audited read of its code, and the
    sandbox's audit hook makes that read the larger part of a timer's cost).
    """
    return _walk(sys._getframe(1 + skip)) or _current_task_site()


def task_site(task: asyncio.Task[Any] | None) -> Site | None:
    """Where workflow code created ``task`` (see task_created); None if unknown."""
    return _TASK_SITES.get(task) if task is not None else None


def _current_task_site() -> Site | None:
    loop = events._get_running_loop()
    return task_site(asyncio.current_task(loop)) if loop is not None else None


def task_created(task: asyncio.Task[Any], coro: object) -> None:
    """Remember where workflow code created ``task``, for commands its stack cannot place.

    The workflow loop calls this for every task it creates (call it from a task
    factory too). Nothing is stored when the coroutine is workflow code itself
    (a run or handler method, a helper: its frame is on the task's stack
    whenever the task runs); otherwise the creating stack's nearest
    workflow-code frame is (for ``gather(workflow.execute_activity(...), ...)``
    the line of the ``gather`` call), or failing that the site of the task
    creating this one, so a chain of engine-made tasks leads back to the
    user's line.
    """
    code = getattr(coro, "cr_code", None)
    if code is not None and not code.co_filename.startswith(ENGINE_DIRS):
        return  # workflow code itself (a run or handler method): its frame is on the stack
    site = _walk(sys._getframe(1)) or _current_task_site()
    if site is not None:
        _TASK_SITES[task] = site


def frame_site(frame: FrameType | None) -> Site | None:
    """``(file, line)`` of ``frame`` if it is workflow code (a finished frame: its last line)."""
    if frame is None:
        return None
    filename = frame.f_code.co_filename  # f_code is an audited read: once
    return None if filename.startswith(ENGINE_DIRS) else (filename, frame.f_lineno)


def traceback_site(exc: BaseException) -> Site | None:
    """The innermost workflow-code frame in ``exc``'s traceback."""
    tb = exc.__traceback__
    found: Site | None = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.startswith(ENGINE_DIRS):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def traceback_location(exc: BaseException) -> str | None:
    """``file:line`` of the innermost workflow-code frame in ``exc``'s traceback."""
    return format_location(traceback_site(exc))


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
