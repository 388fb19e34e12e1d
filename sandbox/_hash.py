"""``hash()`` of strings in workflow code: a builtin swapped in only while the guard is on.

``hash()`` of ``str``, ``bytes``, ``memoryview`` and ``date``/``datetime``/``time``
(and of tuples and frozensets holding any of these) is salted per process, so a
value derived from it differs between a run and its replay. Dicts and sets hash
their keys through the type's slot, never through ``builtins.hash``, so the
only callers of the builtin are explicit ``hash(x)`` calls and Python
``__hash__`` methods delegating to it (``Enum``, attrs and dataclass classes).
The guard therefore puts a wrapper in ``builtins`` while at least one
:class:`sandbox.guarded` block is open and puts the original back when the
last one closes: code outside workflow activations never pays for it.

A call is a violation when workflow code makes it directly with a salted value.
Calls from a ``__hash__`` method are allowed: they compute an object's own
hash for a dict or set, where only iteration order could leak it (the lint's
RPL-SB16 covers iterating a set).
"""

from __future__ import annotations

import builtins
import datetime
import enum
import functools
import sys
from collections.abc import Callable
from typing import Any

from ._context import _CURRENT, Mode
from ._frames import blame, report, short_repr
from ._rules import BY_CODE

_OFF = Mode.OFF
_SALTED = (str, bytes, memoryview, datetime.date, datetime.time)
_CONTAINERS = (tuple, frozenset)
#: Exact types answered by one set lookup (most calls): never salted, or always.
_PLAIN = frozenset({int, float, bool, complex, type(None)})
_SALTED_EXACT = frozenset({str, bytes, memoryview, datetime.date, datetime.datetime})


def salted(value: object) -> bool:
    """True when ``hash(value)`` depends on the process's hash seed (see module docstring).

    Enum members are not reported: ``Enum.__hash__`` hashes the member's name,
    which is salted too, but an enum is the usual dict key and its hash is rarely
    taken for a value of its own.
    """
    cls = type(value)
    if cls in _PLAIN:
        return False
    if cls in _SALTED_EXACT:
        return True
    if isinstance(value, _CONTAINERS):
        if _PLAIN.issuperset(map(type, value)):  # tuples of numbers: no Python-level loop
            return False
        return any(map(salted, value))
    return isinstance(value, _SALTED) and not isinstance(value, enum.Enum)


def guarded_hash(original: Callable[[object], int]) -> Callable[[object], int]:
    """The wrapper put in place of ``builtins.hash`` while the guard is on."""
    get, getframe, rule, plain = _CURRENT.get, sys._getframe, BY_CODE["RPL-SB15"], _PLAIN

    @functools.wraps(original)  # named hash in tracebacks and reprs, like the builtin
    def wrapper(obj: object, /) -> int:
        ctx = get()
        if ctx is not None and ctx.mode is not _OFF and type(obj) not in plain:
            caller = getframe(1)
            # a __hash__ method delegating (Enum, attrs, dataclasses) is checked first:
            # it is the common caller, and cheaper to recognise than a tuple to walk
            if caller.f_code.co_name != "__hash__" and salted(obj):
                culprit = blame(caller, ctx, False)
                if culprit is not None:
                    report(ctx, rule, "hash", culprit, f"({short_repr(obj)})")
        return original(obj)

    return wrapper


class BuiltinSwap:
    """Keeps a wrapper in ``builtins`` while at least one guarded block is open.

    :class:`sandbox.guarded` calls ``open()`` on entry and ``close()`` on exit.
    The open blocks are counted in a list, whose ``append`` and ``pop`` are
    atomic, instead of under a lock, which would double the cost of entering a
    block. Threads opening and closing blocks at the same instant can at worst
    leave the wrapper in place with no block open (harmless: it checks the
    guard) or, between two statements of ``close()``, let one ``hash()`` call
    in the other thread go unchecked. A builtin replaced while a block is open
    (by a test's monkeypatch, say) is left as it is when the last one closes.
    """

    __slots__ = ("_blocks", "_builtins", "_name", "_original", "_wrapper")

    def __init__(self, name: str, wrap: Callable[[Any], Callable[..., Any]]) -> None:
        self._builtins = vars(builtins)  # dict operations: cheaper than getattr/setattr
        self._name = name
        self._original = self._builtins[name]
        self._wrapper = wrap(self._original)
        self._blocks: list[None] = []

    @property
    def wrapper(self) -> Callable[..., Any]:
        """The function in ``builtins`` while the guard is on."""
        return self._wrapper

    def open(self) -> None:
        self._blocks.append(None)
        if self._builtins[self._name] is not self._wrapper:
            self._builtins[self._name] = self._wrapper

    def close(self) -> None:
        blocks, namespace, name = self._blocks, self._builtins, self._name
        if not blocks:  # a block entered before install() set the hooks
            return
        blocks.pop()
        if not blocks and namespace[name] is self._wrapper:
            namespace[name] = self._original
            if blocks:  # another thread opened one meanwhile
                namespace[name] = self._wrapper
