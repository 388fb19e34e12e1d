"""Replay throughput and memory: the Replayer on long histories and on many tiny ones.

Histories are real: recorded by running workflows through the WorkflowDriver
(sequential timers: ``for _ in range(n): await asyncio.sleep(1)``; sequential
activities), at about 1k, 10k, 100k and 1M events (quick mode stops at 100k).
Replay runs with the default determinism guard (``Replayer(workflows=[...])``). Peak
memory is what one replay allocates beyond the history it reads (whose events
are already in memory): the instance, its loop and the commands in flight.

Targets: >= 100,000 events/s at 100k events; the rate at 1M at least 0.8x the
rate at 1k (replay cost per event must not grow with the history); >= 5,000
tiny (~10-event) histories/s through ``replay_workflows``; a saved history file
parsed and replayed in at most 3x the time ``json.loads`` takes for its text, at 1k
and 100k events (the floor any replayer pays).
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import timedelta

from replay import workflow
from replay.history import History
from replay.testing import WorkflowDriver
from replay.worker import Replayer

from ._harness import Row, Stats, alternate, rate, repeat

SECTION = "replay: Replayer throughput and memory"

FULL_SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000, 100_000)
RATE_TARGET = 100_000
SCALING_TARGET = 0.8
TINY_COUNT = 1_000
TINY_TARGET = 5_000
FILE_TARGET = 3.0


@workflow.defn(name="BenchTimers")
class TimersWorkflow:
    """``n`` durable timers one after another: 3 events each."""

    @workflow.run
    async def run(self, n: int) -> int:
        for _ in range(n):
            await asyncio.sleep(1)
        return n


@workflow.defn(name="BenchActivities")
class ActivitiesWorkflow:
    """``n`` activities one after another: 3 events each."""

    @workflow.run
    async def run(self, n: int) -> int:
        total = 0
        for i in range(n):
            total += await workflow.execute_activity(
                "step", i, start_to_close_timeout=timedelta(seconds=10))
        return total


def timers_history(events: int, run_id: str = "bench-timers") -> History:
    """A completed run of about ``events`` events (3 per timer, plus start and end)."""
    d = WorkflowDriver(TimersWorkflow, max((events - 2) // 3, 1), run_id=run_id)
    d.run_timers(limit=events)
    assert d.instance.closed
    return d.history()


def activities_history(events: int, run_id: str = "bench-activities") -> History:
    """A completed run of about ``events`` events (3 per activity, plus start and end)."""
    d = WorkflowDriver(ActivitiesWorkflow, max((events - 2) // 3, 1), run_id=run_id)
    d.step()
    while not d.instance.closed:
        d.complete_activity(d.open_activities()[0], 1)
        d.step()
    return d.history()


KINDS: dict[str, tuple[type, Callable[[int], History]]] = {
    "timers": (TimersWorkflow, timers_history),
    "activities": (ActivitiesWorkflow, activities_history),
}


def _label(size: int) -> str:
    return f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size // 1_000}k"


def _replay_once(replayer: Replayer, history: History) -> None:
    result = replayer.replay_sync(history)
    if result.status != "completed":
        raise AssertionError(f"replay ended {result.status}, not completed")


def _peak_mb(replayer: Replayer, history: History) -> float:
    """Peak memory allocated during one replay, beyond the history already loaded."""
    gc.collect()
    tracemalloc.start()
    try:
        _replay_once(replayer, history)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1e6


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _single(value: float) -> Stats:
    return Stats(median=value, min=value, max=value, samples=(value,))


def _kind_rows(kind: str, sizes: tuple[int, ...]) -> list[Row]:
    cls, build = KINDS[kind]
    replayer = Replayer(workflows=[cls])
    rows: list[Row] = []
    rates: dict[int, float] = {}
    for size in sizes:
        history = build(size)
        n = len(history)
        runs = 3 if size >= 1_000_000 else 5

        def sample(h: History = history, n: int = n) -> float:
            return rate(n, lambda: _replay_once(replayer, h))

        stats = repeat(sample, runs=runs, warmup=1)
        rates[size] = stats.median
        note = f"{n:,} events; median of {runs} runs after 1 warm-up"
        if runs < 5:
            note += " (fewer runs: each replay of this size takes seconds)"
        target = None
        if size == 100_000:
            target = f">= {RATE_TARGET:,} events/s"
            note += f"; {_verdict(stats.median >= RATE_TARGET)}"
        if size == 1_000_000 and 1_000 in rates:
            ratio = stats.median / rates[1_000]
            target = f">= {SCALING_TARGET}x the 1k rate ({SCALING_TARGET * rates[1_000]:,.0f})"
            note += f"; {ratio:.2f}x the 1k rate: {_verdict(ratio >= SCALING_TARGET)}"
        rows.append(Row(metric=f"{kind}, {_label(size)} events: replay", value=stats,
                        unit="events/s", target=target, note=note))
        peak = _peak_mb(replayer, history)
        rows.append(Row(metric=f"{kind}, {_label(size)} events: peak memory", value=_single(peak),
                        unit="MB", note="tracemalloc, one separate run; history excluded"))
        del history
        gc.collect()
    return rows


def _tiny_rows() -> list[Row]:
    histories = [timers_history(11, run_id=f"tiny-{i}") for i in range(TINY_COUNT)]
    events = statistics.mean(len(h) for h in histories)
    replayer = Replayer(workflows=[TimersWorkflow])

    def sample() -> float:
        start = time.perf_counter()
        results = asyncio.run(replayer.replay_workflows(histories))
        elapsed = time.perf_counter() - start
        if results.failures:
            raise AssertionError(f"{len(results.failures)} tiny replays failed")
        return TINY_COUNT / elapsed

    stats = repeat(sample, runs=5, warmup=1)
    return [Row(metric=f"{TINY_COUNT:,} tiny histories: replay_workflows", value=stats,
                unit="histories/s", target=f">= {TINY_TARGET:,} histories/s",
                note=f"{events:.0f} events each; median of 5 runs after 1 warm-up; "
                f"{_verdict(stats.median >= TINY_TARGET)}")]


def _file_rows() -> list[Row]:
    """A saved history file replayed (read, parsed, checked, replayed) against the floor
    every replayer pays: ``json.loads`` of the same file's text."""
    rows: list[Row] = []
    for size in (1_000, 100_000):
        history = timers_history(size)
        text = history.to_json(indent=None)
        replayer = Replayer(workflows=[TimersWorkflow])

        # Each side starts with no garbage left by the other and pays for collecting its
        # own young garbage (the replayed run's objects, which form cycles, hold the
        # history's events until a collection frees them): otherwise that collection
        # lands in whichever sample happens to come next.
        def ours(t: str = text, r: Replayer = replayer) -> float:
            gc.collect()
            start = time.perf_counter()
            _replay_once(r, History.from_json(t))
            gc.collect(1)
            return time.perf_counter() - start

        def floor(t: str = text) -> float:
            gc.collect()
            start = time.perf_counter()
            json.loads(t)
            gc.collect(1)
            return time.perf_counter() - start

        mine, parse = alternate(ours, floor)
        ratio = mine.median / parse.median
        rows.append(Row(
            metric=f"saved history of {_label(size)} timer events: parse + replay",
            value=_ms(mine), unit="ms", peer="json.loads of the same text",
            peer_value=_ms(parse), target=f"<= {FILE_TARGET:g}x",
            note=f"{len(history):,} events, {len(text) / 1e6:.2f} MB of JSON; "
                 f"History.from_json (decode and validate every event) then replay, "
                 f"each side timed with a collection of the young garbage it left; "
                 f"{ratio:.2f}x the parse alone: {_verdict(ratio <= FILE_TARGET)}"))
    return rows


def _ms(stats: Stats) -> Stats:
    return Stats(median=stats.median * 1e3, min=stats.min * 1e3, max=stats.max * 1e3,
                 samples=tuple(v * 1e3 for v in stats.samples))


def run(quick: bool) -> list[Row]:
    sizes = QUICK_SIZES if quick else FULL_SIZES
    rows: list[Row] = []
    for kind in KINDS:
        rows += _kind_rows(kind, sizes)
    rows += _file_rows()
    rows += _tiny_rows()
    return rows
