"""The root of the project's error tree and the history layer's errors.

Every error the project raises on purpose derives from :class:`ReplayError` and
carries a stable code (``[RPL-...]``) that ``docs/errors.md`` explains.
"""

from __future__ import annotations


class ReplayError(Exception):
    """Root of every error raised by replay, history and sandbox on purpose."""

    code: str = "RPL-0000"


class InternalError(ReplayError):
    """A state that can only be a bug in replay itself; please report it."""

    code = "RPL-INT01"


class HistoryError(ReplayError):
    """A history (file, JSON text or event sequence) breaks a rule of the format.

    ``source`` names the file or ``"<string>"``; ``event_id`` is the offending
    event where one is known; ``rule`` is a short name of the rule broken.
    """

    code = "RPL-H01"

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        event_id: int | None = None,
        rule: str = "",
    ) -> None:
        where = []
        if source is not None:
            where.append(source)
        if event_id is not None:
            where.append(f"event {event_id}")
        prefix = f"[{self.code}] " + (": ".join(where) + ": " if where else "")
        super().__init__(prefix + message)
        self.source = source
        self.event_id = event_id
        self.rule = rule


class PayloadError(ReplayError):
    """A value cannot be converted to or from a JSON payload.

    ``type_name`` names the offending type and ``path`` where it sits inside
    the value (``$`` is the value itself, ``$.items[2]`` a nested element).
    """

    code = "RPL-P01"

    def __init__(self, message: str, *, type_name: str, path: str) -> None:
        super().__init__(f"[{self.code}] {message}")
        self.type_name = type_name
        self.path = path


class StoreError(ReplayError):
    """A store cannot be opened or used (not ours, newer schema, closed...)."""

    code = "RPL-S01"


class AppendConflictError(ReplayError):
    """A conditional append lost the race: the run's last event id differed.

    Nothing was written. Re-read the run and decide again.
    """

    code = "RPL-S02"

    def __init__(self, run_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"[{self.code}] append to run {run_id!r} expected last event id {expected} "
            f"but the run is at {actual}; another writer appended first. Nothing was "
            "written: re-read the run and retry."
        )
        self.run_id = run_id
        self.expected = expected
        self.actual = actual


class RunNotFoundError(ReplayError):
    """No run with this id exists in the store."""

    code = "RPL-S03"

    def __init__(self, run_id: str) -> None:
        super().__init__(f"[{self.code}] no run with id {run_id!r} in this store")
        self.run_id = run_id
