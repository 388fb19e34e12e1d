"""Which connection strings name which store: plain string tests, importing no driver.

Kept apart from the PostgreSQL modules so that recognising a ``postgresql://``
URL (``store_from_url``, the CLI's ``--db``) does not import psycopg, which costs
a few hundred milliseconds of start-up to every program on SQLite or memory.
"""

from __future__ import annotations

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
"""The URL schemes of a PostgresStore."""


def is_postgres_url(target: str) -> bool:
    """True for ``postgresql://`` and ``postgres://`` URLs."""
    return target.startswith(POSTGRES_SCHEMES)
