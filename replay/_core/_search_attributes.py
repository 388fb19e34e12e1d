"""Typed search attributes: keys, pairs, a run's set of them, and updates (``replay.common``).

The familiar SDK's names and behaviour: a :class:`SearchAttributeKey` has a
name and an indexed value type (``SearchAttributeKey.for_keyword("Customer")``);
:class:`TypedSearchAttributes` is an immutable collection of
:class:`SearchAttributePair`; ``key.value_set(v)`` / ``key.value_unset()`` make
the :class:`SearchAttributeUpdate` that ``workflow.upsert_search_attributes``
takes. Values are checked against their key's type when they are recorded
(a start, an upsert, a child, a continue-as-new): a value that does not fit
raises ``SearchAttributeError`` naming the key, and nothing is written.

The history keeps them as ``name -> {"type": ..., "value": ...}`` (see
``replay.history``); :func:`encode_attributes`, :func:`encode_updates` and
:func:`decode_attributes` convert.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar, overload

import attrs

from replay.history import (
    JsonValue,
    check_search_attribute_name,
    decode_search_attribute,
    encode_search_attribute,
)

T = TypeVar("T")
D = TypeVar("D")


class SearchAttributeIndexedValueType(enum.IntEnum):
    """How a search attribute is indexed (the familiar SDK's numbering)."""

    TEXT = 1
    KEYWORD = 2
    INT = 3
    DOUBLE = 4
    BOOL = 5
    DATETIME = 6
    KEYWORD_LIST = 7


_TYPE_NAMES: dict[SearchAttributeIndexedValueType, str] = {
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DOUBLE: "Float",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}
_BY_NAME = {v: k for k, v in _TYPE_NAMES.items()}


@attrs.frozen
class SearchAttributeKey(Generic[T]):
    """A search attribute's name and type; make one with a ``for_*`` constructor."""

    name: str
    indexed_value_type: SearchAttributeIndexedValueType
    value_type: type = attrs.field(eq=False, repr=False)

    @property
    def type_name(self) -> str:
        """The type as histories and list queries spell it (``Keyword``, ``Float``...)."""
        return _TYPE_NAMES[self.indexed_value_type]

    @staticmethod
    def _make(name: str, kind: SearchAttributeIndexedValueType, value_type: type
              ) -> SearchAttributeKey[Any]:
        return SearchAttributeKey(check_search_attribute_name(name), kind, value_type)

    @staticmethod
    def for_text(name: str) -> SearchAttributeKey[str]:
        """A Text attribute (a string; list queries compare it whole)."""
        return SearchAttributeKey._make(name, SearchAttributeIndexedValueType.TEXT, str)

    @staticmethod
    def for_keyword(name: str) -> SearchAttributeKey[str]:
        """A Keyword attribute (a string compared exactly)."""
        return SearchAttributeKey._make(name, SearchAttributeIndexedValueType.KEYWORD, str)

    @staticmethod
    def for_int(name: str) -> SearchAttributeKey[int]:
        """An Int attribute (a 64-bit integer)."""
        return SearchAttributeKey._make(name, SearchAttributeIndexedValueType.INT, int)

    @staticmethod
    def for_float(name: str) -> SearchAttributeKey[float]:
        """A Float attribute (a finite float)."""
        return SearchAttributeKey._make(name, SearchAttributeIndexedValueType.DOUBLE, float)

    @staticmethod
    def for_bool(name: str) -> SearchAttributeKey[bool]:
        """A Bool attribute."""
        return SearchAttributeKey._make(name, SearchAttributeIndexedValueType.BOOL, bool)

    @staticmethod
    def for_datetime(name: str) -> SearchAttributeKey[datetime]:
        """A Datetime attribute (an aware datetime; stored in UTC to the microsecond)."""
        return SearchAttributeKey._make(name, SearchAttributeIndexedValueType.DATETIME,
                                        datetime)

    @staticmethod
    def for_keyword_list(name: str) -> SearchAttributeKey[Sequence[str]]:
        """A KeywordList attribute (a list of strings; ``= v`` in a query means "contains")."""
        return SearchAttributeKey._make(name, SearchAttributeIndexedValueType.KEYWORD_LIST,
                                        list)

    @staticmethod
    def for_type_name(name: str, type_name: str) -> SearchAttributeKey[Any]:
        """The key of ``name`` with a type as histories spell it (``"Keyword"``...)."""
        kind = _BY_NAME.get(type_name)
        if kind is None:
            raise ValueError(f"unknown search attribute type {type_name!r}; the types are "
                             + ", ".join(_BY_NAME))
        value_type = {"Text": str, "Keyword": str, "Int": int, "Float": float, "Bool": bool,
                      "Datetime": datetime, "KeywordList": list}[type_name]
        return SearchAttributeKey._make(name, kind, value_type)

    def value_set(self, value: T) -> SearchAttributeUpdate[T]:
        """An update that sets this attribute to ``value``."""
        return SearchAttributeUpdate(self, value)

    def value_unset(self) -> SearchAttributeUpdate[T]:
        """An update that removes this attribute from the run."""
        return SearchAttributeUpdate(self, None)


@attrs.frozen
class SearchAttributePair(Generic[T]):
    """A key and its value."""

    key: SearchAttributeKey[T]
    value: T


@attrs.frozen
class SearchAttributeUpdate(Generic[T]):
    """Set (``value``) or remove (``value is None``) one attribute: ``key.value_set(v)``,
    ``key.value_unset()``."""

    key: SearchAttributeKey[T]
    value: T | None


class TypedSearchAttributes(Sequence[SearchAttributePair[Any]]):
    """A run's search attributes: an immutable sequence of pairs, one per name.

    ``attrs[key]`` gives a value (KeyError if absent), ``attrs.get(key, default)``,
    ``key in attrs``; ``updated(*pairs)`` a copy with pairs replaced or added.
    """

    empty: ClassVar[TypedSearchAttributes]

    def __init__(self, search_attributes: Sequence[SearchAttributePair[Any]] = ()) -> None:
        pairs = list(search_attributes)
        seen: set[str] = set()
        for pair in pairs:
            if not isinstance(pair, SearchAttributePair):
                raise TypeError("TypedSearchAttributes takes SearchAttributePair values, got "
                                f"{type(pair).__name__}")
            if pair.key.name in seen:
                raise ValueError(f"search attribute {pair.key.name!r} appears twice")
            seen.add(pair.key.name)
        self.search_attributes: tuple[SearchAttributePair[Any], ...] = tuple(pairs)

    def __len__(self) -> int:
        return len(self.search_attributes)

    @overload
    def __getitem__(self, index: int) -> SearchAttributePair[Any]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[SearchAttributePair[Any]]: ...
    @overload
    def __getitem__(self, index: SearchAttributeKey[T]) -> T: ...
    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, SearchAttributeKey):
            for pair in self.search_attributes:
                if pair.key == index:
                    return pair.value
            raise KeyError(f"no search attribute {index.name!r} of type {index.type_name}")
        return self.search_attributes[index]

    def __iter__(self) -> Iterator[SearchAttributePair[Any]]:
        return iter(self.search_attributes)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, SearchAttributePair):
            return key in self.search_attributes
        return any(pair.key == key for pair in self.search_attributes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TypedSearchAttributes):
            return NotImplemented
        return _by_name(self) == _by_name(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TypedSearchAttributes({list(self.search_attributes)!r})"

    def get(self, key: SearchAttributeKey[T], default: D | None = None) -> T | D | None:
        """The value of ``key``, or ``default``."""
        try:
            return self[key]
        except KeyError:
            return default

    def updated(self, *search_attributes: SearchAttributePair[Any]) -> TypedSearchAttributes:
        """A copy with these pairs replacing those of the same name (or added)."""
        names = {pair.key.name for pair in search_attributes}
        kept = [pair for pair in self.search_attributes if pair.key.name not in names]
        return TypedSearchAttributes([*kept, *search_attributes])


TypedSearchAttributes.empty = TypedSearchAttributes()


# --- to and from the history's form ------------------------------------------------------------


def _by_name(attributes: TypedSearchAttributes) -> dict[str, tuple[Any, Any]]:
    return {pair.key.name: (pair.key, pair.value) for pair in attributes}


def encode_attributes(attributes: TypedSearchAttributes | None) -> dict[str, JsonValue]:
    """The stored form of a set of attributes (each value checked against its key)."""
    if attributes is None:
        return {}
    if not isinstance(attributes, TypedSearchAttributes):
        raise TypeError(
            "search_attributes must be TypedSearchAttributes([...]) (e.g. TypedSearchAttributes("
            "[SearchAttributePair(SearchAttributeKey.for_keyword('Customer'), 'acme')])), got "
            f"{type(attributes).__name__}; the untyped mapping form is not supported")
    return {pair.key.name: encode_search_attribute(pair.key.name, pair.key.type_name,
                                                   pair.value)
            for pair in attributes}


def encode_updates(updates: Sequence[SearchAttributeUpdate[Any]]) -> dict[str, JsonValue]:
    """The stored form of updates: a value per set attribute, None per removed one."""
    if isinstance(updates, (Mapping, TypedSearchAttributes)) or not isinstance(
            updates, Sequence):
        raise TypeError(
            "upsert_search_attributes takes a list of updates, e.g. "
            "[SearchAttributeKey.for_keyword('Customer').value_set('acme')], got "
            f"{type(updates).__name__}")
    encoded: dict[str, JsonValue] = {}
    for update in updates:
        if not isinstance(update, SearchAttributeUpdate):
            raise TypeError("upsert_search_attributes takes SearchAttributeUpdate values "
                            "(key.value_set(v), key.value_unset()), got "
                            f"{type(update).__name__}")
        key = update.key
        encoded[key.name] = (None if update.value is None else encode_search_attribute(
            key.name, key.type_name, update.value))
    return encoded


def decode_attributes(stored: Mapping[str, JsonValue]) -> TypedSearchAttributes:
    """Typed attributes from their stored form (names in sorted order)."""
    if not stored:
        return TypedSearchAttributes.empty  # immutable: one for every run without any
    pairs: list[SearchAttributePair[Any]] = []
    for name in sorted(stored):
        type_name, value = decode_search_attribute(name, stored[name])
        pairs.append(SearchAttributePair(SearchAttributeKey.for_type_name(name, type_name),
                                         value))
    return TypedSearchAttributes(pairs)


def untyped_attributes(stored: Mapping[str, JsonValue]) -> dict[str, list[Any]]:
    """The familiar SDK's older untyped form: name -> list of values."""
    result: dict[str, list[Any]] = {}
    for name in sorted(stored):
        _, value = decode_search_attribute(name, stored[name])
        result[name] = list(value) if isinstance(value, list) else [value]
    return result
