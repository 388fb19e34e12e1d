"""history/_notify.py: the change counter that wakes waiters."""

from __future__ import annotations

import asyncio
import itertools

from replay.history._notify import ChangeNotifier


async def test_wait_since_an_old_version_returns_at_once() -> None:
    notifier = ChangeNotifier()
    seen = notifier.version
    notifier.notify()
    assert await notifier.wait(30, since=seen) is True
    assert await notifier.wait(0.01, since=notifier.version) is False
    assert await notifier.wait(0) is False


async def test_notify_wakes_every_waiter() -> None:
    notifier = ChangeNotifier()
    waiters = [asyncio.create_task(notifier.wait(30)) for _ in range(3)]
    await asyncio.sleep(0)
    notifier.notify()
    assert await asyncio.gather(*waiters) == [True, True, True]


async def test_the_poll_runs_only_while_someone_waits() -> None:
    counter = itertools.count()
    calls: list[int] = []

    def poll() -> int:
        calls.append(1)
        return next(counter) // 3  # "changes" on every third poll

    notifier = ChangeNotifier(poll, interval=0.001)
    try:
        assert len(calls) == 1  # the baseline
        await asyncio.sleep(0.05)
        assert len(calls) == 1  # nobody waits: no polling
        assert await notifier.wait(30) is True
    finally:
        notifier.close()
