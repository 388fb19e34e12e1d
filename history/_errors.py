"""The root of the project's error tree and the history layer's errors.

Every error the project raises on purpose derives from :class:`ReplayError` and
carries a stable code (``[RPL-...]``) that ``docs/errors.md`` explains. The
whole tree is drawn in ``replay/exceptions.py``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ReplayError(Exception):
    """Root of every error raised by replay, history and sandbox on purpose.

    The message is ``[CODE] text``: the prefix is built here, once, from the
    class attribute ``code``, so ``.code`` and the message always agree.
    Subclasses pass only the text, and keep what they describe as fields.
    ``code=`` overrides the class's code for an error whose code varies per
    instance (the engine's RestrictedCallError: one code per sandbox rule).
    Errors whose message is the user's own (failures) set ``shows_code`` to
    False and keep their text as it is.
    """

    code: str = "RPL-0000"
    #: Whether the message starts with ``[CODE]`` (False only for failures).
    shows_code: ClassVar[bool] = True

    def __init__(self, message: str, *, code: str | None = None) -> None:
        if code is not None:
            self.code = code
        super().__init__(f"[{self.code}] {message}" if self.shows_code else message)

    def __reduce__(self) -> tuple[Any, ...]:
        # Constructors differ per class (keyword-only fields), so unpickling must not
        # call them: rebuild from the formatted args, then restore the fields.
        state = dict(vars(self))
        if self.__cause__ is not None:
            state["__cause__"] = self.__cause__
        return (_rebuild, (type(self), self.args), state)


def _rebuild(cls: type[ReplayError], args: tuple[Any, ...]) -> ReplayError:
    """An instance of ``cls`` with ``args``, without calling its ``__init__``."""
    return cls.__new__(cls, *args)


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
        super().__init__((": ".join(where) + ": " if where else "") + message)
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
        super().__init__(message)
        self.type_name = type_name
        self.path = path


class StoreError(ReplayError):
    """A store cannot be opened or used (not ours, newer schema, closed...).

    ``path`` names the store's file when there is one; the message starts with it.
    """

    code = "RPL-S01"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message if path is None else f"{path}: {message}")
        self.path = path


class StoreUnavailableError(StoreError):
    """A passing store fault: the store cannot be read or written *right now*.

    Another connection held the write lock past the busy timeout, the disk is
    full, or the operating system reported an I/O error. Nothing was written
    (the transaction was rolled back). ``reason`` is SQLite's error name
    (``SQLITE_BUSY``, ``SQLITE_FULL``, ``SQLITE_IOERR_WRITE``...). The fault may
    clear by itself: retry later. A worker does, with capped backoff.
    """

    code = "RPL-S07"

    def __init__(self, message: str, *, path: str | None = None, reason: str = "") -> None:
        super().__init__(message, path=path)
        self.reason = reason


class StoreCorruptError(StoreError):
    """The store's file is damaged: SQLite found malformed pages or a broken header.

    ``check`` holds what ``PRAGMA quick_check`` reported (or why it could not
    run). Retrying cannot help: restore the file from a backup.
    """

    code = "RPL-S08"

    def __init__(self, message: str, *, path: str | None = None, check: str = "") -> None:
        super().__init__(message, path=path)
        self.check = check


class AppendConflictError(ReplayError):
    """A conditional append lost the race: the run's last event id differed.

    Nothing was written. Re-read the run and decide again.
    """

    code = "RPL-S02"

    def __init__(self, run_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"append to run {run_id!r} expected last event id {expected} "
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
        super().__init__(f"no run with id {run_id!r} in this store")
        self.run_id = run_id


# Public home: replay.history (re-exported by replay.exceptions, which draws the tree).
for _cls in (ReplayError, InternalError, HistoryError, PayloadError, StoreError,
             StoreUnavailableError, StoreCorruptError, AppendConflictError, RunNotFoundError):
    _cls.__module__ = "replay.history"
del _cls
