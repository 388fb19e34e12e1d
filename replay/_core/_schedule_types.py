"""Schedules as data: the familiar SDK's ``Schedule*`` classes, and what a schedule records.

The public classes are mutable dataclasses, as in the familiar SDK, so that an
``update`` callback can change a described schedule in place or with
``dataclasses.replace``. What the schedule workflow carries in its history is
the JSON form of :class:`ScheduleRecord` (the action's arguments already encoded
as payloads) and :class:`ScheduleProgress`; both go through the one converter.
"""

import dataclasses
import enum
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from replay.history import JsonValue

from ._args import UNSET, all_args
from ._definition import workflow_name

SCHEDULE_WORKFLOW_TYPE = "replay.Schedule"
"""The workflow type every worker hosts for schedules."""
SCHEDULE_WORKFLOW_ID_PREFIX = "replay-schedule:"
"""A schedule's workflow id is this prefix and the schedule id."""
PAUSE_SIGNAL = "pause"
UNPAUSE_SIGNAL = "unpause"
TRIGGER_SIGNAL = "trigger"
BACKFILL_SIGNAL = "backfill"
UPDATE_SIGNAL = "update"
DESCRIBE_QUERY = "describe"


def schedule_workflow_id(schedule_id: str) -> str:
    """The workflow id of the schedule ``schedule_id``'s runs."""
    return SCHEDULE_WORKFLOW_ID_PREFIX + schedule_id


class ScheduleOverlapPolicy(enum.IntEnum):
    """What a schedule does when an action is due while an earlier one still runs."""

    SKIP = 1
    """Do not start the new action (counted in ``num_actions_skipped_overlap``)."""
    BUFFER_ONE = 2
    """Start it once the running one ends; while one is buffered, later ones are skipped."""
    BUFFER_ALL = 3
    """Start each, one after another, as the earlier ones end."""
    CANCEL_OTHER = 4
    """Request cancellation of the running one and start the new one once it has ended."""
    TERMINATE_OTHER = 5
    """Terminate the running one and start the new one."""
    ALLOW_ALL = 6
    """Start it now, whatever runs."""


@dataclasses.dataclass
class ScheduleIntervalSpec:
    """Every ``every``, counted from the Unix epoch plus ``offset``."""

    every: timedelta
    offset: timedelta | None = None


@dataclasses.dataclass
class ScheduleSpec:
    """When actions are due: the union of the cron expressions' and the intervals' times
    (UTC), within ``start_at``..``end_at``, each delayed by up to ``jitter``."""

    cron_expressions: Sequence[str] = dataclasses.field(default_factory=list)
    intervals: Sequence[ScheduleIntervalSpec] = dataclasses.field(default_factory=list)
    start_at: datetime | None = None
    end_at: datetime | None = None
    jitter: timedelta | None = None


@dataclasses.dataclass
class SchedulePolicy:
    """How a schedule handles overlaps, missed times and failed actions."""

    overlap: ScheduleOverlapPolicy = ScheduleOverlapPolicy.SKIP
    catchup_window: timedelta = timedelta(days=365)
    """A due time found later than this (the workers were down) is not taken."""
    pause_on_failure: bool = False
    """Pause the schedule when an action's run fails or times out."""


@dataclasses.dataclass
class ScheduleState:
    """Whether a schedule is paused, why, and how many actions it may still take."""

    note: str | None = None
    paused: bool = False
    limited_actions: bool = False
    remaining_actions: int = 0


@dataclasses.dataclass
class ScheduleBackfill:
    """Take the actions due in (``start_at``, ``end_at``] now, as if that time passed."""

    start_at: datetime
    end_at: datetime
    overlap: ScheduleOverlapPolicy | None = None


_UNSUPPORTED_ACTION_OPTIONS = frozenset({
    "retry_policy", "search_attributes", "typed_search_attributes", "static_summary",
    "static_details", "headers", "priority", "versioning_override"})


