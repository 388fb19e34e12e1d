"""History: the validated, immutable event sequence of one run, and its file format."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, overload

from ._codec import event_to_data, structure_event
from ._errors import HistoryError
from ._events import Event, WorkflowStarted
from ._fast_decode import decode_events, fits
from ._jsontext import check_data_limits, decode_utf8, loads, loads_unchecked
from ._kinds import TERMINAL_KINDS
from ._strict import check_event_data, describe_value
from ._validate import validate_events as validate_events

FORMAT = "replay-history"
VERSION = 1
SUPPORTED_VERSIONS = (1,)
_TOP_LEVEL_FIELDS = frozenset({"format", "version", "run_id", "workflow_id", "workflow_type",
                               "events"})


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
        """Decode a parsed document; raises HistoryError naming what is wrong.

        The document must be plain JSON data within the limits of
        :func:`from_json` (nesting depth, integer size).
        """
        check_data_limits(doc, source=source)
        history = cls._from_exact_document(doc, source)
        return history if history is not None else cls._from_document(doc, source)

    @classmethod
    def _from_document(cls, doc: Any, source: str | None) -> History:
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
        if type(version) is not int:
            raise HistoryError(f"'version' must be an integer, got {describe_value(version)}",
                               source=source, rule="version")
        if version not in SUPPORTED_VERSIONS:
            raise HistoryError(
                f"unsupported version {version!r}; this library reads versions "
                f"{', '.join(map(str, SUPPORTED_VERSIONS))}. Upgrade replay-engine to read "
                "newer files.",
                source=source, rule="version",
            )
        extra = set(doc) - _TOP_LEVEL_FIELDS
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
        events = []
        for position, raw in enumerate(raw_events, start=1):
            check_event_data(raw, position=position, source=source)
            events.append(structure_event(raw, source=source))
        history = cls(run_id, events, source=source)
        _check_copies(doc, history, source)
        return history

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str | None = None) -> History:
        """Parse JSON text in the file format (bytes must be UTF-8).

        Refused with HistoryError, never a traceback: bytes that are not
        UTF-8 (the byte offset is named), malformed JSON, nesting deeper than
        128 arrays and objects, integers of more than 4300 digits, values of
        the wrong type, and event sequences that break the history rules.
        """
        decoded = decode_utf8(bytes(text), source=source or "<string>") if isinstance(
            text, bytes | bytearray) else text
        doc = loads_unchecked(decoded)
        # the document is ours alone: its events are consumed as they are decoded
        history = None if doc is None else cls._from_exact_document(doc, source, consume=True)
        if history is None:  # something is wrong: the careful path names it (from the text)
            history = cls._from_document(loads(decoded, source=source), source)
        return history

    @classmethod
    def _from_exact_document(cls, doc: Any, source: str | None, *, consume: bool = False
                             ) -> History | None:
        """The history of a document with nothing wrong in its JSON; ``None`` otherwise.

        One pass: the one-pass event decoders check and build each event, and
        the depth of everything is checked on the parsed data (the same
        nesting the text has). On ``None`` the caller takes the careful path,
        which refuses the document with the message it always gave. Only the
        history rules (and the top-level copies) can refuse it here, with the
        same messages as on the careful path, since the events are the same.
        With ``consume``, the document's ``events`` list is emptied as it is read
        (see :func:`decode_events`): only for a document nobody else holds.
        """
        if (type(doc) is not dict or doc.get("format") != FORMAT
                or not doc.keys() <= _TOP_LEVEL_FIELDS):
            return None
        version, run_id, raw_events = doc.get("version"), doc.get("run_id"), doc.get("events")
        if (type(version) is not int or version not in SUPPORTED_VERSIONS
                or type(run_id) is not str or not run_id or type(raw_events) is not list):
            return None
        for value in doc.values():
            if (type(value) is dict or type(value) is list) and value is not raw_events \
                    and not fits(value, 2):
                return None
        events = decode_events(raw_events, consume=consume)
        if events is None:
            return None
        history = cls(run_id, events, source=source)
        _check_copies(doc, history, source)
        return history

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


def _check_copies(doc: dict[str, Any], history: History, source: str | None) -> None:
    """The top-level workflow id and type, when present, copy WorkflowStarted's."""
    for field in ("workflow_id", "workflow_type"):
        if field not in doc:
            continue
        value, actual = doc[field], getattr(history.started, field)
        if value != actual:
            raise HistoryError(
                f"top-level {field!r} is {value!r} but WorkflowStarted says {actual!r}; "
                "the top-level field is a copy of the first event's",
                source=source, rule="document",
            )
