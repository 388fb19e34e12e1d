"""Fixtures of the history tests: every store implementation, on real files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from replay.history import MemoryStore, SqliteStore, Store

STORE_KINDS = ("memory", "sqlite")


@pytest.fixture
def make_store(tmp_path: Path) -> Iterator[Callable[[str], Store]]:
    """A factory of stores by kind; every store made is closed after the test."""
    made: list[Store] = []

    def make(kind: str) -> Store:
        store: Store = MemoryStore() if kind == "memory" else SqliteStore(
            tmp_path / f"store-{len(made)}.db")
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, make_store: Callable[[str], Store]) -> Store:
    """Each store implementation in turn (the conformance suite runs against all)."""
    return make_store(request.param)
