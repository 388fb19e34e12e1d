"""Testing helpers: an in-process environment with time skipping, and the determinism harness.

* :class:`WorkflowEnvironment`: a client on an in-memory (or temporary SQLite)
  store, a worker factory and a clock that skips to the next timer.
* :class:`ActivityEnvironment`: run an activity function outside a worker, with a
  fake context (info, heartbeats, cancellation).
* :class:`WorkflowDriver`: drive one run by hand in memory and record its history.
* :func:`check_determinism`: replay and crash-recover generated schedules of
  signals, updates, queries, activity outcomes, timers and cancellation.
* :func:`schedules` / :func:`steps` and the step classes: the hypothesis
  strategies behind it, to compose your own.

This package needs the ``testing`` extra (hypothesis): ``pip install
'replay-engine[testing]'``. Without it, importing it raises ImportError saying so.
"""

# First, so that a missing extra fails here with the remedy, not deep in a submodule.
from . import _requires_extra  # noqa: F401 (imported for its check)
from ._activity_env import ActivityEnvironment as ActivityEnvironment
from ._driver import UpdateOutcome as UpdateOutcome
from ._driver import WorkflowDriver as WorkflowDriver
from ._environment import WorkflowEnvironment as WorkflowEnvironment
from ._harness import DeterminismReport as DeterminismReport
from ._harness import DeterminismViolation as DeterminismViolation
from ._harness import check_determinism as check_determinism
from ._strategies import Activate as Activate
from ._strategies import ActivityOutcome as ActivityOutcome
from ._strategies import Cancel as Cancel
from ._strategies import ChildOutcome as ChildOutcome
from ._strategies import Crash as Crash
from ._strategies import ExternalSignalOutcome as ExternalSignalOutcome
from ._strategies import FireTimer as FireTimer
from ._strategies import Query as Query
from ._strategies import Signal as Signal
from ._strategies import SkipTime as SkipTime
from ._strategies import Step as Step
from ._strategies import Update as Update
from ._strategies import format_schedule as format_schedule
from ._strategies import handler_args as handler_args
from ._strategies import schedules as schedules
from ._strategies import steps as steps

__all__ = [
    "Activate",
    "ActivityEnvironment",
    "ActivityOutcome",
    "Cancel",
    "ChildOutcome",
    "Crash",
    "DeterminismReport",
    "DeterminismViolation",
    "ExternalSignalOutcome",
    "FireTimer",
    "Query",
    "Signal",
    "SkipTime",
    "Step",
    "Update",
    "UpdateOutcome",
    "WorkflowDriver",
    "WorkflowEnvironment",
    "check_determinism",
    "format_schedule",
    "handler_args",
    "schedules",
    "steps",
]

from .._core._public import publish as _publish

_publish(__name__, globals(), private="replay.testing._")
