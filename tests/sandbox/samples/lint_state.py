"""Writes to module-level state from workflow code (lint only: RPL-SB12/RPL-SB13)."""

from __future__ import annotations

from . import workflow

counter = 0
CACHE: dict[str, int] = {}
SEEN: list[str] = []
settings = {"retries": 3}


def remember(key: str) -> None:
    SEEN.append(key)  # mark: RPL-SB13


@workflow.defn
class SharesState:
    def __init__(self) -> None:
        self.items: list[str] = []

    @workflow.run
    async def run(self, key: str) -> int:
        global counter
        counter += 1  # mark: RPL-SB12
        CACHE[key] = counter  # mark: RPL-SB13
        settings["retries"] += 1  # mark: RPL-SB13
        remember(key)
        self.items.append(key)  # instance state: fine
        local: list[str] = []
        local.append(key)  # a local list: fine
        return CACHE.get(key, 0)  # reading is fine

    def shadowing(self, SEEN: list[str]) -> None:
        SEEN.append("x")  # the parameter, not the module's list: fine

    def reset(self) -> None:
        global counter, CACHE
        counter = 0  # mark: RPL-SB12
        CACHE = {}  # mark: RPL-SB12
        del settings["retries"]  # mark: RPL-SB13
