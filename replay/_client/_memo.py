"""A run's memo as a client reads it: a plain dict that also answers the familiar calls.

``describe().memo`` has always been a dict of the recorded (JSON) values;
the familiar SDK reads it with ``await desc.memo()`` and
``await desc.memo_value(key, default, type_hint=...)``. :class:`Memo` is both:
a dict (so ``desc.memo["k"]`` keeps working) that can be called, and
:func:`memo_value` decodes one value into a type with the client's converter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from replay.history import PayloadConverter

from .._core._args import UNSET


class Memo(dict[str, Any]):
    """The memo's recorded values by key; ``await memo()`` returns them as a dict."""

    async def __call__(self) -> dict[str, Any]:
        return dict(self)


def memo_value(memo: Mapping[str, Any], converter: PayloadConverter, key: str,
               default: Any = UNSET, type_hint: Any = None) -> Any:
    """``memo[key]`` decoded into ``type_hint`` (as recorded without one); ``default``
    if the key is missing, else KeyError naming the keys there are."""
    if key not in memo:
        if default is UNSET:
            known = ", ".join(sorted(memo)) or "none"
            raise KeyError(f"the run's memo has no key {key!r} (its keys: {known}); pass a "
                           "default to memo_value() to read an optional key")
        return default
    return converter.from_payload(memo[key], type_hint)
