"""What a SQLite error means for the store's user: the one place that classifies them.

* **Passing** faults (:class:`StoreUnavailableError`): another connection held
  the write lock past the busy timeout, the disk is full, an I/O error, no
  memory. The transaction was rolled back and the same call may succeed later,
  so workers retry them with backoff.
* **Corruption** (:class:`StoreCorruptError`): SQLite says the file is
  malformed, or that a file starting with SQLite's header is not a database.
  ``PRAGMA quick_check`` runs on a separate read-only connection and its
  findings go into the message.
* Everything else (a read-only file, a constraint the engine relies on, a
  closed connection) is a plain :class:`StoreError`: it does not clear by waiting.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from ._errors import StoreCorruptError, StoreError, StoreUnavailableError

#: Primary result codes of faults that can clear by themselves.
TRANSIENT = frozenset({
    sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_PROTOCOL,
    sqlite3.SQLITE_CANTOPEN,
})
CORRUPT = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})

SQLITE_HEADER = b"SQLite format 3\x00"
_CHECK_ROWS = 8  # quick_check stops after this many findings
_CHECK_CHARS = 600

_REMEDY = {
    sqlite3.SQLITE_BUSY: "another connection held the write lock longer than the busy "
                         "timeout; retry, or raise busy_timeout_ms",
    sqlite3.SQLITE_LOCKED: "a table was locked by another statement; retry",
    sqlite3.SQLITE_FULL: "the disk (or the file system holding the store) is full; free "
                         "space and retry",
    sqlite3.SQLITE_IOERR: "the operating system reported an I/O error; check the disk "
                          "and retry",
    sqlite3.SQLITE_CANTOPEN: "the file (or its -wal/-shm companion) cannot be opened now; "
                             "check that its folder exists and is writable, and retry",
}


def primary_code(exc: BaseException) -> int | None:
    """SQLite's primary result code of ``exc`` (None if SQLite did not raise it)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_transient(exc: BaseException) -> bool:
    """True if ``exc`` is a SQLite fault that may clear by itself."""
    return primary_code(exc) in TRANSIENT


def has_sqlite_header(path: Path) -> bool:
    """True if the file starts with SQLite's 16-byte header."""
    try:
        with path.open("rb") as f:
            return f.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def quick_check(path: Path) -> str:
    """What ``PRAGMA quick_check`` says about the file (read-only), as one line."""
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error as exc:
        return f"PRAGMA quick_check could not open the file: {exc}"
    try:
        found = [line.strip() for r in conn.execute(f"PRAGMA quick_check({_CHECK_ROWS})")
                 for line in str(r[0]).splitlines() if line.strip()]
    except sqlite3.Error as exc:
        return f"PRAGMA quick_check could not run: {exc}"
    finally:
        with contextlib.suppress(sqlite3.Error):
            conn.close()
    text = "PRAGMA quick_check found: " + ("; ".join(found) or "nothing")
    return text if len(text) <= _CHECK_CHARS else text[:_CHECK_CHARS] + "..."


def corrupt_error(path: Path, exc: BaseException) -> StoreCorruptError:
    """A StoreCorruptError with the quick_check findings in its message."""
    check = quick_check(path)
    return StoreCorruptError(
        f"the store file is corrupt: SQLite reports {str(exc)!r}; {check}. Nothing more was "
        "written. Stop every process using it, restore the file from a backup (or salvage "
        "what is readable with `sqlite3 FILE .recover`), then start again.",
        path=str(path), check=check)


def store_fault(path: Path, exc: sqlite3.Error, doing: str = "SQLite error") -> StoreError:
    """The store error for a SQLite error raised while ``doing`` something with the file.

    Passing faults become StoreUnavailableError, damaged files StoreCorruptError
    (with quick_check's findings), anything else StoreError.
    """
    code = primary_code(exc)
    name = getattr(exc, "sqlite_errorname", "") or type(exc).__name__
    if code in CORRUPT and (code == sqlite3.SQLITE_CORRUPT or has_sqlite_header(path)):
        return corrupt_error(path, exc)
    if code in TRANSIENT:
        remedy = _REMEDY.get(code, "retry")
        return StoreUnavailableError(
            f"{doing}: {exc} ({name}): the store is unavailable for now; nothing was "
            f"written. {remedy[0].upper()}{remedy[1:]}.", path=str(path), reason=name)
    if code == sqlite3.SQLITE_READONLY:
        return StoreError(
            f"{doing}: {exc} ({name}): the store file (or its folder) is read-only for this "
            "process. Nothing was written. Make it writable by this user, or point the "
            "store at another file.", path=str(path))
    return StoreError(f"{doing}: {exc}" + (f" ({name})" if code is not None else ""),
                      path=str(path))
