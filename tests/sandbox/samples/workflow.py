"""Stands in for ``replay.workflow`` so the samples do not depend on the engine.

The lint recognises ``workflow.defn`` as written, whatever ``workflow`` is.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


def defn(cls: T | None = None, **options: Any) -> Any:
    """Mark a class as a workflow (no-op stand-in)."""
    if cls is None:
        return lambda inner: inner
    return cls


def run(fn: T) -> T:
    """Mark a workflow's run method (no-op stand-in)."""
    return fn
