"""Workflow code that only makes allowed calls: it must run clean under the guard
(including calls the stdlib makes on its own behalf) and lint clean.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import decimal
import enum
import json
import logging
import math
import random
import re
import traceback
import uuid

import attrs
import cattrs

from . import workflow

logger = logging.getLogger("samples.allowed")


@attrs.frozen
class Order:
    id: str
    amount: int
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Line:
    sku: str
    quantity: int = 1


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


def log_something() -> None:
    logger.info("processing %s", "order-1")
    logger.warning("careful with %s", "order-1")


def attrs_and_cattrs() -> Order:
    converter = cattrs.Converter()
    data = converter.unstructure(Order("o-1", 3, ("a",)))
    return converter.structure(data, Order)


def dataclasses_and_enum() -> dict[str, object]:
    line = dataclasses.replace(Line("sku-1"), quantity=2)
    return {"line": dataclasses.asdict(line), "color": Color("red").name}


def json_re_math_decimal() -> tuple[object, ...]:
    text = json.dumps({"b": [1, 2.5, None], "a": "x"}, sort_keys=True)
    match = re.fullmatch(r"(\w+)-(\d+)", "order-42")
    assert match is not None
    total = decimal.Decimal("10.10") * 3
    return json.loads(text), match.group(2), math.sqrt(16.0), total


def import_colorsys() -> tuple[float, float, float]:
    import colorsys  # a stdlib module the test removes from sys.modules first

    return colorsys.rgb_to_hsv(0.2, 0.4, 0.4)


def seeded_random() -> list[float]:
    rng = random.Random(42)
    return [rng.random(), rng.uniform(0.0, 1.0), float(rng.randint(1, 6))]


def deterministic_uuid() -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, "https://example.com/order/1")


def date_arithmetic() -> datetime.datetime:
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    return start + datetime.timedelta(days=3)


def format_traceback() -> str:
    try:
        raise ValueError("boom")
    except ValueError:
        return traceback.format_exc()  # linecache reads this file: allowed


async def sleep_on_loop() -> str:
    await asyncio.sleep(0.001)  # the loop reads its own clock: allowed
    return "slept"


@workflow.defn
class AllowedWorkflow:
    """Uses every function above; the lint must find nothing."""

    def __init__(self) -> None:
        self.orders: list[Order] = []

    @workflow.run
    async def run(self) -> None:
        log_something()
        self.orders.append(attrs_and_cattrs())
        dataclasses_and_enum()
        json_re_math_decimal()
        import_colorsys()
        seeded_random()
        deterministic_uuid()
        date_arithmetic()
        format_traceback()
        await sleep_on_loop()
