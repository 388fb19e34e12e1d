"""Where each task of a workflow waits: its full user stack, engine frames hidden.

``asyncio.Task.get_stack()`` gives only a suspended coroutine's outermost
frame: a suspended coroutine has no ``f_back``, the frames it waits in hang
off its ``cr_await`` chain instead. :func:`user_stack` walks that chain
(coroutines, generator-based awaitables, async generators), from the task's
coroutine down to the innermost frame, and keeps the frames of workflow code:
frames of the engine (the ``replay`` package, ``replay.history``,
``replay.sandbox``) and of ``asyncio`` are hidden, as pytest hides its own,
and so is any frame that sets ``__tracebackhide__``.
"""

from __future__ import annotations

import asyncio
import linecache
import os
from collections.abc import Iterable, Iterator
from types import FrameType
from typing import Any

import attrs

import replay.history
import replay.sandbox


def _dirs(*files: str) -> tuple[str, ...]:
    found: set[str] = set()
    for file in files:
        folder = os.path.dirname(file)
        found.update({folder + os.sep, os.path.realpath(folder) + os.sep})
    return tuple(sorted(found))


ENGINE_DIRS = _dirs(os.path.dirname(__file__),  # the replay package
                    replay.history.__file__, replay.sandbox.__file__, asyncio.__file__)
"""Folders whose frames are the engine's (or asyncio's), never workflow code."""


@attrs.frozen
class StackFrame:
    """One frame of workflow code: where a task waits, or what called that."""

    file: str
    line: int
    function: str

    @property
    def code(self) -> str:
        """The source line, stripped ('' when the file cannot be read)."""
        return linecache.getline(self.file, self.line).strip()

    def __str__(self) -> str:
        return f"{self.file}:{self.line} in {self.function}"


@attrs.frozen
class TaskStack:
    """A task of the workflow and its user frames, outermost first, innermost last.

    ``waiting_for`` names the task the innermost frame awaits, if it awaits one
    (an activity, a child workflow, another task of the workflow).
    """

    name: str
    frames: tuple[StackFrame, ...]
    waiting_for: str | None = None

    def format(self) -> str:
        lines = [f"task {self.name}:"]
        for frame in self.frames:
            lines.append(f"  {frame}")
            if frame.code:
                lines.append(f"      {frame.code}")
        if self.waiting_for is not None:
            lines.append(f"  (waiting for task {self.waiting_for})")
        return "\n".join(lines)


def is_engine_frame(frame: FrameType) -> bool:
    """Is ``frame`` the engine's or asyncio's (or one that asks to be hidden)?"""
    if frame.f_code.co_filename.startswith(ENGINE_DIRS):
        return True
    return bool(frame.f_locals.get("__tracebackhide__", False))


def _awaiting(obj: Any) -> Iterator[tuple[FrameType, Any]]:
    """(frame, what it awaits) for each suspended frame of an await chain, outermost first."""
    while obj is not None:
        frame = (getattr(obj, "cr_frame", None) or getattr(obj, "gi_frame", None)
                 or getattr(obj, "ag_frame", None))
        if frame is None:
            return
        awaited = (getattr(obj, "cr_await", None) or getattr(obj, "gi_yieldfrom", None)
                   or getattr(obj, "ag_await", None))
        yield frame, awaited
        obj = awaited


def user_stack(task: asyncio.Task[Any]) -> TaskStack:
    """``task``'s frames of workflow code, outermost first (empty once it is done)."""
    frames: list[StackFrame] = []
    if not task.done():
        for frame, _ in _awaiting(task.get_coro()):
            if not is_engine_frame(frame):
                code = frame.f_code
                frames.append(StackFrame(code.co_filename, frame.f_lineno, code.co_name))
    # the future the task is blocked on: asyncio keeps it there and shows it in the
    # task's repr ("wait_for=..."); an awaited task is reached through no public name
    blocked_on = getattr(task, "_fut_waiter", None)
    waiting_for = blocked_on.get_name() if isinstance(blocked_on, asyncio.Task) else None
    return TaskStack(task.get_name(), tuple(frames), waiting_for)


def user_stacks(tasks: Iterable[asyncio.Task[Any]]) -> list[TaskStack]:
    """The user stacks of ``tasks`` (in the given order) that hold workflow code.

    Tasks that run only engine code (the task behind an activity handle, say)
    are left out; the task awaiting them names them in ``waiting_for``.
    """
    stacks = (user_stack(t) for t in tasks)
    return [s for s in stacks if s.frames]
