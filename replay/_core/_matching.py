"""Replay matching: the code's commands against the recorded command events.

Walks both lists once, in order. Patch markers get Temporal's leniency: a
recorded *deprecated* patch marker the code no longer issues is skipped, and
a ``deprecate_patch`` marker the history does not hold is dropped. Anything
else that differs raises NondeterminismError at the first divergent event.
Only the fields that identify a command are compared; :func:`match_outcome`
also compares how the run ended (its result, failure or continue-as-new
arguments), for a replay with strict results.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import attrs

from replay.history import (
    Event,
    Failure,
    MarkerRecorded,
    WorkflowCompleted,
    WorkflowContinuedAsNew,
    WorkflowFailed,
)

from ._command_base import Command, describe_event
from ._commands import MarkerCommand
from ._exceptions import NondeterminismError
from ._locations import format_location


class ReplayedRun(Protocol):
    """What matching needs of the run being replayed (its WorkflowInstance)."""

    @property
    def run_id(self) -> str: ...

    @property
    def workflow_type(self) -> str: ...

    def assign(self, cmd: Command, event_id: int) -> None:
        """Record that ``cmd`` is the event ``event_id``."""
        ...

    def waiting_location(self) -> str | None:
        """``file:line`` where the run function waits."""
        ...

    def code_changed(self) -> bool | None:
        """Whether the code differs from the code that recorded the history (None: unknown)."""
        ...


def match(inst: ReplayedRun, commands: Sequence[Command], recorded: Sequence[Event],
          closing: Event) -> None:
    """Give each command its recorded event id, or raise at the first mismatch.

    Ids are given in order as the walk goes, so a later command that refers to an
    earlier one (a cancellation) compares with the id just given.
    """
    n, m = len(commands), len(recorded)
    i = 0  # the common case first: command i is recorded event i, for each of them
    for issued, event in zip(commands, recorded, strict=False):  # the shorter one ends it
        if not issued.matches(event):
            break
        inst.assign(issued, event.event_id)
        i += 1
    if i == n and i == m:
        return
    j = i
    while i < n or j < m:
        cmd = commands[i] if i < n else None
        rec = recorded[j] if j < m else None
        if cmd is not None and rec is not None and cmd.matches(rec):
            inst.assign(cmd, rec.event_id)
            i += 1
            j += 1
        elif isinstance(rec, MarkerRecorded) and rec.name == "patch" and rec.deprecated:
            j += 1
        elif isinstance(cmd, MarkerCommand) and cmd.deprecated:
            i += 1
        else:
            raise _divergence(inst, cmd, rec, closing)


def _divergence(inst: ReplayedRun, cmd: Command | None, rec: Event | None,
                closing: Event) -> NondeterminismError:
    if rec is not None:
        expected = f"{describe_event(rec)} (event {rec.event_id})"
        event_id = rec.event_id
    else:
        expected = (f"no further command in this activation (it ends with "
                    f"{type(closing).__name__} at event {closing.event_id})")
        event_id = closing.event_id
    if cmd is not None:
        actual, location = cmd.describe(), format_location(cmd.location)
    else:  # the code issued nothing: point at where it waits instead
        actual, location = "no command", inst.waiting_location()
    return NondeterminismError(
        run_id=inst.run_id,
        workflow_type=inst.workflow_type,
        event_id=event_id,
        expected=expected,
        actual=actual,
        location=location,
        code_changed=inst.code_changed(),
    )


_OUTCOME_FIELDS: dict[type[Event], tuple[str, ...]] = {
    WorkflowCompleted: ("result",),
    WorkflowFailed: ("failure",),
    WorkflowContinuedAsNew: ("args", "memo"),
}
"""Fields of a recorded ending that strict results compare beyond the matching keys."""

_SHOWN = 200
"""Characters of a value shown in the error before it is cut."""


def match_outcome(inst: ReplayedRun, terminal: Command | None, recorded: Event) -> None:
    """Raise NondeterminismError if the run ended otherwise than ``recorded`` says.

    ``terminal`` is the ending the code produced and matched (by kind) with the
    recorded terminal event. Failures are compared without their stack traces,
    which name the engine's lines and the current file paths.
    """
    keys = _OUTCOME_FIELDS.get(type(recorded), ())
    if terminal is None or not keys or not terminal.matches(recorded):
        return
    mine = terminal.fields()
    differ = [k for k in keys if _comparable(mine[k]) != _comparable(getattr(recorded, k))]
    if not differ:
        return
    kind = type(recorded).__name__
    expected = ", ".join(f"{k}={_cut(getattr(recorded, k))}" for k in differ)
    actual = ", ".join(f"{k}={_cut(mine[k])}" for k in differ)
    raise NondeterminismError(
        run_id=inst.run_id,
        workflow_type=inst.workflow_type,
        event_id=recorded.event_id,
        expected=f"{kind}({expected}) (event {recorded.event_id})",
        actual=f"{kind}({actual})",
        location=format_location(terminal.location),
        code_changed=inst.code_changed(),
        in_result=True,
    )


def _comparable(value: Any) -> Any:
    if isinstance(value, Failure):
        return attrs.evolve(value, stack_trace="", cause=_comparable(value.cause))
    return value


def _cut(value: Any) -> str:
    text = _show_failure(value) if isinstance(value, Failure) else repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN - 3] + "..."


def _show_failure(f: Failure) -> str:
    """``Type('message', details=[...], non_retryable=True, cause=...)``, defaults left out."""
    parts = [repr(f.message)]
    if f.details:
        parts.append(f"details={f.details!r}")
    if f.non_retryable:
        parts.append("non_retryable=True")
    if f.cause is not None:
        parts.append(f"cause={_show_failure(f.cause)}")
    return f"{f.type}({', '.join(parts)})"
