"""ActivityEnvironment: activity code run outside a worker with a fake context, as the
familiar SDK's testing environment documents it."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import attrs
import pytest

from replay import activity
from replay.common import RawValue
from replay.exceptions import CancelledError, NotInActivityError
from replay.history import default_converter
from replay.testing import ActivityEnvironment

from .workflows import env_activities as acts


@pytest.fixture(autouse=True)
def _reset() -> None:
    acts.STARTED.clear()
    acts.SEEN.clear()


async def test_an_async_activity_sees_the_info_and_its_heartbeats_reach_on_heartbeat(
        ) -> None:
    env = ActivityEnvironment()
    env.info = attrs.evolve(env.info, activity_type="greet", attempt=3)
    beats: list[tuple[Any, ...]] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    assert await env.run(acts.greet, "ada") == "hello ada from greet attempt 3"
    assert beats == [("half", 1)]


def test_a_sync_activity_runs_in_place_and_returns_its_result() -> None:
    env = ActivityEnvironment()
    beats: list[tuple[Any, ...]] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    assert env.run(acts.add, 2, 3) == 5
    assert beats == [(2,), (3,)]


def test_the_default_info_and_that_activity_calls_need_a_context_outside_it() -> None:
    info = ActivityEnvironment.default_info()
    assert (info.activity_id, info.attempt, info.workflow_run_id) == ("test", 1, "test-run")
    assert ActivityEnvironment().info == info
    with pytest.raises(NotInActivityError):
        activity.info()  # the environment's context does not leak out of run()
    ActivityEnvironment().run(acts.add, 1, 1)
    with pytest.raises(NotInActivityError):
        activity.info()


async def test_cancel_cancels_a_running_async_activity() -> None:
    env = ActivityEnvironment()
    task = asyncio.ensure_future(env.run(acts.wait_forever))
    while not acts.STARTED.is_set():
        await asyncio.sleep(0)
    env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert acts.SEEN == [True]  # is_cancelled() is true while it cleans up


async def test_cancel_from_another_thread_stops_a_sync_activity_at_its_next_heartbeat(
        ) -> None:
    env = ActivityEnvironment()

    def cancel_once_started() -> None:
        acts.STARTED.wait(10)
        env.cancel()

    canceller = threading.Thread(target=cancel_once_started)
    canceller.start()
    with pytest.raises(CancelledError):
        await asyncio.to_thread(env.run, acts.beat_until_cancelled)
    canceller.join()


def test_cancel_before_run_is_seen_by_the_activity() -> None:
    env = ActivityEnvironment()
    assert env.run(acts.cancelled_before) is False
    env.cancel()
    env.cancel()  # a second call does nothing
    assert env.run(acts.cancelled_before) is True


def test_the_payload_converter_is_the_environments() -> None:
    env = ActivityEnvironment()
    assert env.payload_converter is not None
    env.payload_converter = default_converter()
    assert env.run(acts.dynamic, [RawValue(41)]) == "42"
