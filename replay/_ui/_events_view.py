"""A history's events as table rows for the run and debugger pages."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from replay.history import Event

from .._cli._summary import summarize

__all__ = ["EventRow", "event_rows"]


@attrs.frozen
class EventRow:
    event_id: int
    time: str
    kind: str
    summary: str


def event_rows(events: Sequence[Event]) -> list[EventRow]:
    return [EventRow(e.event_id, e.time.strftime("%H:%M:%S.%f")[:-3], type(e).__name__,
                     summarize(e)) for e in events]
