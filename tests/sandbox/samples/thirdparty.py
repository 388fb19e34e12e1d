"""Plays a third-party library that reads the clock for its own purposes.

Its calls count as workflow code unless it is listed in
``GuardContext.passthrough_modules``.
"""

from __future__ import annotations

import time


def timestamped(value: str) -> tuple[str, float]:
    return value, time.time()  # mark: RPL-SB01 runtime-only
