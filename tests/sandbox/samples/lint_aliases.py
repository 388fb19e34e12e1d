"""Decorator spellings and import aliases the lint must see through (lint only:
it imports the real ``replay.workflow`` and is parsed, never run, by the tests).
"""

from __future__ import annotations

import datetime as dt
import random
import time as t
from collections.abc import Callable
from datetime import datetime
from os import environ
from time import time as now

import replay.workflow
from replay import workflow
from replay.workflow import defn as wf_defn


def helper() -> float:
    return second_helper()


def second_helper() -> float:
    return t.monotonic()  # mark: RPL-SB01


def unused_helper() -> float:
    return t.time()  # not used by any workflow: no finding


@wf_defn
class RenamedDecorator:
    async def run(self) -> float:
        return now()  # mark: RPL-SB01


@workflow.defn(name="with-options")
class DecoratorWithOptions:
    async def run(self) -> str:
        return datetime.now().isoformat()  # mark: RPL-SB01


@replay.workflow.defn
class FullyQualified:
    async def run(self) -> object:
        return dt.datetime.utcnow(), dt.date.today()  # mark: RPL-SB01


@workflow.defn
class UsesHelpers:
    async def run(self) -> float:
        inner: Callable[[], None] = lambda: t.sleep(1)  # noqa: E731  # mark: RPL-SB02
        inner()
        return helper()

    def signal_handler(self, key: str) -> str | None:
        return environ.get(key)  # mark: RPL-SB06

    def seeds(self) -> list[random.Random]:
        seeded = random.Random(7)
        unseeded = random.Random()  # mark: RPL-SB03 lint-only
        return [seeded, unseeded, random.Random(None)]  # mark: RPL-SB03 lint-only

    def formats(self) -> str:
        return t.strftime("%Y") + t.strftime("%Y", t.gmtime(0))  # mark: RPL-SB01
