"""The debugger's view of one run at one event, as plain data for the debugger page.

Built from :class:`replay.debug.Debugger`: the history is replayed through the
workflow code up to the chosen event, then the page shows the workflow object's
attributes, its open commands and await stacks, the source line that issued each
command, the answer of a query, and, when the code no longer matches the history,
the recorded and issued commands side by side.
"""

from __future__ import annotations

import json
import linecache
import os
from collections.abc import Sequence
from typing import Any

import attrs

from replay.debug import Debugger
from replay.exceptions import ReplayError
from replay.history import History

__all__ = ["DebugView", "DivergenceRow", "QueryAnswer", "debug_view"]

#: Longest text shown for one attribute or answer (the rest is cut with an ellipsis).
MAX_VALUE_TEXT = 2_000


@attrs.frozen
class QueryAnswer:
    name: str
    args: str
    answer: str | None
    error: str | None


@attrs.frozen
class DivergenceRow:
    recorded: str
    issued: str
    bad: bool


@attrs.frozen
class DebugView:
    """What the debugger page shows at ``cursor``."""

    cursor: int
    last_event_id: int
    state: list[tuple[str, str]]
    pending: list[tuple[str, str]]
    where: str
    lines: dict[int, str]
    source: str | None
    query_names: list[str]
    query: QueryAnswer | None
    divergence: str | None
    divergence_rows: list[DivergenceRow]


def _text(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= MAX_VALUE_TEXT else text[:MAX_VALUE_TEXT - 1] + "\u2026"


def _line(location: tuple[str, int]) -> str:
    """``file.py:LINE: code`` (the file's base name; the source line as written)."""
    code = linecache.getline(location[0], location[1]).strip()
    return f"{os.path.basename(location[0])}:{location[1]}" + (f": {code}" if code else "")


def debug_view(history: History, workflows: Sequence[type], event_id: int, *,
               query: str | None = None, query_args: str = "") -> DebugView:
    """Replay ``history`` through ``workflows`` to ``event_id`` and describe the state.

    ``query`` runs that query handler there with ``query_args`` (a JSON array, or one
    JSON value); a query's failure is shown, not raised.
    """
    last = len(history.events)
    target = max(0, min(event_id, last))
    with Debugger(history, workflows=workflows) as dbg:
        stop = dbg.until(target) if target else None
        divergence = stop.divergence if stop is not None else None
        if divergence is None:
            divergence = dbg.divergence
        answer = None
        if query:
            answer = _run_query(dbg, query, query_args)
        rows: list[DivergenceRow] = []
        if divergence is not None:
            bad = divergence.event_id
            recorded = [f"{e.event_id} {type(e).__name__}" for e in divergence.recorded]
            issued = [c.describe() + (f"  @ {c.location[0]}:{c.location[1]}"
                                      if c.location else "") for c in divergence.issued]
            for i in range(max(len(recorded), len(issued))):
                rec = divergence.recorded[i] if i < len(divergence.recorded) else None
                rows.append(DivergenceRow(
                    recorded[i] if i < len(recorded) else "(nothing)",
                    issued[i] if i < len(issued) else "(nothing)",
                    (rec is not None and rec.event_id == bad)
                    or (rec is None and (bad is None or i == len(divergence.recorded)))))
        return DebugView(
            cursor=dbg.cursor,
            last_event_id=last,
            state=[(k, _text(v)) for k, v in sorted(dbg.state().items())],
            pending=[(k, ", ".join(v)) for k, v in sorted(dbg.pending().items()) if v],
            where=dbg.where(),
            lines={eid: _line(loc) for eid, loc in sorted(dbg.locations.items())
                   if loc is not None},
            source=dbg.source(),
            query_names=dbg.query_names(),
            query=answer,
            divergence=str(divergence.error) if divergence is not None else None,
            divergence_rows=rows,
        )


def _run_query(dbg: Debugger, name: str, raw_args: str) -> QueryAnswer:
    try:
        parsed = json.loads(raw_args) if raw_args.strip() else []
    except json.JSONDecodeError as exc:
        return QueryAnswer(name, raw_args, None,
                           f"the arguments are not JSON ({exc.msg}); write a JSON array")
    args = parsed if isinstance(parsed, list) else [parsed]
    try:
        return QueryAnswer(name, raw_args, _text(dbg.query(name, *args)), None)
    except ReplayError as exc:
        return QueryAnswer(name, raw_args, None, str(exc))
    except Exception as exc:  # a query handler's own exception is the answer to show
        return QueryAnswer(name, raw_args, None, f"{type(exc).__name__}: {exc}")
