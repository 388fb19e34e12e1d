"""``# noqa`` suppression (lint only).

Ruff warns that ``RPL-SB01`` is not one of its codes, and ignores those comments.
"""

# ruff: noqa: RUF100

from __future__ import annotations

import random
import time

from . import workflow


@workflow.defn
class Suppressed:
    async def run(self) -> tuple[float, ...]:
        a = time.time()  # noqa
        b = time.time()  # noqa: RPL-SB01
        c = time.time() + random.random()  # noqa: RPL-SB01, RPL-SB03
        d = time.time()  # noqa: RPL-SB03  # mark: RPL-SB01
        e = time.time()  # NOQA:rpl-sb01
        return a, b, c, d, e
