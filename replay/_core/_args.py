"""One argument or many: how the API takes a call's arguments (``arg`` or ``args=[...]``).

Shared by the workflow API and the client, as the familiar SDK spells them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


UNSET: Any = _Unset()
"""The default of a single ``arg`` parameter: no argument was passed."""


def all_args(arg: Any, args: Sequence[Any]) -> list[Any]:
    """The call's arguments from a single ``arg`` or ``args=[...]`` (TypeError if both)."""
    if arg is not UNSET:
        if args:
            raise TypeError("pass either a single `arg` or `args=[...]`, not both")
        return [arg]
    return list(args)
