"""How a command is matched against a recorded event (replay/_core/_command_base.py).

A command class that declares ``key_attributes`` is matched by reading its key
fields from its attributes instead of building every field: that must decide
exactly as matching by ``fields()`` does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import attrs
import pytest

from replay._core import _commands as c
from replay._core._command_base import KEY_FIELDS, Command

_NOW = datetime(2024, 1, 1, tzinfo=UTC)
_NO_FUTURE = cast(Any, None)  # never used: nothing here resolves a command


def _commands() -> list[Command]:
    return [
        c.ActivityCommand(
            seq=1, activity_type="charge", activity_id="1", args=["a"],
            options={"task_queue": "q", "schedule_to_close_timeout": None,
                     "schedule_to_start_timeout": None,
                     "start_to_close_timeout": timedelta(seconds=10),
                     "heartbeat_timeout": None, "retry_policy": None, "headers": {}},
            cancellation_type="TRY_CANCEL", result_type=None, future=_NO_FUTURE,
            done=_NO_FUTURE, decode=None),
        c.TimerCommand(seq=1, duration=timedelta(seconds=5), fire_at=_NOW,
                       handle=_NO_FUTURE),
        c.ChildCommand(seq=1, workflow_type="Child", workflow_id="child-1", run_id="r",
                       task_queue="q", args=[], memo={}, result_type=None,
                       future=_NO_FUTURE, decode=None),
        c.SignalExternalCommand(seq=1, workflow_id="w", run_id=None, signal_name="go",
                                args=[], future=_NO_FUTURE),
        c.MarkerCommand(name="patch", marker_id="p1"),
        c.UpdateAcceptedCommand(update_id="u-1", name="set", args=[]),
        c.UpsertSearchAttributesCommand({"Tag": ["x"]}),
        c.ContinueAsNewCommand(new_run_id="n", workflow_type="W", task_queue="q", args=[],
                               memo={}),
    ]


def test_every_class_that_matches_by_attributes_is_checked_here() -> None:
    claimed = {cls for cls in vars(c).values()
               if isinstance(cls, type) and issubclass(cls, Command) and cls.key_attributes}
    assert claimed == {type(cmd) for cmd in _commands()}


@pytest.mark.parametrize("cmd", _commands(), ids=lambda cmd: type(cmd).__name__)
def test_key_attributes_are_the_values_of_the_key_fields(cmd: Command) -> None:
    fields = cmd.fields()
    assert KEY_FIELDS[cmd.event_type]
    for key in KEY_FIELDS[cmd.event_type]:
        assert getattr(cmd, key) is fields[key]


@pytest.mark.parametrize("cmd", _commands(), ids=lambda cmd: type(cmd).__name__)
def test_matching_by_attributes_decides_as_matching_by_fields(cmd: Command) -> None:
    event = cmd.to_event(7, _NOW)
    assert cmd.matches(event)
    for key in KEY_FIELDS[cmd.event_type]:
        changed = attrs.evolve(event, **{key: cast(Any, object())})
        assert not cmd.matches(changed)
    other = c.CancelCommand().to_event(7, _NOW)
    assert not cmd.matches(other)
