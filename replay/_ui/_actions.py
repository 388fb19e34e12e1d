"""The UI's actions on a run: signal, update, cancel and terminate.

Each goes through the client, exactly as a program's call would, so the same
checks apply (a closed run, an unknown handler when the code is known) and
nothing is written when they refuse. Arguments are typed as a JSON array.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from replay.client import Client, WorkflowUpdateStage
from replay.exceptions import ReplayError
from replay.history import RunInfo

__all__ = ["ACTIONS", "UPDATE_ACCEPT_WAIT", "ActionError", "perform"]

ACTIONS = ("signal", "update", "cancel", "terminate")
#: How long an update from the UI waits to be accepted by a worker before the page
#: says it was sent and is waiting (the request stays in the store).
UPDATE_ACCEPT_WAIT = 10.0


class ActionError(Exception):
    """An action was refused; the message says why and what to change."""


def _args(fields: Mapping[str, str]) -> list[Any]:
    raw = fields.get("args", "").strip()
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ActionError(f"the arguments are not JSON ({exc.msg} at column {exc.colno}): "
                          "write a JSON array, e.g. [\"text\", 2]") from exc
    return value if isinstance(value, list) else [value]


def _name(fields: Mapping[str, str], what: str) -> str:
    name = fields.get("name", "").strip()
    if not name:
        raise ActionError(f"name the {what} to send")
    return name


async def perform(client: Client, run: RunInfo, action: str, fields: Mapping[str, str]) -> str:
    """Do ``action`` on ``run``; returns a short message saying what was done."""
    handle = client.get_workflow_handle(run.workflow_id, run_id=run.run_id)
    reason = fields.get("reason", "").strip()
    try:
        if action == "signal":
            name = _name(fields, "signal")
            await handle.signal(name, args=_args(fields))
            return f"signal {name} sent"
        if action == "update":
            name = _name(fields, "update")
            args = _args(fields)
            try:
                await asyncio.wait_for(
                    handle.start_update(name, args=args,
                                        wait_for_stage=WorkflowUpdateStage.ACCEPTED),
                    UPDATE_ACCEPT_WAIT)
            except TimeoutError:
                return f"update {name} sent; no worker accepted it yet"
            return f"update {name} accepted"
        if action == "cancel":
            await handle.cancel(reason)
            return "cancel requested"
        if action == "terminate":
            await handle.terminate(reason=reason or "terminated from the replay UI")
            return "terminated"
    except ReplayError as exc:
        raise ActionError(str(exc)) from exc
    raise ActionError(f"no action {action!r}")
