"""Finishing a run's tasks when its instance is done with, as ``asyncio.run`` does.

An instance is done with when a worker evicts or drops it, when a driver or the
debugger replaces it, or when the debugger closes. Its tasks may still wait on
commands that will never complete. Left to the garbage collector, a suspended
coroutine is closed at some later, arbitrary moment, and one whose cleanup awaits
(``async with``, a ``finally`` that awaits, a TaskGroup) is reported then as
"coroutine ignored GeneratorExit", in whatever code happens to be running. So the
tasks are cancelled and their cleanup runs on the workflow loop now, in creation
order; what still refuses to end is closed without running further.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from ._loop import WorkflowEventLoop

#: cancel-and-run rounds: cleanup code may start new tasks, or catch the first cancel
ROUNDS = 3


def unfinished_tasks(loop: WorkflowEventLoop) -> list[asyncio.Task[Any]]:
    """The loop's unfinished tasks in creation order (the workflow loop's tasks hash by
    their creation order; any other task by a value fixed for its life)."""
    return sorted(asyncio.all_tasks(loop), key=hash)


def finish_tasks(loop: WorkflowEventLoop,
                 running: Callable[[], AbstractContextManager[None]]) -> None:
    """Cancel the loop's tasks and run their cleanup inside ``running()``, then close
    what is left and the loop. Does nothing for a loop already closed."""
    if loop.is_closed():
        return
    pending = unfinished_tasks(loop)
    if pending:
        with running():
            for _ in range(ROUNDS):
                for task in pending:
                    task.cancel()
                loop.run_until_quiescent()
                pending = unfinished_tasks(loop)
                if not pending:
                    break
    for task in pending:  # still refusing to end: close it where it stands
        with contextlib.suppress(RuntimeError):  # "coroutine ignored GeneratorExit"
            task.get_coro().close()
    loop.close()
