"""The engines users would otherwise pick, driven side by side with ours.

Each peer is optional (``pip install -e '.[peers]'``). A section that needs a
missing peer prints one ``SKIPPED`` line saying why and measures what it can
without it; nothing here ever stands in a figure for a peer that did not run.
"""

from __future__ import annotations

import importlib
from importlib import metadata

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