class ScheduleActionStartWorkflow:
    """The action: start a workflow run (its id gets the scheduled time appended)."""

    def __init__(self, workflow: Any, arg: Any = UNSET, *, args: Sequence[Any] = (),
                 id: str, task_queue: str, execution_timeout: timedelta | None = None,
                 run_timeout: timedelta | None = None, task_timeout: timedelta | None = None,
                 memo: dict[str, Any] | None = None, **options: Any) -> None:
        for name in sorted(options):
            if name in _UNSUPPORTED_ACTION_OPTIONS:
                raise TypeError(f"ScheduleActionStartWorkflow does not support {name}= yet; "
                                "replay would ignore it, so it refuses it instead")
            raise TypeError(f"ScheduleActionStartWorkflow got an unexpected keyword "
                            f"argument {name!r}")
        self.workflow: str = workflow if isinstance(workflow, str) else workflow_name(
            workflow)[0]
        self.args: Sequence[Any] = all_args(arg, args)
        self.id = id
        self.task_queue = task_queue
        self.execution_timeout = execution_timeout
        self.run_timeout = run_timeout
        self.task_timeout = task_timeout
        self.memo = memo

    def __repr__(self) -> str:
        return (f"ScheduleActionStartWorkflow(workflow={self.workflow!r}, args={self.args!r}, "
                f"id={self.id!r}, task_queue={self.task_queue!r})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScheduleActionStartWorkflow) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the familiar dataclass


@dataclasses.dataclass
class Schedule:
    """A schedule: what to do (``action``), when (``spec``), how (``policy``), its state."""

    action: ScheduleActionStartWorkflow
    spec: ScheduleSpec
    policy: SchedulePolicy = dataclasses.field(default_factory=SchedulePolicy)
    state: ScheduleState = dataclasses.field(default_factory=ScheduleState)


@dataclasses.dataclass
class ScheduleActionExecutionStartWorkflow:
    """A run an action started."""

    workflow_id: str
    first_execution_run_id: str


@dataclasses.dataclass
class ScheduleActionResult:
    """One action taken: when it was due, when it started and the run it started."""

    scheduled_at: datetime
    started_at: datetime
    action: ScheduleActionExecutionStartWorkflow


@dataclasses.dataclass
class ScheduleInfo:
    """What a schedule has done and will do."""

    num_actions: int
    num_actions_missed_catchup_window: int
    num_actions_skipped_overlap: int
    running_actions: Sequence[ScheduleActionExecutionStartWorkflow]
    recent_actions: Sequence[ScheduleActionResult]
    """The last ten actions taken, oldest first."""
    next_action_times: Sequence[datetime]
    """The next (up to) ten due times, jitter included."""
    created_at: datetime
    last_updated_at: datetime | None


@dataclasses.dataclass
class ScheduleDescription:
    """``ScheduleHandle.describe()``: the schedule as it is now, and its info."""

    id: str
    schedule: Schedule
    info: ScheduleInfo


@dataclasses.dataclass
class ScheduleListDescription:
    """One schedule of ``Client.list_schedules()``."""

    id: str
    schedule: Schedule
    info: ScheduleInfo


@dataclasses.dataclass
class ScheduleUpdateInput:
    """What an ``update`` callback is given: the schedule's current description."""

    description: ScheduleDescription


@dataclasses.dataclass
class ScheduleUpdate:
    """What an ``update`` callback returns: the schedule to have from now on."""

    schedule: Schedule


# --- what the schedule workflow records ------------------------------------------------------


@attrs.frozen(kw_only=True)
class ActionRecord:
    """The start-workflow action, its arguments as payloads."""

    workflow: str
    args: list[JsonValue]
    id: str
    task_queue: str
    execution_timeout: timedelta | None = None
    run_timeout: timedelta | None = None
    task_timeout: timedelta | None = None
    memo: dict[str, JsonValue] | None = None


@attrs.frozen(kw_only=True)
class ScheduleRecord:
    """A schedule as its workflow holds it."""

    action: ActionRecord
    spec: ScheduleSpec
    policy: SchedulePolicy
    state: ScheduleState


@attrs.frozen(kw_only=True)
class ActionRun:
    """A run an action started (``run_id`` None while its start is in flight)."""

    workflow_id: str
    run_id: str | None
    scheduled_at: datetime
    started_at: datetime | None = None


@attrs.frozen(kw_only=True)
class ScheduleProgress:
    """What a schedule has done so far; carried across continue-as-new."""

    created_at: datetime
    watermark: datetime
    """Due times up to here have been dealt with."""
    last_updated_at: datetime | None = None
    num_actions: int = 0
    num_missed: int = 0
    num_skipped: int = 0
    running: list[ActionRun] = attrs.field(factory=list)
    recent: list[ActionRun] = attrs.field(factory=list)
    buffered: list[datetime] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class ScheduleInput:
    """The schedule workflow's argument."""

    schedule_id: str
    schedule: ScheduleRecord
    progress: ScheduleProgress | None = None
    trigger_immediately: bool = False
    backfills: list[ScheduleBackfill] = attrs.field(factory=list)
    continue_after_events: int = 2000
    """Continue as new once the history has this many events and nothing is in flight."""


@attrs.frozen(kw_only=True)
class ScheduleView:
    """The schedule workflow's ``describe`` query answer."""

    schedule: ScheduleRecord
    progress: ScheduleProgress
    next_action_times: list[datetime]
