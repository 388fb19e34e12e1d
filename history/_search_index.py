"""The stores' search-attribute index: applying changes, rebuilding, and running list queries.

Each run's current attributes are kept twice, both derived from its events: as
JSON in the runs index (``runs.search_attributes``, what :class:`RunInfo`
shows) and spread over the rows of the ``search_attributes`` table (one per
value, one per KeywordList element, see :class:`IndexRow`), which is what a
compiled list query reads. The SQL here is shared by SQLite and PostgreSQL;
``mark`` is the back end's placeholder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from ._events import JsonValue
from ._search_bind import Bound, bind
from ._search_sql import Dialect, compile_where
from ._search_values import IndexRow, index_rows, merged

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
dumps = _ENCODER.encode
"""The JSON text of the runs index's ``search_attributes`` column (as the stores' other
JSON columns are written)."""

INDEX_COLUMNS = "run_id, name, type, position, text_value, int_value, float_value"

SQLITE_DDL = (
    """CREATE TABLE search_attributes (
        run_id TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
        position INTEGER NOT NULL, text_value TEXT, int_value INTEGER, float_value REAL,
        PRIMARY KEY (run_id, name, position)) WITHOUT ROWID""",
    "CREATE INDEX search_attributes_text ON search_attributes (name, type, text_value)",
    "CREATE INDEX search_attributes_int ON search_attributes (name, type, int_value)",
    "CREATE INDEX search_attributes_float ON search_attributes (name, type, float_value)",
)
"""The SQLite store's index table (PostgreSQL's is in ``_postgres_schema``)."""


class Cursor(Protocol):
    """The part of a DB-API connection used here (sqlite3 or psycopg)."""

    def execute(self, sql: str, params: Any = ..., /) -> Any: ...


def row_values(run_id: str, row: IndexRow) -> tuple[Any, ...]:
    """An index row as the table's columns."""
    return (run_id, row.name, row.type, row.position, row.text_value, row.int_value,
            row.float_value)


def rows_of(run_id: str, values: Mapping[str, JsonValue]) -> list[tuple[Any, ...]]:
    """Every index row of a run's stored attributes (None values skipped)."""
    return [row_values(run_id, row) for name, stored in values.items() if stored is not None
            for row in index_rows(name, stored)]


def apply_set(conn: Cursor, mark: str, run_id: str, values: Mapping[str, JsonValue]) -> None:
    """A SetSearchAttributes change: merge into the runs row's JSON, replace the index rows."""
    found = conn.execute(f"SELECT search_attributes FROM runs WHERE run_id = {mark}",
                         (run_id,)).fetchone()
    current = json.loads(found[0]) if found is not None and found[0] else {}
    conn.execute(f"UPDATE runs SET search_attributes = {mark} WHERE run_id = {mark}",
                 (dumps(merged(current, values)), run_id))
    for name in values:
        conn.execute(f"DELETE FROM search_attributes WHERE run_id = {mark} AND name = {mark}",
                     (run_id, name))
    insert_rows(conn, mark, rows_of(run_id, values))


def insert_rows(conn: Cursor, mark: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert index rows (as :func:`row_values` makes them)."""
    marks = ", ".join([mark] * 7)
    for row in rows:
        conn.execute(f"INSERT INTO search_attributes ({INDEX_COLUMNS}) VALUES ({marks})", row)


def known_types(conn: Cursor) -> dict[str, set[str]]:
    """name -> the types the runs of the store used for it."""
    known: dict[str, set[str]] = {}
    for name, type in conn.execute("SELECT DISTINCT name, type FROM search_attributes"
                                   ).fetchall():
        known.setdefault(str(name), set()).add(str(type))
    return known


def bound_query(conn: Cursor, query: str) -> Bound:
    """``query`` parsed and bound to this store's attributes."""
    return bind(query, known_types(conn))


def where_clause(conn: Cursor, query: str, dialect: Dialect) -> tuple[str, list[Any]]:
    """The SQL condition and parameters selecting the runs ``query`` matches."""
    return compile_where(bound_query(conn, query), dialect)
