"""The PostgreSQL driver, kept optional: connection targets, pools and error kinds.

psycopg 3 and psycopg-pool come with the ``postgres`` extra. This module is
the only one that imports them at run time, inside a guard, so that
``replay.history`` imports without them and opening a ``postgresql://`` store
says which extra to install.

A target is a libpq URL (``postgresql://user:password@host:port/db``) with four
query parameters of ours, removed before it reaches libpq: ``schema`` (the
PostgreSQL schema holding the store, default ``replay``), ``pool_size``
(connections per store object, default 8), ``checked`` (``on``, the default: a
commit of runs whose heads the store object knows is one statement, checked by
the server, see ``_postgres_checked``; ``off``: every commit plans under row
locks) and ``pipeline`` (``on``: the commits planned under locks go in psycopg's
pipeline mode, two or three round trips each instead of five or more; default
``off``, which costs less client CPU where a round trip is short, as on one host).
"""

from __future__ import annotations

import urllib.parse
import weakref
from collections.abc import Sequence
from typing import Any

import attrs

from ._errors import StoreError
from ._postgres_schema import DEFAULT_SCHEMA, check_schema_name
from ._store_urls import POSTGRES_SCHEMES

try:
    import psycopg
    import psycopg.errors
    import psycopg_pool
except ImportError as exc:  # the [postgres] extra is not installed
    MISSING: ImportError | None = exc
    DB_ERRORS: tuple[type[Exception], ...] = ()
    RETRYABLE: tuple[type[Exception], ...] = ()
    UNIQUE: tuple[type[Exception], ...] = ()
else:
    MISSING = None
    DB_ERRORS = (psycopg.Error, psycopg_pool.PoolTimeout)
    # A serialization failure or deadlock aborts one transaction, which is then run again.
    RETRYABLE = (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)
    # Another transaction created the same run meanwhile: planning again sees it.
    UNIQUE = (psycopg.errors.UniqueViolation,)

SCHEMES = POSTGRES_SCHEMES
DEFAULT_POOL_SIZE = 8


@attrs.frozen
class Target:
    """Where a PostgreSQL store lives: libpq connection info, schema and pool size.

    ``shown`` is the URL with any password masked, for messages.
    """

    conninfo: str
    schema: str
    pool_size: int
    shown: str
    pipeline: bool = False
    checked: bool = True

    @property
    def channel(self) -> str:
        """The LISTEN/NOTIFY channel of the store's commits."""
        return f"replay_changes_{self.schema}"


_OURS = ("schema", "pool_size", "pipeline", "checked")
_SWITCH = {"on": True, "true": True, "1": True, "off": False, "false": False, "0": False}


