"""Activities run by the ActivityEnvironment tests."""

from __future__ import annotations

import asyncio
import threading

from replay import activity
from replay.common import RawValue

STARTED = threading.Event()
SEEN: list[bool] = []


@activity.defn
async def greet(name: str) -> str:
    info = activity.info()
    activity.heartbeat("half", 1)
    return f"hello {name} from {info.activity_type} attempt {info.attempt}"


@activity.defn
def add(a: int, b: int) -> int:
    activity.heartbeat(a)
    activity.heartbeat(b)
    return a + b


@activity.defn
async def wait_forever() -> str:
    try:
        STARTED.set()
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        SEEN.append(activity.is_cancelled())
        raise
    return "never"


@activity.defn
def beat_until_cancelled() -> int:
    beats = 0
    STARTED.set()
    while True:
        activity.heartbeat(beats)  # raises CancelledError once cancelled
        beats += 1


@activity.defn
def cancelled_before() -> bool:
    return activity.is_cancelled()


@activity.defn(dynamic=True)
def dynamic(args: list[RawValue]) -> str:
    return str(activity.payload_converter().from_payload(args[0].payload, int) + 1)
