"""History: the validated, immutable event sequence of one run, and its file format."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, overload

from ._codec import event_from_data, event_to_data
from ._errors import HistoryError
from ._events import Event, WorkflowStarted
from ._kinds import REFERENCES, TERMINAL_KINDS

FORMAT = "replay-history"
VERSION = 1
SUPPORTED_VERSIONS = (1,)


def validate_events(events: Sequence[Event], *, source: str | None = None) -> None:
    """Check the history rules; raises HistoryError naming the first broken one.

    Rules: ids contiguous from 1; the first event is ``WorkflowStarted`` and no
    other is; at most one terminal event and nothing after it; every result
    refers to an earlier command event of the right kind.
    """
    if not events:
        raise HistoryError("a history needs at least a WorkflowStarted event",
                           source=source, rule="empty")
    kinds: dict[int, type[Event]] = {}
    terminal_id: int | None = None
    for index, event in enumerate(events, start=1):
        eid = event.event_id
        if eid != index:
            what = "duplicate" if eid in kinds else "gap in"
            raise HistoryError(
                f"{what} event ids: expected id {index}, found {eid}",
                source=source, event_id=eid, rule="contiguous-ids",
            )
        cls = type(event)
        if (index == 1) != (cls is WorkflowStarted):
            msg = ("the first event must be WorkflowStarted, found " + cls.__name__
                   if index == 1 else "WorkflowStarted may only be the first event")
            raise HistoryError(msg, source=source, event_id=eid, rule="first-started")
        if terminal_id is not None:
            raise HistoryError(
                f"{cls.__name__} comes after terminal event {terminal_id}; nothing may "
                "follow the end of a run",
                source=source, event_id=eid, rule="after-terminal",
            )
        if cls in TERMINAL_KINDS:
            terminal_id = eid
        ref = REFERENCES.get(cls)
        if ref is not None:
            field, targets = ref
            target_id = getattr(event, field)
            target_cls = kinds.get(target_id)
            if target_cls not in targets:
                expected = " or ".join(t.__name__ for t in targets)
                found = f"a {target_cls.__name__}" if target_cls else "no earlier event"
                raise HistoryError(
                    f"{cls.__name__}.{field}={target_id} must name an earlier {expected}, "
                    f"but that id is {found}",
                    source=source, event_id=eid, rule="unknown-command",
                )
        kinds[eid] = cls


class History(Sequence[Event]):
    """The events of one run, validated on construction and never changed.

    Build one from events, from JSON text (:meth:`from_json`) or from a file
    (:meth:`load`); bad input raises :class:`HistoryError`.
    """

    __slots__ = ("_events", "run_id")

    def __init__(self, run_id: str, events: Sequence[Event], *, source: str | None = None):
        evs = tuple(events)
        validate_events(evs, source=source)
        self.run_id = run_id
        self._events = evs

    @property
    def events(self) -> tuple[Event, ...]:
        """The events, in id order."""
        return self._events

    @property
    def started(self) -> WorkflowStarted:
        """The run's first event."""
        first = self._events[0]
        assert isinstance(first, WorkflowStarted)
        return first

    @property
    def workflow_id(self) -> str:
        return self.started.workflow_id

    @property
    def workflow_type(self) -> str:
        return self.started.workflow_type

    @property
    def is_closed(self) -> bool:
        """True if the last event ends the run."""
        return type(self._events[-1]) in TERMINAL_KINDS

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Event]: ...
    def __getitem__(self, index: int | slice) -> Event | Sequence[Event]:
        return self._events[index]

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, History):
            return NotImplemented
        return self.run_id == other.run_id and self._events == other._events

    def __hash__(self) -> int:
        return hash((self.run_id, self._events))

    def __repr__(self) -> str:
        return f"History(run_id={self.run_id!r}, events=<{len(self._events)} events>)"

    # --- file format -----------------------------------------------------------

    def to_data(self) -> dict[str, Any]:
        """The history as the JSON-able document of the file format."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "run_id": self.run_id,
            "workflow_id": self.workflow_id,
            "workflow_type": self.workflow_type,
            "events": [event_to_data(e) for e in self._events],
        }

    def to_json(self, *, indent: int | None = 1) -> str:
        """The history as JSON text in the versioned file format."""
        return json.dumps(self.to_data(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_data(cls, doc: Any, *, source: str | None = None) -> History:
        """Decode a parsed document; raises HistoryError naming what is wrong."""
        if not isinstance(doc, dict):
            raise HistoryError(
                f"a history document must be a JSON object, got {type(doc).__name__}",
                source=source, rule="document",
            )
        if doc.get("format") != FORMAT:
            raise HistoryError(
                f"unknown format {doc.get('format')!r}; expected {FORMAT!r}",
                source=source, rule="format",
            )
        version = doc.get("version")
        if version not in SUPPORTED_VERSIONS:
            raise HistoryError(
                f"unsupported version {version!r}; this library reads versions "
                f"{', '.join(map(str, SUPPORTED_VERSIONS))}. Upgrade replay-engine to read "
                "newer files.",
                source=source, rule="version",
            )
        extra = set(doc) - {"format", "version", "run_id", "workflow_id",
                            "workflow_type", "events"}
        if extra:
            raise HistoryError(f"unknown top-level fields: {', '.join(sorted(extra))}",
                               source=source, rule="document")
        run_id = doc.get("run_id")
        if not isinstance(run_id, str) or not run_id:
            raise HistoryError("'run_id' must be a non-empty string", source=source,
                               rule="document")
        raw_events = doc.get("events")
        if not isinstance(raw_events, list):
            raise HistoryError("'events' must be a list", source=source, rule="document")
        events = [event_from_data(e, source=source) for e in raw_events]
        return cls(run_id, events, source=source)

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str | None = None) -> History:
        """Parse JSON text in the file format."""
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise HistoryError(
                f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                source=source or "<string>", rule="json",
            ) from exc
        return cls.from_data(doc, source=source)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> History:
        """Read a history file written by :meth:`save` (or ``replay export``)."""
        p = Path(path)
        try:
            text = p.read_bytes()
        except OSError as exc:
            raise HistoryError(f"cannot read: {exc.strerror}", source=str(p),
                               rule="io") from exc
        return cls.from_json(text, source=str(p))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the history to ``path`` atomically (a temp file, then rename)."""
        p = Path(path)
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text(self.to_json() + "\n", encoding="utf-8")
        os.replace(tmp, p)
