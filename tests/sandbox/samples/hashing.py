"""hash() in workflow code at run time: salted values are violations, the rest is not.

String, bytes and date hashes are salted per process (PYTHONHASHSEED), so a
value derived from them differs on replay. Ints and tuples of ints are not;
``__hash__`` methods that delegate to ``hash()`` and dict/set keys are fine.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum

import attrs


class Size(enum.Enum):
    SMALL = 1
    LARGE = 2


class Sku:
    """Hashes by its (string) code, as many user classes do."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sku) and other.code == self.code

    def __hash__(self) -> int:
        return hash(self.code)


@dataclasses.dataclass(frozen=True)
class Line:
    sku: str
    quantity: int


@attrs.frozen
class Address:
    city: str
    zip_code: str


def date_hash() -> int:
    return hash(datetime.date(2024, 1, 1))  # mark: RPL-SB15 runtime-only


def nested_tuple_hash() -> int:
    return hash((1, (2, frozenset({"x"}))))  # mark: RPL-SB15 runtime-only


def int_hashes() -> tuple[int, ...]:
    return hash(7), hash((1, 2, 3)), hash(frozenset({1, 2})), hash(2.5), hash(None)


def enum_hash() -> int:
    return hash(Size.SMALL) - hash(Size.SMALL)  # Enum.__hash__ delegates from the stdlib


def keys_with_string_hashes() -> list[object]:
    """Strings, enums and objects hashed by strings as dict keys and set members."""
    prices = {"apple": 1, "pear": 2}
    skus = {Sku("a"): 1, Sku("b"): 2}
    lines = {Line("a", 1), Line("a", 1)}
    addresses = {Address("Paris", "75001"): "home"}
    sizes = {Size.SMALL: "s"}
    return [prices["pear"], skus[Sku("b")], len(lines), addresses[Address("Paris", "75001")],
            sizes[Size.SMALL], hash(Sku("a")) == hash(Sku("a"))]
