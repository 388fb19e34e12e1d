"""``replay schedule``: create, list, describe, pause, unpause, trigger, backfill and delete
schedules (``Client.create_schedule`` and ``ScheduleHandle``; see docs/schedules.md)."""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from replay.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleBackfill,
    ScheduleDescription,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)
from replay.exceptions import ReplayError

from ._common import CliError, db_option, json_args, open_store, run_async, table, to_json

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_OVERLAPS = [p.name.lower() for p in ScheduleOverlapPolicy]
_OVERLAP = click.option("--overlap", type=click.Choice(_OVERLAPS), default=None,
                        help="Overlap policy (default: the schedule's).")
_ID = click.argument("schedule_id", metavar="ID")


def duration(text: str, option: str) -> timedelta:
    """``90s``, ``10m``, ``1h30m``, ``2d``: BadParameter otherwise."""
    pos, seconds = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise click.BadParameter(f"{text!r} is not a duration: write e.g. 90s, 10m, 1h30m, "
                                 f"2d (column {pos + 1})", param_hint=option)
    return timedelta(seconds=seconds)


def _interval(text: str) -> ScheduleIntervalSpec:
    every, _, offset = text.partition("/")
    return ScheduleIntervalSpec(every=duration(every, "--interval"),
                                offset=duration(offset, "--interval") if offset else None)


def _time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time (e.g. "
                                 "2030-01-01T09:00:00Z)", param_hint=option) from exc
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _overlap(name: str | None) -> ScheduleOverlapPolicy | None:
    return ScheduleOverlapPolicy[name.upper()] if name else None


def _client(db: str, *, create: bool = False) -> Client:
    return Client(open_store(db, create=create))


def _run(db: str, what: Any) -> Any:
    """Run ``what(client)`` (a coroutine function), closing the client afterwards."""
    client = _client(db)
    try:
        return run_async(what(client))
    finally:
        client.close()


@click.group()
def schedule() -> None:
    """Create and manage schedules: runs started at cron or interval times.

    A schedule is run by the workers of its action's task queue (replay worker); these
    commands record what to do, and a worker does it.

    \b
    Example:
      replay schedule create nightly --workflow Report -q reports --workflow-id report \\
          --cron '0 2 * * *'
      replay schedule describe nightly
    """


@schedule.command()
@_ID
@click.option("--workflow", "workflow_type", required=True, metavar="TYPE",
              help="Workflow type each action starts.")
@click.option("--task-queue", "-q", required=True, help="Task queue of the started runs "
              "(and of the schedule itself).")
@click.option("--workflow-id", required=True, metavar="ID",
              help="Workflow id of the started runs (the due time is appended).")
@click.option("--arg", "args", multiple=True, metavar="JSON",
              help="One JSON argument of the started runs (repeat for more).")
@click.option("--cron", "crons", multiple=True, metavar="EXPR",
              help="A cron expression or @hourly-style shorthand, UTC (repeat for more).")
@click.option("--interval", "intervals", multiple=True, metavar="EVERY[/OFFSET]",
              help="Every EVERY from the Unix epoch (plus OFFSET), e.g. 10m or 1d/9h.")
@click.option("--start-at", metavar="TIME", help="No action before this ISO 8601 time.")
@click.option("--end-at", metavar="TIME", help="No action after this ISO 8601 time.")
@click.option("--jitter", metavar="DURATION", help="Delay each action by up to this much.")
@_OVERLAP
@click.option("--catchup-window", metavar="DURATION", default="365d", show_default=True,
              help="Due times found later than this (workers down) are not taken.")
@click.option("--pause-on-failure", is_flag=True, help="Pause when a started run fails.")
@click.option("--paused", is_flag=True, help="Create the schedule paused.")
@click.option("--note", default=None, help="Note kept with the paused state.")
@click.option("--remaining-actions", type=click.IntRange(min=0), default=None,
              help="Take at most N scheduled actions.")
