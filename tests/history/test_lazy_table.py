"""history._lazy_table: a table of functions made on first lookup (the codecs' tables)."""

from __future__ import annotations

import pytest

from replay.history._lazy_table import LazyTable


def test_a_value_is_made_once_on_first_lookup_and_only_for_known_keys() -> None:
    made: list[str] = []

    def make(key: str) -> str:
        made.append(key)
        return key.upper()

    table = LazyTable(make, ["a", "b"])
    assert made == [] and "a" not in table
    assert table["a"] == "A" and table["a"] == "A"
    assert made == ["a"]
    with pytest.raises(KeyError):
        table["c"]
    assert made == ["a"] and dict(table) == {"a": "A"}