def parse_target(url: str, *, schema: str | None = None, pool_size: int | None = None,
                 pipeline: bool | None = None, checked: bool | None = None) -> Target:
    """Split our parameters off a URL; arguments win over the URL's own parameters."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in _OURS}
    rest = [(k, v) for k, v in query if k not in _OURS]
    conninfo = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(rest)))
    shown_netloc = parts.netloc
    if parts.password is not None:
        shown_netloc = shown_netloc.replace(f":{parts.password}@", ":***@", 1)
    shown = urllib.parse.urlunsplit(parts._replace(netloc=shown_netloc,
                                                   query=urllib.parse.urlencode(query)))
    name = check_schema_name(schema or ours.get("schema") or DEFAULT_SCHEMA)
    size = pool_size if pool_size is not None else int(ours.get("pool_size",
                                                                DEFAULT_POOL_SIZE))
    if size < 1:
        raise ValueError(f"pool_size must be at least 1, got {size}")
    if pipeline is None:
        pipeline = _switch(ours, "pipeline", "off")
    if checked is None:
        checked = _switch(ours, "checked", "on")
    return Target(conninfo=conninfo, schema=name, pool_size=size, shown=shown,
                  pipeline=pipeline, checked=checked)


def _switch(ours: dict[str, str], name: str, default: str) -> bool:
    given = ours.get(name, default).lower()
    if given not in _SWITCH:
        raise ValueError(f"{name} must be on or off, got {given!r}")
    return _SWITCH[given]


def require_driver(target: Target) -> None:
    """StoreError naming the extra when psycopg or psycopg-pool is missing."""
    if MISSING is not None:
        raise StoreError(
            "a PostgreSQL store needs psycopg 3 and psycopg-pool, which replay-engine does "
            f"not install by default ({MISSING}). Install the extra: "
            "pip install 'replay-engine[postgres]'", path=target.shown)


#: A session left idle inside a transaction this long (milliseconds) is ended by the
#: server, which releases its locks. Our transactions run their statements back to back;
#: one that stalls is a process that was stopped or cut off mid-commit (a paused VM, a
#: network partition), and its row locks would otherwise hold every other host's commits
#: to those runs for as long as it stays away. Its own commit then fails and is retried.
IDLE_IN_TRANSACTION_TIMEOUT_MS = 15_000


def connect_kwargs(target: Target) -> dict[str, Any]:
    """Session settings of every connection: our schema first, UTC times, autocommit, and
    the idle-in-transaction timeout."""
    return {"autocommit": True,
            "options": f"-c search_path={target.schema} -c TimeZone=UTC "
                       f"-c idle_in_transaction_session_timeout="
                       f"{IDLE_IN_TRANSACTION_TIMEOUT_MS}"}


def open_pool(target: Target, timeout: float) -> psycopg_pool.ConnectionPool[Any]:
    """An open pool of up to ``target.pool_size`` connections, or StoreError."""
    pool: psycopg_pool.ConnectionPool[Any] = psycopg_pool.ConnectionPool(
        target.conninfo, kwargs=connect_kwargs(target), min_size=1,
        max_size=target.pool_size, open=False, timeout=timeout, num_workers=1,
        name=f"replay-{target.schema}")
    try:
        pool.open(wait=True, timeout=timeout)
    except psycopg_pool.PoolTimeout as exc:
        pool.close()
        raise StoreError(f"cannot connect to PostgreSQL within {timeout:g} s: check the "
                         "host, port, user, password and database of the URL", path=target.shown
                         ) from exc
    return pool


def connect(target: Target, timeout: float) -> psycopg.Connection[Any]:
    """One connection outside the pool (the listener's)."""
    return psycopg.connect(target.conninfo, connect_timeout=max(1, int(timeout)),
                           **connect_kwargs(target))


_PREPARED: weakref.WeakKeyDictionary[Any, set[bytes]] = weakref.WeakKeyDictionary()
"""The statements each connection has prepared by :func:`run_prepared`."""


def run_prepared(conn: psycopg.Connection[Any], name: bytes, statement: bytes,
                 params: Sequence[bytes | None]) -> None:
    """Run ``statement`` (``$1``... text parameters, prepared as ``name`` on first use)
    on ``conn``, idle and in autocommit, through libpq directly; psycopg's error for
    a failure.

    For the store's hottest statement: one blocking libpq call instead of psycopg's
    cursor, adaptation and wait loop costs a fraction of the client CPU (which
    bounds a worker's steps per second). The connection stays psycopg's: the call
    leaves it idle, as it found it.
    """
    pgconn = conn.pgconn
    prepared = _PREPARED.setdefault(conn, set())
    for attempt in (1, 2):
        if name not in prepared:
            _checked(conn, pgconn.prepare(name, statement))
            prepared.add(name)
        # libpq takes None for a NULL parameter (psycopg's own calls pass it so)
        result = pgconn.exec_prepared(name, params)  # type: ignore[arg-type]
        if attempt == 1 and _state(result) == _NOT_PREPARED:
            prepared.clear()  # psycopg deallocates every prepared statement after a rollback
            continue
        _checked(conn, result)
        return


_NOT_PREPARED = "26000"
"""SQLSTATE invalid_sql_statement_name: no prepared statement of that name."""


def _state(result: Any) -> str | None:
    from psycopg import pq

    state = result.error_field(pq.DiagnosticField.SQLSTATE)
    return None if state is None else bytes(state).decode()


def _checked(conn: psycopg.Connection[Any], result: Any) -> None:
    from psycopg import pq

    if result.status in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
        return
    if conn.pgconn.status != pq.ConnStatus.OK:
        raise psycopg.OperationalError(
            f"the connection was lost: {conn.pgconn.get_error_message()}")
    raise psycopg.errors.error_from_result(result, encoding=conn.info.encoding)
