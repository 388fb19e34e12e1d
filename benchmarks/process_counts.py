"""What each worker process of a PostgreSQL sample does, counted: wake-ups, polls, commits.

``python -m benchmarks.process_counts [--runs N] [--steps S] [--processes 1 2 4]
[--postgres URL]`` runs ``N`` concurrent workflows of ``S`` (10) activities
(``benchmarks.peers.ours``) with each number of worker processes on one PostgreSQL
(a throwaway one unless a URL is given) and prints, per step and per process
(``main`` is the process of the client and the first worker, ``helpers`` the
others, summed):

* CPU: microseconds of CPU of the process (every thread), and of the server's
  processes (read from ``/proc``: the postmaster and its children, where the server
  runs on this machine), against the wall time the cores could give;
* statements and round trips (``benchmarks.psycopg_counts``);
* wake-ups: waits that a change ended (or that timed out), and notes forwarded from
  other processes (``NOTIFY`` payloads the listener passed on; ``remote_queue_notes``:
  those that concern a task queue, which the queue's workers wake and poll for);
* polls: workflow- and activity-task lease statements, and how many found nothing;
* commits: checked commits, those that fell back to the locked path (the plan needed
  a read the server cannot check; or a head had moved: ``moved``), locked commits,
  and batches (run steps) per commit;
* replays: workflow tasks whose run was not in the sticky cache.

Helpers count from a ``SIGUSR1`` (the sample's start) to a ``SIGUSR2`` (its end), when
each writes its counts to ``$REPLAY_PROCESS_COUNTS/<pid>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import cProfile
import functools
import json
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from . import psycopg_counts

ENV = "REPLAY_PROCESS_COUNTS"
ENV_PROFILE = "REPLAY_PROCESS_PROFILE"
"""Set to a folder: helpers also profile their main thread (cProfile) and write
``<pid>.prof`` there."""
STEPS = 10


class Tally:
    """The counts of one process (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: collections.Counter[str] = collections.Counter()
        self.pg = psycopg_counts.Counts()
        self.cpu = time.process_time()

    def add(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()
            self.pg.clear()
            self.cpu = time.process_time()

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            found: dict[str, float] = dict(self.counts)
            found["cpu_us"] = (time.process_time() - self.cpu) * 1e6
            found["statements"] = sum(self.pg.statements.values())
            found["round_trips"] = self.pg.round_trips
            return found


def _wrap(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    setattr(owner, name, make(getattr(owner, name)))


@contextlib.contextmanager
def counting() -> Iterator[Tally]:
    """Count this process's work (patches stay until the block ends)."""
    from replay.history import (
        _notify,
        _postgres,
        _postgres_checked,
        _postgres_db,
        _postgres_listen,
    )
    from replay.worker import WorkerMetrics

    tally = Tally()
    saved = [(owner, name, getattr(owner, name)) for owner, name in (
        (_notify.ChangeNotifier, "wait"), (_notify.ChangeNotifier, "notify"),
        (_postgres.PostgresStore, "lease_workflow_tasks"),
        (_postgres.PostgresStore, "lease_activity_tasks"),
        (_postgres_db.Database, "commit_checked"), (_postgres_db.Database, "_commit_locked"),
        (_postgres_db.Database, "commit_each"), (_postgres_checked, "plan_again"),
        (WorkerMetrics, "sticky_cache"))]

    def wait(original: Any) -> Any:
        @functools.wraps(original)
        async def run(self: Any, timeout: float, *args: Any, **kwargs: Any) -> bool:
            woke: bool = await original(self, timeout, *args, **kwargs)
            if timeout > 0:  # a look without waiting (a worker deciding to poll) is no wait
                tally.add("woken" if woke else "timed_out")
            return woke
        return run

    def notify(original: Any) -> Any:
        def run(self: Any, *args: Any, **kwargs: Any) -> None:
            if threading.current_thread().name == psycopg_counts.LISTENER_THREAD:
                tally.add("remote_notes")
                keys = args[0] if args else kwargs.get("runs")
                if keys is None or any(k.startswith(_postgres_listen.QUEUE_SCOPE)
                                       for k in keys):
                    tally.add("remote_queue_notes")
            original(self, *args, **kwargs)
        return run

    def lease(key: str) -> Callable[[Any], Any]:
        def make(original: Any) -> Any:
            def run(self: Any, *args: Any, **kwargs: Any) -> Any:
                found = original(self, *args, **kwargs)
                tally.add(f"{key}_polls")
                if not found:
                    tally.add(f"{key}_empty")
                return found
            return run
        return make

    def checked(original: Any) -> Any:
        def run(self: Any, batches: Any) -> Any:
            done = original(self, batches)
            tally.add("checked_commits")
            if done is None:
                tally.add("checked_fallbacks")
            return done
        return run

    def counted(key: str) -> Callable[[Any], Any]:
        def make(original: Any) -> Any:
            def run(*args: Any, **kwargs: Any) -> Any:
                tally.add(key)
                return original(*args, **kwargs)
            return run
        return make

    def commit_each(original: Any) -> Any:
        def run(self: Any, batches: Any) -> Any:
            tally.add("batches", len(batches))
            tally.add("group_commits")
            return original(self, batches)
        return run

    def plan_again(original: Any) -> Any:
        def run(*args: Any) -> bool:
            again: bool = original(*args)
            if again:
                tally.add("checked_moved")
            return again
        return run

    def sticky(original: Any) -> Any:
        def run(self: Any, hit: bool) -> None:
            if not hit:
                tally.add("replays")
            original(self, hit)
        return run

    _wrap(_notify.ChangeNotifier, "wait", wait)
    _wrap(_notify.ChangeNotifier, "notify", notify)
    _wrap(_postgres.PostgresStore, "lease_workflow_tasks", lease("workflow_lease"))
    _wrap(_postgres.PostgresStore, "lease_activity_tasks", lease("activity_lease"))
    _wrap(_postgres_db.Database, "commit_checked", checked)
    _wrap(_postgres_db.Database, "_commit_locked", counted("locked_commits"))
    _wrap(_postgres_db.Database, "commit_each", commit_each)
    _wrap(_postgres_checked, "plan_again", plan_again)
    _wrap(WorkerMetrics, "sticky_cache", sticky)
    try:
        with psycopg_counts.counted_psycopg(tally.pg):
            yield tally
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def serve_counts(stack: contextlib.ExitStack) -> None:
    """In a helper process, when ``$REPLAY_PROCESS_COUNTS`` is set: count, reset at
    ``SIGUSR1`` and write the counts at ``SIGUSR2``."""
    folder = os.environ.get(ENV)
    if not folder:
        return
    tally = stack.enter_context(counting())
    profiler = cProfile.Profile() if os.environ.get(ENV_PROFILE) else None

    def start(*_: Any) -> None:
        tally.reset()
        if profiler is not None:
            profiler.enable()

    def write(*_: Any) -> None:
        path = Path(folder) / f"{os.getpid()}.json"
        path.write_text(json.dumps(tally.snapshot()))
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(Path(os.environ[ENV_PROFILE]) / f"{os.getpid()}.prof"))

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, write)


# --- the server's CPU -------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()


def server_cpu_us(postmaster: int) -> float:
    """CPU of the postmaster, its children and its exited children (microseconds)."""
    fields = _stat(postmaster)
    ticks = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            child = _stat(int(entry.name))
            if int(child[1]) == postmaster:
                ticks += int(child[11]) + int(child[12])
    return ticks / _TICK * 1e6


def postmaster_pid(url: str) -> int | None:
    """The server's postmaster, if it runs on this machine (None otherwise)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    try:
        return int(_stat(int(row[0]))[1])
    except OSError:
        return None


# --- one sample -------------------------------------------------------------------------------

def sample(url: str, runs: int, processes: int, steps: int = STEPS
           ) -> dict[str, dict[str, float]]:
    """Counts per step of ``runs`` concurrent workflows on ``processes`` worker processes:
    ``main``, ``helpers`` (summed) and ``all`` (with ``server_cpu_us`` and ``wall_us``)."""
    from .peers import ours

    schema = f"counts_{os.getpid()}_{processes}_{time.monotonic_ns()}"
    target = f"{url}{'&' if '?' in url else '?'}schema={schema}"
    postmaster = postmaster_pid(url)
    pids: list[int] = []
    marks: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="process-counts-") as folder:
        os.environ[ENV] = folder
        try:
            with counting() as tally:
                def start() -> None:
                    for pid in pids:
                        os.kill(pid, signal.SIGUSR1)
                    tally.reset()
                    marks["server"] = 0.0 if postmaster is None else server_cpu_us(postmaster)
                    marks["wall"] = time.perf_counter()

                def stop() -> None:
                    marks["wall"] = time.perf_counter() - marks["wall"]
                    if postmaster is not None:
                        marks["server"] = server_cpu_us(postmaster) - marks["server"]
                    marks.update({f"main:{k}": v for k, v in tally.snapshot().items()})
                    for pid in pids:
                        os.kill(pid, signal.SIGUSR2)

                asyncio.run(ours.timed_runs(runs, steps, "FULL", concurrent=True,
                                            on_start=start, on_stop=stop,
                                            processes=processes, url=target,
                                            on_helpers=pids.extend))
        finally:
            del os.environ[ENV]
        helpers: dict[str, float] = {}
        for pid in pids:
            path = Path(folder) / f"{pid}.json"
            if path.exists():
                for key, value in json.loads(path.read_text()).items():
                    helpers[key] = helpers.get(key, 0.0) + float(value)
    _drop_schema(url, schema)
    steps *= runs
    main = {k.split(":", 1)[1]: v / steps for k, v in marks.items() if k.startswith("main:")}
    helper = {k: v / steps for k, v in helpers.items()}
    every = dict(main)
    for key, value in helper.items():
        every[key] = every.get(key, 0.0) + value
    every["server_cpu_us"] = marks["server"] / steps
    every["wall_us"] = marks["wall"] * 1e6 / steps
    return {"main": main, "helpers": helper, "all": every}


def _drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


ROWS = ("cpu_us", "statements", "round_trips", "woken", "timed_out", "remote_notes",
        "remote_queue_notes",
        "workflow_lease_polls", "workflow_lease_empty", "activity_lease_polls",
        "activity_lease_empty", "group_commits", "batches", "checked_commits",
        "checked_fallbacks", "checked_moved", "locked_commits", "replays")


def show(found: dict[int, dict[str, dict[str, float]]]) -> str:
    """A table: one row per count, one column per (processes, part)."""
    heads = [(n, part) for n in found for part in ("main", "helpers", "all")]
    lines = ["per step".ljust(22) + "".join(f"{n}p {part}".rjust(12) for n, part in heads)]
    for row in (*ROWS, "server_cpu_us", "wall_us"):
        cells = [found[n][part].get(row) for n, part in heads]
        lines.append(row.ljust(22) + "".join(
            ("" if v is None else f"{v:,.2f}" if v < 100 else f"{v:,.0f}").rjust(12)
            for v in cells))
    for n in found:
        a = found[n]["all"]
        cpu = a.get("cpu_us", 0.0) + a["server_cpu_us"]
        lines.append(f"{n} process(es): {cpu:,.0f} us CPU per step (clients, workers and "
                     f"server), {a['wall_us']:,.0f} us wall: {cpu / a['wall_us']:.2f} of "
                     f"{os.cpu_count()} cores busy")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.process_counts")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--steps", type=int, default=STEPS, help="activities per workflow")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--postgres", default=None, metavar="URL")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        url = args.postgres
        if url is None:
            from fixtures import postgres_server

            server = postgres_server.start(durable=True)
            stack.callback(server.stop)
            url = server.url
        found = {n: sample(url, args.runs, n, args.steps) for n in args.processes}
    print(json.dumps(found) if args.json else show(found))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
