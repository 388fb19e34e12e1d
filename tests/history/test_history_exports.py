"""history/__init__.py: the public surface is pinned."""

from __future__ import annotations

import replay.history as history


def test_all_is_complete_sorted_and_public() -> None:
    # dir(), not vars(): PostgresStore is loaded on first use (psycopg is optional)
    public = {name for name in dir(history) if not name.startswith("_")} - {"annotations"}
    assert set(history.__all__) == public
    assert history.__all__ == sorted(history.__all__)
    assert not [name for name in history.__all__ if name.startswith("_")]


def test_stores_satisfy_the_protocol(tmp_path: object) -> None:
    memory = history.MemoryStore()
    assert isinstance(memory, history.Store)
    sqlite = history.SqliteStore(f"{tmp_path}/x.db")
    try:
        assert isinstance(sqlite, history.Store)
    finally:
        sqlite.close()
