"""The engines users would otherwise pick, driven side by side with ours.

Each peer is optional (``pip install -e '.[peers]'``). A section that needs a
missing peer prints one ``SKIPPED`` line saying why and measures what it can
without it; nothing here ever stands in a figure for a peer that did not run.
"""

from __future__ import annotations

import importlib
import statistics
from collections.abc import Callable
from importlib import metadata

from .._harness import Stats

# distribution name -> import name
PEERS: dict[str, str] = {
    "temporalio": "temporalio",
    "dbos": "dbos",
    "llama-index-workflows": "workflows",
}


class Skipped(Exception):
    """A whole section could not run; the message says why."""


def version(dist: str) -> str | None:
    """The installed version of ``dist``, or None."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def unavailable(dist: str) -> str | None:
    """Why peer ``dist`` cannot be used here (None when it imports)."""
    if version(dist) is None:
        return f"{dist} is not installed (pip install -e '.[peers]')"
    try:
        importlib.import_module(PEERS[dist])
    except Exception as exc:  # any import failure (missing native library, ...) skips the peer
        return f"{dist} {version(dist)} is installed but does not import: {exc!r}"
    return None


def skip_line(dist: str, reason: str) -> str:
    """The line printed when a peer is skipped."""
    line = f"   SKIPPED {dist}: {reason}"
    print(line, flush=True)
    return line


def alternate(*sides: Callable[[], float], runs: int = 5, warmup: int = 1) -> list[Stats]:
    """Samples of each side in turn (after ``warmup`` of each), so drift hits all alike."""
    for _ in range(warmup):
        for side in sides:
            side()
    samples: list[list[float]] = [[] for _ in sides]
    for _ in range(max(runs, 1)):
        for side, values in zip(sides, samples, strict=True):
            values.append(side())
    return [Stats(median=statistics.median(v), min=min(v), max=max(v), samples=tuple(v))
            for v in samples]
