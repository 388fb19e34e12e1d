"""A table of generated functions, each made on its first lookup.

The codecs generate an encoder and decoders for every event kind. Made at import,
they cost every process about a tenth of a second of start-up, most of it for kinds
the process never meets; made on first use, a process pays for the kinds it handles.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LazyTable(dict[K, V]):
    """``table[key]`` is ``make(key)``, made once, for the keys in ``known``; any other key
    raises KeyError, as a plain dict would. (``get`` and ``in`` see only the values made
    so far: look up with ``[]``.)"""

    def __init__(self, make: Callable[[K], V], known: Collection[K]) -> None:
        super().__init__()
        self._make = make
        self._known = frozenset(known)

    def __missing__(self, key: K) -> V:
        if key not in self._known:
            raise KeyError(key)
        value = self._make(key)
        self[key] = value  # two threads may both make it: the same function either way
        return value