@click.option("--trigger-immediately", is_flag=True, help="Also take one action now.")
@db_option
def create(schedule_id: str, workflow_type: str, task_queue: str, workflow_id: str,
           args: Sequence[str], crons: Sequence[str], intervals: Sequence[str],
           start_at: str | None, end_at: str | None, jitter: str | None,
           overlap: str | None, catchup_window: str, pause_on_failure: bool, paused: bool,
           note: str | None, remaining_actions: int | None, trigger_immediately: bool,
           db: str) -> None:
    """Create a schedule.

    \b
    Examples:
      replay schedule create nightly --workflow Report -q reports --workflow-id report \\
          --cron '0 2 * * *' --arg '"daily"'
      replay schedule create poll --workflow Poll -q jobs --workflow-id poll --interval 10m
    """
    if not crons and not intervals:
        raise click.UsageError("give at least one --cron or --interval")
    new = Schedule(
        action=ScheduleActionStartWorkflow(workflow_type, args=json_args(args),
                                           id=workflow_id, task_queue=task_queue),
        spec=ScheduleSpec(cron_expressions=list(crons),
                          intervals=[_interval(i) for i in intervals],
                          start_at=_time(start_at, "--start-at"),
                          end_at=_time(end_at, "--end-at"),
                          jitter=duration(jitter, "--jitter") if jitter else None),
        policy=SchedulePolicy(overlap=_overlap(overlap) or ScheduleOverlapPolicy.SKIP,
                              catchup_window=duration(catchup_window, "--catchup-window"),
                              pause_on_failure=pause_on_failure),
        state=ScheduleState(paused=paused, note=note,
                            limited_actions=remaining_actions is not None,
                            remaining_actions=remaining_actions or 0))
    client = _client(db, create=True)
    try:
        run_async(client.create_schedule(schedule_id, new,
                                         trigger_immediately=trigger_immediately))
    except ValueError as exc:  # a bad interval or window; a bad cron is a ReplayError
        if isinstance(exc, ReplayError):
            raise
        raise CliError(str(exc)) from exc
    finally:
        client.close()
    click.echo(f"created schedule {to_json(schedule_id)} (a worker of task queue "
               f"{to_json(task_queue)} runs it)")


@schedule.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
@db_option
def list_(as_json: bool, db: str) -> None:
    """List schedules by id, with their spec, state and counts."""
    async def collect(client: Client) -> list[ScheduleDescription]:
        return [ScheduleDescription(id=s.id, schedule=s.schedule, info=s.info)
                async for s in client.list_schedules()]

    found: list[ScheduleDescription] = _run(db, collect)
    if as_json:
        click.echo(to_json([description_data(d) for d in found]))
        return
    click.echo(table(["ID", "WORKFLOW", "SPEC", "STATE", "ACTIONS", "NEXT"],
                     [(d.id, d.schedule.action.workflow, _spec_text(d.schedule.spec),
                       _state_text(d), str(d.info.num_actions), _next(d)) for d in found]))


@schedule.command()
@_ID
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of a table.")
@db_option
def describe(schedule_id: str, as_json: bool, db: str) -> None:
    """Show one schedule: action, spec, policy, state, counts, running and recent actions
    and the next due times."""
    d: ScheduleDescription = _run(db, lambda c: c.get_schedule_handle(schedule_id).describe())
    if as_json:
        click.echo(to_json(description_data(d)))
        return
    s, info = d.schedule, d.info
    rows = [("id", d.id), ("workflow", s.action.workflow), ("workflow id", s.action.id),
            ("task queue", s.action.task_queue), ("args", to_json(list(s.action.args))),
            ("spec", _spec_text(s.spec)), ("overlap", s.policy.overlap.name),
            ("catchup window", str(s.policy.catchup_window)), ("state", _state_text(d)),
            ("actions", str(info.num_actions)),
            ("skipped (overlap)", str(info.num_actions_skipped_overlap)),
            ("missed (catchup window)", str(info.num_actions_missed_catchup_window)),
            ("running", ", ".join(a.workflow_id for a in info.running_actions) or "-"),
            ("recent", ", ".join(a.action.workflow_id for a in info.recent_actions) or "-"),
            ("next", ", ".join(_iso(t) for t in info.next_action_times[:3]) or "-"),
            ("created", _iso(info.created_at)),
            ("updated", _iso(info.last_updated_at) if info.last_updated_at else "-")]
    click.echo(table(["FIELD", "VALUE"], rows))


