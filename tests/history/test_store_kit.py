"""The public store test kit (replay.testing.store_conformance), run against every store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from replay.history import MemoryStore, PostgresStore, SqliteStore, Store
from replay.testing.store_conformance import StoreConformance, StoreFactory, simple_factory


class TestMemoryStore(StoreConformance):
    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        return simple_factory(MemoryStore)


class TestSqliteStore(StoreConformance):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        count = iter(range(10**6))

        def reopen(store: Store) -> Store:
            assert isinstance(store, SqliteStore)
            return SqliteStore(store.path)

        return simple_factory(lambda: SqliteStore(tmp_path / f"kit-{next(count)}.db"), reopen)


class TestPostgresStore(StoreConformance):
    @pytest.fixture
    def store_factory(self, postgres_url: str,
                      postgres_schemas: Callable[[], str]) -> StoreFactory:
        def reopen(store: Store) -> Store:
            assert isinstance(store, PostgresStore)
            return PostgresStore(postgres_url, schema=store.schema)

        return simple_factory(lambda: PostgresStore(postgres_url, schema=postgres_schemas()),
                              reopen)
