"""Histories of the sample workflows, recorded in memory with the WorkflowDriver."""

from __future__ import annotations

import sys
from pathlib import Path

from replay.history import History
from replay.testing import WorkflowDriver

from .fanout import Fanout
from .greeter import Greeter
from .pausing import Pausing


def greeter_history(run_id: str = "run-greeter", workflow_id: str = "greet-1") -> History:
    """Greeter for Ada and Bob, Bob renamed Bo by an update; ends completed.

    Events: 1 started | 3 signal add | 5-6 update | 8 signal finish, 9 activity |
    11 result, 12 activity | 14 result, 15 timer | 17 fired, 18 completed.
    """
    d = WorkflowDriver(Greeter, "Ada", run_id=run_id, workflow_id=workflow_id)
    d.step()
    d.signal("add", "Bob")
    d.step()
    d.update("rename", 1, "Bo")
    d.step()
    d.signal("finish")
    d.step()
    for greeting in ("Hello, Ada!", "Hello, Bo!"):
        (scheduled,) = d.open_activities()
        d.complete_activity(scheduled, greeting)
        d.step()
    d.run_timers()
    return d.history()


def fanout_history() -> History:
    """Fanout over [1, 2], an update 'label' that waits on a timer; ends completed.

    Events: 1 started, 2-3 activities | 5 update accepted, 6 timer | 8 result |
    10 result | 12 timer fired, 13 update completed, 14 completed.
    """
    d = WorkflowDriver(Fanout, [1, 2], run_id="run-fanout", workflow_id="fanout-1")
    d.step()
    d.update("label", "first", update_id="u1")
    d.step()
    for scheduled in d.open_activities():
        d.complete_activity(scheduled, 2 * scheduled.args[0])
        d.step()
    d.run_timers()
    return d.history()


def pausing_history(n: int = 2) -> History:
    """Pausing for ``n`` ticks (its ``breakpoint()`` calls are ignored while recording)."""
    previous, sys.breakpointhook = sys.breakpointhook, lambda *a, **k: None
    try:
        d = WorkflowDriver(Pausing, n, run_id="run-pausing", workflow_id="pause-1")
        d.run_timers()
    finally:
        sys.breakpointhook = previous
    return d.history()


def marker_line(module_file: str, marker: str) -> int:
    """The line number of the ``# cmd: <marker>`` comment in a sample module."""
    for number, line in enumerate(Path(module_file).read_text().splitlines(), start=1):
        if f"# cmd: {marker}" in line:
            return number
    raise LookupError(marker)
