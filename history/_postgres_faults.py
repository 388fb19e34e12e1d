"""What a PostgreSQL error means for the store's user: the one place that classifies them.

* **Passing** faults (:class:`StoreUnavailableError`, ``reason`` the SQLSTATE's
  name): the connection was lost or refused (class 08, or a driver error with
  no SQLSTATE: the server went away mid-statement), the server is shutting
  down or starting (``admin_shutdown``, ``crash_shutdown``,
  ``cannot_connect_now``: a ``pg_terminate_backend`` ends a session with
  ``admin_shutdown``), a serialization failure or deadlock that kept
  recurring, too many connections or other exhausted resources, a lock or
  statement timeout, and a pool with no free connection in time. The
  transaction was rolled back; the same call may succeed later, so workers
  retry them with backoff, as they do SQLite's busy and full-disk faults.
* Everything else (a missing table, a permission, a trigger refusing a change,
  a syntax error) is a plain :class:`StoreError`: waiting does not help.
"""

from __future__ import annotations

from ._errors import StoreError, StoreUnavailableError

#: SQLSTATEs (or their two-character classes) of faults that can clear by themselves.
TRANSIENT_CLASSES = frozenset({"08", "53"})
TRANSIENT_STATES = {
    "57P01": "admin_shutdown", "57P02": "crash_shutdown", "57P03": "cannot_connect_now",
    "40001": "serialization_failure", "40P01": "deadlock_detected",
    "55P03": "lock_not_available", "57014": "query_canceled",
    # the server ended a session left idle inside a transaction (a process stopped or
    # cut off mid-commit, see _postgres_conn.IDLE_IN_TRANSACTION_TIMEOUT_MS)
    "25P03": "idle_in_transaction_session_timeout",
    "53300": "too_many_connections", "53100": "disk_full", "53200": "out_of_memory",
    "08000": "connection_exception", "08003": "connection_does_not_exist",
    "08006": "connection_failure", "08001": "sqlclient_unable_to_establish_sqlconnection",
    "08004": "sqlserver_rejected_establishment_of_sqlconnection",
}

_REMEDY = ("the connection to PostgreSQL was lost, refused or cut short, or the server "
           "was busy; nothing was written. It may clear by itself: retry (a worker does, "
           "with backoff)")


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a driver error, if it has one."""
    state = getattr(exc, "sqlstate", None)
    return state if isinstance(state, str) else None


def transient_reason(exc: BaseException) -> str | None:
    """Why ``exc`` may clear by itself (the SQLSTATE's name, or what was lost), else None."""
    if type(exc).__name__ in ("PoolTimeout", "TimeoutError"):
        return "timeout"
    state = sqlstate(exc)
    if state is None:
        # No SQLSTATE: the driver lost the connection (OperationalError) or it is closed.
        return "connection_lost" if type(exc).__name__ in (
            "OperationalError", "InterfaceError") else None
    if state in TRANSIENT_STATES:
        return TRANSIENT_STATES[state]
    return f"sqlstate_{state}" if state[:2] in TRANSIENT_CLASSES else None


def pg_fault(exc: BaseException, what: str, where: str) -> StoreError:
    """The StoreError for a driver error: StoreUnavailableError if it may pass."""
    reason = transient_reason(exc)
    text = " ".join(str(exc).split()) or type(exc).__name__
    if reason is not None:
        return StoreUnavailableError(f"{what}: PostgreSQL error ({reason}): {text}. {_REMEDY}.",
                                     path=where, reason=reason)
    return StoreError(f"{what}: PostgreSQL error: {text}", path=where)
