"""Workflow code that names itself after an engine module to slip past the guard.

The guard decides engine-ness by the file a code object comes from, so this
is workflow code like any other (runtime only: it has no workflow class).
"""

from __future__ import annotations

import os
import time

__name__ = "replay._fake"  # the disguise under test


def stamp() -> float:
    return time.time()  # mark: RPL-SB01 runtime-only


def pid() -> int:
    return os.getpid()  # mark: RPL-SB14 runtime-only
