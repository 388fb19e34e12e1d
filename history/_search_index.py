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
from ._search_sql import SQLITE, Dialect, compile_where
from ._search_values import SEARCH_ATTRIBUTE_TYPES, IndexRow, index_rows, merged

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
    def cursor(self) -> Any: ...


def row_values(run_id: str, row: IndexRow) -> tuple[Any, ...]:
    """An index row as the table's columns."""
    return (run_id, row.name, row.type, row.position, row.text_value, row.int_value,
            row.float_value)


def rows_of(run_id: str, values: Mapping[str, JsonValue]) -> list[tuple[Any, ...]]:
    """Every index row of a run's stored attributes (None values skipped)."""
    return [row_values(run_id, row) for name, stored in values.items() if stored is not None
            for row in index_rows(name, stored)]


def apply_set(conn: Cursor, mark: str, run_id: str, values: Mapping[str, JsonValue], *,
              fresh: bool = False) -> None:
    """A SetSearchAttributes change: merge into the runs row's JSON, replace the index rows
    (``fresh``: a new run, whose row already holds them and which has no index rows yet)."""
    if fresh:
        insert_rows(conn, mark, rows_of(run_id, values))
        return
    found = conn.execute(f"SELECT search_attributes FROM runs WHERE run_id = {mark}",
                         (run_id,)).fetchone()
    current = json.loads(found[0]) if found is not None and found[0] else {}
    conn.execute(f"UPDATE runs SET search_attributes = {mark} WHERE run_id = {mark}",
                 (dumps(merged(current, values)), run_id))
    names = list(values)
    conn.execute(f"DELETE FROM search_attributes WHERE run_id = {mark} AND name IN "
                 f"({', '.join([mark] * len(names))})", (run_id, *names))
    insert_rows(conn, mark, rows_of(run_id, values))


def insert_rows(conn: Cursor, mark: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert index rows (as :func:`row_values` makes them), in one batch."""
    batch = list(rows)
    if batch:
        marks = ", ".join([mark] * 7)
        conn.cursor().executemany(
            f"INSERT INTO search_attributes ({INDEX_COLUMNS}) VALUES ({marks})", batch)


def known_types(conn: Cursor) -> dict[str, set[str]]:
    """name -> the types the runs of the store used for it."""
    known: dict[str, set[str]] = {}
    for name, type in conn.execute("SELECT DISTINCT name, type FROM search_attributes"
                                   ).fetchall():
        known.setdefault(str(name), set()).add(str(type))
    return known


class SqlAttributeTypes:
    """:class:`~history._search_bind.AttributeTypes` answered by index seeks: one probe
    per (name, type), so binding a query costs the same however many runs there are."""

    def __init__(self, conn: Cursor, mark: str) -> None:
        self.conn = conn
        self.mark = mark

    def types_of(self, name: str) -> list[str]:
        found = []
        for type in SEARCH_ATTRIBUTE_TYPES:
            row = self.conn.execute(
                f"SELECT 1 FROM search_attributes WHERE name = {self.mark} "
                f"AND type = {self.mark} LIMIT 1", (name, type)).fetchone()
            if row is not None:
                found.append(type)
        return found

    def names(self) -> list[str]:
        return sorted(known_types(self.conn))


def bound_query(conn: Cursor, query: str, mark: str) -> Bound:
    """``query`` parsed and bound to this store's attributes (``mark``: the placeholder)."""
    return bind(query, SqlAttributeTypes(conn, mark))


def where_clause(conn: Cursor, query: str, dialect: Dialect) -> tuple[str, list[Any]]:
    """The SQL condition and parameters selecting the runs ``query`` matches."""
    mark = "?" if dialect is SQLITE else "%s"
    return compile_where(bound_query(conn, query, mark), dialect)
