"""Shared measuring and reporting for the benchmark sections.

Each section is a module ``benchmarks/bench_<name>.py`` with ``SECTION`` (a
title) and ``run(quick: bool) -> list[Row]``. A figure is the median of at
least five timed runs after a warm-up; rows carry min and max too, and,
where a baseline or peer ran in the same process, the ratio to it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import attrs


@attrs.frozen(kw_only=True)
class Stats:
    """Median, min and max of repeated measurements of one figure."""

    median: float
    min: float
    max: float
    samples: tuple[float, ...]


@attrs.frozen(kw_only=True)
class Row:
    """One line of a section's table."""

    metric: str
    value: Stats
    unit: str
    peer: str | None = None
    peer_value: Stats | None = None
    target: str | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.peer_value is None or self.peer_value.median == 0:
            return None
        return self.value.median / self.peer_value.median

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "unit": self.unit,
            "value": attrs.asdict(self.value),
            "peer": self.peer,
            "peer_value": attrs.asdict(self.peer_value) if self.peer_value else None,
            "ratio": self.ratio,
            "target": self.target,
            "note": self.note,
        }


def repeat(sample: Callable[[], float], *, runs: int = 5, warmup: int = 1) -> Stats:
    """Call ``sample`` (which returns one figure) ``warmup`` + ``runs`` times."""
    for _ in range(warmup):
        sample()
    values = tuple(sample() for _ in range(max(runs, 1)))
    return Stats(
        median=statistics.median(values), min=min(values), max=max(values), samples=values
    )


def alternate(*sides: Callable[[], float], runs: int = 5, warmup: int = 1) -> list[Stats]:
    """Samples of each side in turn (after ``warmup`` of each), so drift hits all alike."""
    for _ in range(warmup):
        for side in sides:
            side()
    samples: list[list[float]] = [[] for _ in sides]
    for _ in range(max(runs, 1)):
        for side, values in zip(sides, samples, strict=True):
            values.append(side())
    return [Stats(median=statistics.median(v), min=min(v), max=max(v), samples=tuple(v))
            for v in samples]


def rate(count: int, fn: Callable[[], object]) -> float:
    """Run ``fn`` once and return ``count`` per second of wall time."""
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    return count / elapsed if elapsed > 0 else float("inf")


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.4f}"


def format_table(title: str, rows: list[Row]) -> str:
    """A plain-text table: metric | replay (median [min-max]) | peer | ratio | target."""
    header = ("metric", "replay", "peer", "ratio", "target")
    lines: list[tuple[str, ...]] = []
    for r in rows:
        ours = f"{_fmt(r.value.median)} {r.unit} [{_fmt(r.value.min)}-{_fmt(r.value.max)}]"
        peer = (
            f"{r.peer}: {_fmt(r.peer_value.median)} [{_fmt(r.peer_value.min)}-"
            f"{_fmt(r.peer_value.max)}]"
            if r.peer and r.peer_value
            else (r.peer or "")
        )
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ""
        lines.append((r.metric, ours, peer, ratio, r.target or ""))
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    out = [f"== {title} ==", " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("-+-".join("-" * w for w in widths))
    out += [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    out += [f"   note: {r.metric}: {r.note}" for r in rows if r.note]
    return "\n".join(out)
