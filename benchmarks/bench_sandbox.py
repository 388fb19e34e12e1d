"""The determinism guard's cost: workflow-like code guarded vs not, and per-call overhead.

Guarded and unguarded runs alternate in the same process (peer "guard off"),
so drift hits both alike. Target: guarded code at most 5% slower.
"""

from __future__ import annotations

import json
import logging
import math
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable

import replay.sandbox as sandbox

from ._harness import Row, Stats

SECTION = "sandbox: determinism guard"

_CTX = sandbox.GuardContext(workflow_type="BenchWorkflow", run_id="bench")
_PASS = sandbox.GuardContext(
    workflow_type="BenchWorkflow", run_id="bench", passthrough_modules={"benchmarks"}
)
_quiet = logging.getLogger("bench.sandbox.quiet")
_quiet.setLevel(logging.WARNING)
_chatty = logging.getLogger("bench.sandbox.chatty")
_chatty.setLevel(logging.INFO)
_chatty.addHandler(logging.NullHandler())
_chatty.propagate = False


def _compute(n: int) -> int:
    """Pure Python arithmetic and containers: no calls the guard sees."""
    total = 0
    seen: dict[int, int] = {}
    for i in range(n):
        total += (i * i) % 7
        if i % 3 == 0:
            seen[i % 101] = total
    return total + len(seen)


def _calls(n: int) -> int:
    """Many allowed library calls: disabled logging, json, math."""
    size = 0
    for i in range(n):
        _quiet.debug("step %d", i)
        size += len(json.dumps({"i": i, "ok": True}))
        size += int(math.sqrt(i) + math.floor(i / 3))
    return size


def _records(n: int) -> None:
    """Enabled logging: each LogRecord reads time.time() from the logging module."""
    for i in range(n):
        _chatty.info("step %d", i)


def _stats(values: list[float]) -> Stats:
    return Stats(
        median=statistics.median(values), min=min(values), max=max(values), samples=tuple(values)
    )


def _clock() -> Callable[[], float]:
    """The unpatched perf_counter: this module is user code to the guard."""
    clock: Callable[[], float] = getattr(time.perf_counter, "__wrapped__", time.perf_counter)
    return clock


def _paired(fn: Callable[[], object], runs: int) -> tuple[Stats, Stats]:
    """Milliseconds per call of fn, guarded and not, alternating (after one warm-up each)."""
    clock = _clock()
    guarded: list[float] = []
    plain: list[float] = []
    for i in range(runs + 1):
        start = clock()
        fn()
        unguarded_ms = (clock() - start) * 1e3
        with sandbox.guarded(_CTX):
            start = clock()
            fn()
            guarded_ms = (clock() - start) * 1e3
        if i:
            plain.append(unguarded_ms)
            guarded.append(guarded_ms)
    return _stats(guarded), _stats(plain)


def _ns_per_call(stmt: Callable[[], object], number: int, runs: int) -> Stats:
    values = [timeit.timeit(stmt, number=number) / number * 1e9 for _ in range(runs + 1)]
    return _stats(values[1:])


def _guarded_time(number: int) -> float:
    with sandbox.guarded(_PASS):
        return timeit.timeit(time.time, number=number)


def _enter_exit() -> None:
    with sandbox.guarded(_CTX):
        pass


_BEFORE_AFTER = """
import json, logging, sys, timeit
log = logging.getLogger("x")
log.setLevel(logging.INFO)
log.addHandler(logging.NullHandler())
log.propagate = False
def records():
    for i in range(1000):
        log.info("step %d", i)
def sample(runs):
    return [timeit.timeit(records, number=10) / 10_000 * 1e9 for _ in range(runs + 1)][1:]
runs = int(sys.argv[1])
before = sample(runs)
import replay.sandbox as sandbox
sandbox.install()
print(json.dumps({"before": before, "after": sample(runs)}))
"""


def _install_cost(runs: int) -> tuple[Stats, Stats]:
    """ns per logger.info record outside the guard, after and before install() (fresh process).

    The audit hook sees every audit event in the process; logging's findCaller
    raises several (sys._getframe, frame attribute reads) per record.
    """
    out = subprocess.run(
        [sys.executable, "-c", _BEFORE_AFTER, str(runs)],
        capture_output=True, text=True, check=True,
    )
    data = json.loads(out.stdout)
    return _stats(data["after"]), _stats(data["before"])


def run(quick: bool) -> list[Row]:
    sandbox.install()
    runs = 5 if quick else 9
    n = 60_000 if quick else 300_000
    number = 200_000 if quick else 1_000_000
    original = time.time.__wrapped__  # type: ignore[attr-defined]
    rows: list[Row] = []
    for metric, fn in (
        (f"compute-heavy function ({n:,} loop steps)", lambda: _compute(n)),
        (f"call-heavy function ({n // 10:,} x debug+json+math)", lambda: _calls(n // 10)),
    ):
        guarded, plain = _paired(fn, runs)
        rows.append(
            Row(metric=metric, value=guarded, unit="ms", peer="guard off", peer_value=plain,
                target="<= 1.05x")
        )
    guarded, plain = _paired(lambda: _records(n // 20), runs)
    rows.append(
        Row(
            metric=f"logger.info x {n // 20:,} (stdlib reads the clock itself)",
            value=guarded, unit="ms", peer="guard off", peer_value=plain,
            note="each record's time.time() is an allowed call inside the guard: one frame "
            "lookup; logging's own sys._getframe also passes through the audit hook",
        )
    )
    after, before = _install_cost(runs)
    rows.append(
        Row(
            metric="logger.info record outside the guard, after install()",
            value=after, unit="ns", peer="before install()", peer_value=before,
            note="the price every process pays for the audit hook (any Python audit hook "
            "costs most of it) and for install() importing multiprocessing",
        )
    )
    rows.append(
        Row(
            metric="time.time() outside the guard",
            value=_ns_per_call(time.time, number, runs), unit="ns/call",
            peer="unpatched original", peer_value=_ns_per_call(original, number, runs),
            note="wrapper = one ContextVar.get() plus the original call",
        )
    )
    inside = [(_guarded_time(number) / number) * 1e9 for _ in range(runs + 1)][1:]
    rows.append(
        Row(
            metric="time.time() inside the guard, allowed (pass-through module)",
            value=_stats(inside), unit="ns/call",
            peer="unpatched original", peer_value=_ns_per_call(original, number, runs),
            note="frame lookup + module classification (cached) + pass-through prefix check",
        )
    )
    rows.append(
        Row(
            metric="guarded(ctx) enter + exit (once per activation)",
            value=_ns_per_call(_enter_exit, number, runs), unit="ns",
        )
    )
    return rows
