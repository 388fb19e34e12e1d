"""Workflows that break (or honour) the determinism rules, for the guard's engine tests."""

from __future__ import annotations

import asyncio
import dataclasses
import decimal
import enum
import json
import logging
import math
import os
import re
import time
import uuid
from datetime import datetime

import attrs
import cattrs

from replay import workflow
from replay.exceptions import RestrictedCallError

log = logging.getLogger("tests.sandboxed")


@workflow.defn
class ReadsClock:
    @workflow.run
    async def run(self) -> float:
        return time.time()  # the line the error must name


@workflow.defn
class ReadsDatetimeNow:
    @workflow.run
    async def run(self) -> str:
        return datetime.now().isoformat()


@workflow.defn
class ReadsEnvironment:
    @workflow.run
    async def run(self) -> str:
        return os.environ.get("HOME", "")


@workflow.defn
class DrawsUuid:
    @workflow.run
    async def run(self) -> str:
        return str(uuid.uuid4())


@workflow.defn
class SwallowsViolation:
    """Catches the error and carries on: the task must still fail."""

    @workflow.run
    async def run(self) -> str:
        try:
            time.time()
        except RestrictedCallError:  # swallowed on purpose: the engine must still see it
            return "carried on"
        return "not reached"


@workflow.defn(sandbox="off")
class OptedOut:
    @workflow.run
    async def run(self) -> bool:
        return time.time() > 0


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


@attrs.frozen
class Box:
    size: decimal.Decimal


@workflow.defn
class UsesAllowedLibraries:
    """Everything here is allowed inside workflow code."""

    @workflow.run
    async def run(self) -> str:
        log.info("logging works inside workflow code")
        workflow.logger.info("and so does the workflow logger")
        data = json.dumps(dataclasses.asdict(Point(1, 2)))
        match = re.fullmatch(r"\{.*\}", data)
        root = math.sqrt(16)
        box = Box(size=decimal.Decimal("1.5"))
        assert cattrs.unstructure(box) == {"size": decimal.Decimal("1.5")}
        lock = asyncio.Lock()
        queue: asyncio.Queue[int] = asyncio.Queue()
        async with lock:
            await queue.put(int(root))
        await asyncio.sleep(1)
        event = asyncio.Event()
        event.set()
        await asyncio.wait_for(event.wait(), timeout=5)
        value = await queue.get()
        return f"{Colour.RED.value}:{bool(match)}:{value}:{box.size}:{workflow.now().year}"
