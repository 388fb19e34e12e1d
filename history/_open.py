"""Opening a store from a URL: the one place that maps connection strings to stores."""

from __future__ import annotations

from ._memory import MemoryStore
from ._sqlite import SqliteStore
from ._store import Store
from ._store_urls import is_postgres_url


def store_from_url(target: str) -> Store | None:
    """The store a URL names, opened; None if it is not a store URL.

    ``memory://`` (a new MemoryStore), ``sqlite:///path/to.db`` or a path
    ending in ``.db`` (a SqliteStore), ``postgresql://...`` or
    ``postgres://...`` (a PostgresStore; ``?schema=`` and ``?pool_size=``
    are read by replay, the rest by libpq).
    """
    if target.startswith("memory://"):
        return MemoryStore()
    if target.startswith("sqlite:///"):
        return SqliteStore(target[len("sqlite:///"):])
    if is_postgres_url(target):
        from ._postgres import PostgresStore  # psycopg is imported only when it is used

        return PostgresStore(target)
    if target.endswith(".db") and "://" not in target:
        return SqliteStore(target)
    return None
