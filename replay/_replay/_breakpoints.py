"""Breakpoints of the replay debugger, and how one is checked when it is set.

A breakpoint names an event id, an event kind or a ``file:line``. It is
checked against the history and the code when it is set, so that one that can
never stop is refused with a reason instead of being silently ignored:

* an event id must be one of the history's events;
* an event kind must be a kind of event (``replay.history.EVENT_KINDS``);
* a ``file:line`` must be a line that issues a command in this history. Which
  lines do is learnt by replaying the whole history once (see
  :class:`CommandLines`): a ``file:line`` breakpoint stops exactly at the
  command events whose location is that line, so the set of locations a replay
  gives is the set of ``file:line`` breakpoints that can stop, no more and no
  less. A reading of the source cannot know that: a command may come from a
  helper in another module, from a wrapper, or from a branch this run never took.
"""

from __future__ import annotations

import bisect
import difflib
import linecache
import os
import sys
from collections.abc import Iterable

import attrs

from replay.history import EVENT_KINDS, Event

USAGE = ("a breakpoint is an event id (12), an event kind (TimerStarted) "
         "or file:line (workflows.py:42)")

KIND_NAMES = sorted(EVENT_KINDS)


class BreakpointError(ValueError):
    """A breakpoint that cannot be set: unreadable, or one that could never stop.

    ``nearest`` holds, for a ``file:line`` that issues no command, the nearest
    ``(file, line)`` locations that do.
    """

    def __init__(self, message: str, spec: str,
                 nearest: Iterable[tuple[str, int]] = ()) -> None:
        super().__init__(message)
        self.spec = spec
        self.nearest = list(nearest)


@attrs.frozen
class Breakpoint:
    """Where to stop: an event ``kind`` name, an ``event_id``, or a ``file:line``.

    A ``file:line`` breakpoint stops at each command event issued by that line
    (``file`` matches the end of the path, so a base name is enough).
    """

    kind: str | None = None
    event_id: int | None = None
    file: str | None = None
    line: int | None = None

    @classmethod
    def parse(cls, spec: str | int) -> Breakpoint:
        """``7`` (event id), ``TimerStarted`` (kind) or ``workflows.py:42`` (file:line).

        Raises :class:`BreakpointError` (a ``ValueError``) with the usage for
        anything else.
        """
        if isinstance(spec, int):
            return cls(event_id=spec)
        text = spec.strip()
        if text.isdigit():
            return cls(event_id=int(text))
        path, sep, line = text.rpartition(":")
        if sep and path and line.isdigit():
            return cls(file=path, line=int(line))
        if not text.isidentifier():
            raise BreakpointError(f"cannot read breakpoint {spec!r}: {USAGE}", str(spec))
        return cls(kind=text)

    def hit(self, event: Event, location: tuple[str, int] | None) -> bool:
        if self.event_id is not None:
            return event.event_id == self.event_id
        if self.kind is not None:
            return type(event).__name__.lower() == self.kind.lower()
        if location is None or self.file is None:
            return False
        file, line = location
        return line == self.line and same_file(file, self.file)

    def __str__(self) -> str:
        if self.event_id is not None:
            return f"event {self.event_id}"
        if self.kind is not None:
            return self.kind
        return f"{self.file}:{self.line}"


@attrs.frozen
class CommandLines:
    """The lines of code that issue commands in a replay of one history.

    ``lines`` maps each file to its sorted command-issuing lines. ``complete``
    is False when the replay stopped early (it diverged at ``stopped_at``):
    lines that would issue later commands are then unknown.
    """

    lines: dict[str, list[int]]
    complete: bool = True
    stopped_at: int | None = None

    @classmethod
    def of(cls, locations: Iterable[tuple[str, int] | None], *, stopped_at: int | None = None
           ) -> CommandLines:
        found: dict[str, set[int]] = {}
        for loc in locations:
            if loc is not None:
                found.setdefault(loc[0], set()).add(loc[1])
        return cls({f: sorted(found[f]) for f in sorted(found)}, stopped_at is None,
                   stopped_at)

    def files_matching(self, wanted: str) -> list[str]:
        return [f for f in self.lines if same_file(f, wanted)]

    def nearest(self, wanted: str, line: int, count: int = 2) -> list[tuple[str, int]]:
        """Up to ``count`` command lines nearest to ``line`` in the files ``wanted`` names."""
        near: list[tuple[int, str, int]] = []
        for file in self.files_matching(wanted):
            lines = self.lines[file]
            at = bisect.bisect_left(lines, line)
            near += [(abs(n - line), file, n) for n in lines[max(0, at - count):at + count]]
        return sorted((f, n) for _, f, n in sorted(near)[:count])


def check(bp: Breakpoint, events: int, commands: CommandLines | None = None) -> None:
    """Raise :class:`BreakpointError` if ``bp`` could never stop in a history of
    ``events`` events whose replay issues ``commands`` (needed for ``file:line``)."""
    if bp.event_id is not None:
        if not 1 <= bp.event_id <= events:
            raise BreakpointError(
                f"there is no event {bp.event_id}: this history holds events 1 to {events}",
                str(bp))
    elif bp.kind is not None:
        _check_kind(bp.kind)
    elif bp.file is not None and bp.line is not None and commands is not None:
        _check_line(bp.file, bp.line, commands)


def _check_kind(kind: str) -> None:
    if kind.lower() in (k.lower() for k in KIND_NAMES):
        return
    close = difflib.get_close_matches(kind, KIND_NAMES, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise BreakpointError(f"unknown event kind {kind!r}{hint} ({USAGE})", kind)


def _check_line(file: str, line: int, commands: CommandLines) -> None:
    spec = f"{file}:{line}"
    matching = commands.files_matching(file)
    if any(line in commands.lines[f] for f in matching):
        return
    unknown = not matching and not any(same_file(f, file) for f in loaded_files())
    after = ("" if commands.complete else
             f" (the replay diverges at event {commands.stopped_at}: lines of later "
             "commands are not known)")
    if unknown:
        issuing = ", ".join(os.path.basename(f) for f in commands.lines) or "none"
        raise BreakpointError(
            f"unknown file {file!r}: no module of the loaded code is that file "
            f"(files that issue commands in this history: {issuing}){after}", spec)
    nearest = commands.nearest(file, line)
    if nearest:
        shown = "\n".join(f"  {short_path(f)}:{n}: {linecache.getline(f, n).strip()}"
                          for f, n in nearest)
        raise BreakpointError(f"{spec} issues no command in this history{after}; the "
                              f"nearest lines that do:\n{shown}", spec, nearest)
    raise BreakpointError(f"{spec} issues no command in this history: no line of "
                          f"{file} does{after}", spec)


def loaded_files() -> list[str]:
    """The files of the modules loaded now (where workflow code can come from)."""
    return [f for m in list(sys.modules.values())
            if isinstance(f := getattr(m, "__file__", None), str)]


def same_file(actual: str, wanted: str) -> bool:
    """Does path ``actual`` end with ``wanted`` (whole path components)?"""
    a = os.path.normpath(actual)
    w = os.path.normpath(wanted)
    return a == w or a.endswith(os.sep + w.lstrip(os.sep))


def short_path(file: str) -> str:
    """``file`` relative to the working directory when it lies below it."""
    try:
        rel = os.path.relpath(file)
    except ValueError:
        rel = file
    return rel if not rel.startswith("..") else file
