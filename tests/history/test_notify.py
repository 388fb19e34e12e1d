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
    counter = itertools.count(1)
    calls: list[int] = []

    def poll() -> bool:
        calls.append(1)
        return next(counter) % 3 == 0  # another connection "commits" every third poll

    notifier = ChangeNotifier(poll, interval=0.001)
    try:
        await asyncio.sleep(0.05)
        assert calls == []  # nobody waits: no polling
        assert await notifier.wait(30) is True
        assert len(calls) >= 3
    finally:
        notifier.close()


async def test_since_with_a_run_counts_only_commits_touching_that_run() -> None:
    notifier = ChangeNotifier()
    seen = notifier.version
    notifier.notify({"b"})
    # a commit to run b after the token does not end a wait on run a...
    assert await notifier.wait(0.01, since=seen, run_id="a") is False
    assert await notifier.wait(30, since=seen, run_id="b") is True
    notifier.notify({"a"})
    assert await notifier.wait(30, since=seen, run_id="a") is True
    # ...but a commit of unknown scope (another process's) does
    later = notifier.version
    notifier.notify(None)
    assert await notifier.wait(30, since=later, run_id="c") is True


async def test_runs_forgotten_to_bound_memory_count_as_changed() -> None:
    from replay.history import _notify

    notifier = ChangeNotifier()
    seen = notifier.version
    notifier.notify({"old"})
    for i in range(_notify.SCOPES_KEPT + 1):
        notifier.notify({f"r{i}"})
    assert len(notifier._scoped) <= _notify.SCOPES_KEPT
    assert await notifier.wait(30, since=seen, run_id="old") is True
