"""Set iteration order, asyncio completion sets and hash() of strings (lint only).

Marked lines must be reported; every other line is a use that does not depend
on a set's order or on the hash seed and must not be.
"""

from __future__ import annotations

import asyncio
from asyncio import as_completed
from asyncio import wait as wait_all
from collections.abc import Set

from . import workflow

REGIONS = {"eu", "us"}
ORDERED_REGIONS = ["eu", "us"]


def first_region() -> str:
    return next(iter(REGIONS))  # mark: RPL-SB16


@workflow.defn
class WalksSets:
    approved: set[str]

    def __init__(self) -> None:
        self.pending: set[str] = set()
        self.approved = set()
        self.history: list[str] = []

    @workflow.run
    async def run(self, items: list[str], seen: frozenset[str], label: str) -> list[object]:
        out: list[object] = []
        for item in {"a", "b"}:  # mark: RPL-SB16
            out.append(item)
        for item in set(items):  # mark: RPL-SB16
            out.append(item)
        unique = {item.lower() for item in items}
        for item in unique:  # mark: RPL-SB16
            out.append(item)
        for item in seen:  # mark: RPL-SB16
            out.append(item)
        for item in self.pending:  # mark: RPL-SB16
            out.append(item)
        for item in self.approved | unique:  # mark: RPL-SB16
            out.append(item)
        for item in REGIONS:  # mark: RPL-SB16
            out.append(item)
        out.append(list(unique))  # mark: RPL-SB16
        out.append([item for item in unique])  # mark: RPL-SB16
        out.append(", ".join(unique))  # mark: RPL-SB16
        out.append([*unique])  # mark: RPL-SB16
        out.append(unique.pop())  # mark: RPL-SB16
        out.append(first_region())
        return out

    def order_free(self, items: list[str]) -> list[object]:
        unique = set(items)
        ordered = sorted(unique)
        for item in sorted(unique):
            ordered.append(item)
        for item in ORDERED_REGIONS:
            ordered.append(item)
        for item in self.history:
            ordered.append(item)
        for item in items:
            ordered.append(item)
        narrowed = set(items)
        # rebound to a list: no longer a set (the rebinding is what the lint must follow)
        narrowed = sorted(narrowed)  # type: ignore[assignment]
        for item in narrowed:
            ordered.append(item)
        return [
            ordered, len(unique), "a" in unique, unique | {"b"}, {*unique}, max(unique),
            sorted(item for item in unique), set(item.upper() for item in unique),
            {item: 1 for item in sorted(unique)}, any(item for item in unique),
        ]

    def nested(self, items: list[str]) -> None:
        unique = set(items)

        def walk(region_set: Set[str]) -> None:
            for region in region_set:  # mark: RPL-SB16
                print(region)
            for item in unique:  # mark: RPL-SB16
                print(item)

        walk(REGIONS)


@workflow.defn
class WaitsOnTasks:
    @workflow.run
    async def run(self, urls: list[str]) -> list[str]:
        tasks = [asyncio.ensure_future(asyncio.sleep(0, url)) for url in urls]
        done, pending = await asyncio.wait(tasks, timeout=5)  # mark: RPL-SB17
        for task in pending:  # mark: RPL-SB16
            task.cancel()
        await wait_all(tasks)  # mark: RPL-SB17
        results = [await f for f in as_completed(tasks)]  # mark: RPL-SB17
        gathered = await asyncio.gather(*tasks)
        for task in tasks:
            if task in done:  # membership only: fine
                results.append(task.result())
        return results + list(gathered)


@workflow.defn
class HashesStrings:
    @workflow.run
    async def run(self, label: str, count: int, key: tuple[int, int]) -> list[int]:
        shard = label.upper()
        return [
            hash("order-1"),  # mark: RPL-SB15
            hash(label),  # mark: RPL-SB15
            hash((label, count)),  # mark: RPL-SB15
            hash(f"{label}-{count}"),  # mark: RPL-SB15
            hash(shard),  # mark: RPL-SB15
            hash(b"raw"),  # mark: RPL-SB15
            hash(count),
            hash((1, 2)),
            hash(key),
            hash(len(label)),
        ]
