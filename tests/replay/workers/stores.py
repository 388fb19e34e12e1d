"""A client on each store kind (memory, a SQLite file, a PostgreSQL schema), for tests
of behaviour that touches the store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from replay.client import Client
from replay.history import MemoryStore, PostgresStore, SqliteStore, Store

STORE_KINDS = ("memory", "sqlite", "postgres")


def make_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return SqliteStore(tmp_path / "replay.db")
    url = request.getfixturevalue("postgres_url")
    schema = request.getfixturevalue("postgres_schemas")()
    return PostgresStore(url, schema=schema)


@pytest.fixture(params=STORE_KINDS)
async def any_client(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Client]:
    """A client on each store implementation in turn, closed after the test."""
    client = Client(make_store(str(request.param), tmp_path, request))
    try:
        yield client
    finally:
        client.close()