@schedule.command()
@_ID
@click.option("--note", default=None, help="Why (kept with the state).")
@db_option
def pause(schedule_id: str, note: str | None, db: str) -> None:
    """Stop taking scheduled actions (times that pass are not caught up)."""
    _run(db, lambda c: c.get_schedule_handle(schedule_id).pause(note=note))
    click.echo(f"paused schedule {to_json(schedule_id)}")


@schedule.command()
@_ID
@click.option("--note", default=None, help="Why (kept with the state).")
@db_option
def unpause(schedule_id: str, note: str | None, db: str) -> None:
    """Take scheduled actions again, from now on."""
    _run(db, lambda c: c.get_schedule_handle(schedule_id).unpause(note=note))
    click.echo(f"unpaused schedule {to_json(schedule_id)}")


@schedule.command()
@_ID
@_OVERLAP
@db_option
def trigger(schedule_id: str, overlap: str | None, db: str) -> None:
    """Take the action now (paused or not)."""
    _run(db, lambda c: c.get_schedule_handle(schedule_id).trigger(overlap=_overlap(overlap)))
    click.echo(f"triggered schedule {to_json(schedule_id)}")


@schedule.command()
@_ID
@click.option("--start-at", required=True, metavar="TIME", help="From (exclusive), ISO 8601.")
@click.option("--end-at", required=True, metavar="TIME", help="To (inclusive), ISO 8601.")
@_OVERLAP
@db_option
def backfill(schedule_id: str, start_at: str, end_at: str, overlap: str | None,
             db: str) -> None:
    """Take now the actions due in (--start-at, --end-at]."""
    start, end = _time(start_at, "--start-at"), _time(end_at, "--end-at")
    assert start is not None and end is not None
    fill = ScheduleBackfill(start_at=start, end_at=end, overlap=_overlap(overlap))
    try:
        _run(db, lambda c: c.get_schedule_handle(schedule_id).backfill(fill))
    except ValueError as exc:  # a bad interval or window; a bad cron is a ReplayError
        if isinstance(exc, ReplayError):
            raise
        raise CliError(str(exc)) from exc
    click.echo(f"backfilling schedule {to_json(schedule_id)}")


@schedule.command()
@_ID
@db_option
def delete(schedule_id: str, db: str) -> None:
    """Delete the schedule (the runs it started go on)."""
    _run(db, lambda c: c.get_schedule_handle(schedule_id).delete())
    click.echo(f"deleted schedule {to_json(schedule_id)}")


# --- output -----------------------------------------------------------------------------------


def description_data(d: ScheduleDescription) -> dict[str, Any]:
    """A description as JSON-able data: times ISO 8601, durations in seconds, enums by
    name."""
    action = d.schedule.action
    return {
        "id": d.id,
        "action": {"workflow": action.workflow, "args": list(action.args), "id": action.id,
                   "task_queue": action.task_queue},
        "spec": _plain(d.schedule.spec), "policy": _plain(d.schedule.policy),
        "state": _plain(d.schedule.state), "info": _plain(d.info),
    }


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _spec_text(spec: ScheduleSpec) -> str:
    parts = [f"cron {c!r}" for c in spec.cron_expressions]
    parts += [f"every {i.every}" + (f" +{i.offset}" if i.offset else "")
              for i in spec.intervals]
    return "; ".join(parts)


def _state_text(d: ScheduleDescription) -> str:
    state = d.schedule.state
    text = "paused" if state.paused else "active"
    if state.note:
        text += f" ({state.note})"
    if state.limited_actions:
        text += f", {state.remaining_actions} actions left"
    return text


def _next(d: ScheduleDescription) -> str:
    times = d.info.next_action_times
    return _iso(times[0]) if times else "-"


COMMANDS = [schedule]
