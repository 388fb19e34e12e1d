"""What ``stream_events()`` yields: emitted values, the run's own events, a final stop.

The event-driven handler's stream (the LlamaIndex-style reference) ends with a
stop event carrying the result; ours does too. A stream is read from the history,
so it can be read again from the start, or resumed after any offset (an
``EventEmitted.seq``) by a client that reconnects: that is our addition.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from replay.history import Event


@attrs.frozen(kw_only=True)
class StreamedEvent:
    """A value the workflow emitted with ``workflow.emit``; ``offset`` resumes a stream."""

    offset: int
    event_id: int
    time: datetime
    data: Any


@attrs.frozen(kw_only=True)
class InternalEvent(StreamedEvent):
    """One of the run's own history events (``stream_events(expose_internal=True)``):
    ``data`` is the event, ``kind`` its name; ``offset`` is the last emitted offset
    before it (internal events are not counted by offsets)."""

    kind: str
    run_id: str


@attrs.frozen(kw_only=True)
class StopEvent(StreamedEvent):
    """The last item of a stream: the run completed and ``result`` (also ``data``) is
    its result. ``offset`` is its event id, past every emitted offset of the run, so
    a stream resumed after it yields this stop event only."""

    run_id: str

    @property
    def result(self) -> Any:
        """The run's result (the reference's ``StopEvent.result``)."""
        return self.data


def internal_event(run_id: str, offset: int, event: Event) -> InternalEvent:
    """``event`` as a stream item."""
    return InternalEvent(offset=offset, event_id=event.event_id, time=event.time, data=event,
                         kind=type(event).__name__, run_id=run_id)


def stop_event(run_id: str, terminal: Event, result: Any) -> StopEvent:
    """The stop event of a run that completed with ``result`` at event ``terminal``."""
    return StopEvent(offset=terminal.event_id, event_id=terminal.event_id, time=terminal.time,
                     data=result, run_id=run_id)
