"""Fixtures of the history tests: every store implementation, on real files and servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from replay.history import MemoryStore, PostgresStore, SqliteStore, Store

STORE_KINDS = ("memory", "sqlite", "postgres")


@pytest.fixture
def make_store(tmp_path: Path, request: pytest.FixtureRequest
               ) -> Iterator[Callable[[str], Store]]:
    """A factory of stores by kind; every store made is closed after the test.

    ``postgres`` stores live in a fresh schema of the session's server (the
    ``postgres_schemas`` fixture drops it afterwards); ``postgres-locked`` ones plan
    every commit under row locks (no checked commits), ``postgres-pipeline`` ones
    too, in psycopg's pipeline mode.
    """
    made: list[Store] = []

    def make(kind: str) -> Store:
        store: Store
        if kind == "memory":
            store = MemoryStore()
        elif kind == "sqlite":
            store = SqliteStore(tmp_path / f"store-{len(made)}.db")
        else:
            url = request.getfixturevalue("postgres_url")
            schema = request.getfixturevalue("postgres_schemas")()
            store = PostgresStore(url, schema=schema, pipeline=kind == "postgres-pipeline",
                                  checked=kind == "postgres")
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture(params=(*STORE_KINDS, "postgres-locked", "postgres-pipeline"))
def store(request: pytest.FixtureRequest, make_store: Callable[[str], Store]) -> Store:
    """Each store implementation in turn (the conformance suite runs against all)."""
    return make_store(request.param)
