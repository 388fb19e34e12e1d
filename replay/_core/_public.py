"""Showing a package's public names as living where users import them from."""

from __future__ import annotations

import inspect
from collections.abc import Mapping

import attrs


def publish(module: str, namespace: Mapping[str, object], *, private: str) -> None:
    """Give the classes and functions listed in ``namespace["__all__"]`` and defined in a
    private module under ``private`` the public ``module`` as their ``__module__``.

    Reprs, tracebacks and pickles then name the path users import from, as trio's
    ``fixup_module_metadata`` does. Errors are left alone: ``replay.exceptions`` is
    their home. An attrs class has its string annotations resolved
    first, while they can still be read in the module that defines them; one that
    cannot be resolved keeps its private home rather than break later.
    """
    names = namespace["__all__"]
    assert isinstance(names, list)
    for name in names:
        obj = namespace[name]
        if not (isinstance(obj, type) or inspect.isfunction(obj)):
            continue
        if isinstance(obj, type) and issubclass(obj, BaseException):
            continue  # every error's public home is replay.exceptions, which sets it
        if not getattr(obj, "__module__", "").startswith(private):
            continue
        if isinstance(obj, type) and attrs.has(obj):
            try:
                attrs.resolve_types(obj)
            except NameError:
                continue
        obj.__module__ = module
