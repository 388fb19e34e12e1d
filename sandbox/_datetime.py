"""Catching ``datetime.now()`` in workflow modules without touching ``datetime`` itself.

``datetime.datetime`` is a C type whose methods cannot be patched, and
replacing the class in the ``datetime`` module would change type identity for
every library in the process. Instead :func:`guard_module` rebinds, in one
workflow module's globals only, the names bound to ``datetime.datetime``,
``datetime.date`` or the ``datetime`` module to thin stand-ins whose ``now``,
``utcnow`` and ``today`` check the guard.

The stand-ins behave like the originals: constructors and class methods
return plain ``datetime.datetime`` / ``datetime.date`` objects, and
``isinstance`` / ``issubclass`` answer as for the real classes. What differs,
in the guarded module only: ``datetime is datetime.datetime`` and
``type(x) is datetime`` are false, and the class's repr names ``sandbox``.
"""

from __future__ import annotations

import datetime as _dt
import sys
import types
from typing import Any

from ._context import _CURRENT, Mode
from ._frames import USER, code_kind, enforce
from ._guard import WRAPPERS, install
from ._rules import BY_CODE

_CLOCK = BY_CODE["RPL-SB01"]


def _check(call: str, depth: int = 2) -> None:
    ctx = _CURRENT.get()
    if ctx is not None and ctx.mode is not Mode.OFF:
        enforce(ctx, _CLOCK, call, sys._getframe(depth))


class _SameAs(type):
    """isinstance/issubclass against a stand-in answer as for the real class."""

    def __instancecheck__(cls, obj: object) -> bool:
        real = cls.__dict__.get("_real")
        return isinstance(obj, real) if real is not None else type.__instancecheck__(cls, obj)

    def __subclasscheck__(cls, sub: type) -> bool:
        real = cls.__dict__.get("_real")
        return issubclass(sub, real) if real is not None else type.__subclasscheck__(cls, sub)


class GuardedDate(_dt.date, metaclass=_SameAs):
    """``datetime.date`` whose ``today()`` checks the guard (see module docstring)."""

    __slots__ = ()
    _real = _dt.date

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is GuardedDate:
            return _dt.date(*args, **kwargs)
        return super().__new__(cls, *args, **kwargs)

    @classmethod
    def today(cls) -> Any:
        """Like ``date.today()``; restricted in workflow code (RPL-SB01)."""
        _check("datetime.date.today")
        return _dt.date.today()


class GuardedDatetime(_dt.datetime, metaclass=_SameAs):
    """``datetime.datetime`` whose ``now``/``utcnow``/``today`` check the guard."""

    __slots__ = ()
    _real = _dt.datetime

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is GuardedDatetime:
            return _dt.datetime(*args, **kwargs)
        return super().__new__(cls, *args, **kwargs)

    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> Any:
        """Like ``datetime.now()``; restricted in workflow code (RPL-SB01)."""
        _check("datetime.datetime.now")
        return _dt.datetime.now(tz)

    @classmethod
    def utcnow(cls) -> Any:
        """Like ``datetime.utcnow()``; restricted in workflow code (RPL-SB01)."""
        _check("datetime.datetime.utcnow")
        return _dt.datetime.utcnow()

    @classmethod
    def today(cls) -> Any:
        """Like ``datetime.today()``; restricted in workflow code (RPL-SB01)."""
        _check("datetime.datetime.today")
        return _dt.datetime.today()


for _cls, _name in ((GuardedDate, "date"), (GuardedDatetime, "datetime")):
    _cls.__module__ = "replay.sandbox"
    _cls.__qualname__ = f"guarded.{_name}"

#: A copy of the ``datetime`` module's namespace with the two stand-ins in it,
#: bound in place of ``import datetime`` (one object shared by all workflow modules).
GUARDED_DATETIME_MODULE = types.ModuleType("datetime", _dt.__doc__)
GUARDED_DATETIME_MODULE.__dict__.update(
    {k: v for k, v in vars(_dt).items() if k not in ("__name__", "__doc__", "__loader__")}
)
GUARDED_DATETIME_MODULE.__dict__.update(datetime=GuardedDatetime, date=GuardedDate)


def _replacement(value: object) -> object | None:
    if value is _dt.datetime:
        return GuardedDatetime
    if value is _dt.date:
        return GuardedDate
    if value is _dt:
        return GUARDED_DATETIME_MODULE
    entry = WRAPPERS.get(id(value))
    if entry is not None and entry[0] is value:
        return entry[1]
    return None


def guard_module(module: types.ModuleType | str) -> tuple[str, ...]:
    """Prepare one workflow module for the guard; returns the global names rebound.

    The engine calls it once per workflow module at registration. It installs
    the guard if needed, then rebinds in ``module``'s globals only: names bound
    to ``datetime.datetime``, ``datetime.date`` or the ``datetime`` module (to
    stand-ins whose ``now``/``utcnow``/``today`` check the guard), and names
    bound to restricted functions imported before :func:`sandbox.install`
    (``from time import time``) to their guarded wrappers. Idempotent.
    Raises ValueError for stdlib and engine modules.
    """
    if isinstance(module, str):
        module = sys.modules[module]
    if code_kind(module.__name__, getattr(module, "__file__", None) or "") != USER:
        raise ValueError(f"guard_module() is for workflow modules, not {module.__name__!r}")
    install()
    namespace = vars(module)
    rebound = []
    for name, value in list(namespace.items()):
        new = _replacement(value)
        if new is not None:
            namespace[name] = new
            rebound.append(name)
    return tuple(sorted(rebound))
