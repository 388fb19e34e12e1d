"""Counts per durable step: SQL statements, write transactions, loop turns, CPU time.

``python -m benchmarks.profile_steps [--runs N] [--concurrent] [--synchronous NORMAL]
[--processes N] [--postgres [URL]] [--show-sql]`` runs N workflows of 10 activities
(ours, ``benchmarks.peers.ours``) and prints what one step costs, counted rather than
timed where possible, so the figures do not depend on what else the machine is doing:

* statements: every ``execute``/``executemany`` call on any connection this process
  opened while measuring (an ``executemany`` of several rows counts once);
* write transactions: the ``BEGIN IMMEDIATE`` statements among them;
* loop turns: iterations of the worker's event loop (``select()`` calls of its
  selector, one per turn);
* CPU: ``time.process_time()`` (every thread of the process), in microseconds.

With ``--postgres`` the store is a ``PostgresStore`` (on the given server, or a
throwaway one with PostgreSQL's default durability) and the counts are psycopg's
(``benchmarks.psycopg_counts``): statements, write transactions (``BEGIN``, and each
checked commit, which is a transaction of its own), round
trips to the server, and the server's own committed transactions and WAL fsyncs
(which see every process, the extra worker processes included).

The bench sections call :func:`profile` for their profile columns.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import os
import re
import selectors
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import attrs

from . import psycopg_counts
from .peers import ours

STEPS = 10


@attrs.frozen(kw_only=True)
class Profile:
    """What the measured runs cost, per activity step (``round_trips``, ``server_commits``
    and ``wal_fsyncs``: on PostgreSQL only)."""

    steps: int
    statements: float
    write_transactions: float
    loop_turns: float
    cpu_us: float
    wall_us: float
    by_statement: tuple[tuple[str, int], ...] = ()
    round_trips: float | None = None
    server_commits: float | None = None
    wal_fsyncs: float | None = None

    def summary(self) -> str:
        text = (f"{self.statements:.1f} SQL statements, {self.write_transactions:.2f} write "
                f"transactions, {self.loop_turns:.2f} loop turns, {self.cpu_us:,.0f} us CPU "
                f"per step")
        if self.round_trips is not None:
            text += f"; {self.round_trips:.1f} round trips"
        if self.server_commits is not None:
            text += f", {self.server_commits:.2f} server commits"
        if self.wal_fsyncs is not None:
            text += f", {self.wal_fsyncs:.2f} WAL fsyncs"
        return text


class _CountingSelector(selectors.DefaultSelector):
    """The event loop's selector; each ``select()`` is one turn of the loop."""

    turns = 0

    def select(self, timeout: float | None = None) -> list[Any]:
        type(self).turns += 1
        return super().select(timeout)


class _CountingConnection(sqlite3.Connection):
    """A connection that counts its ``execute``/``executemany`` calls (one statement each,
    however many rows an executemany binds)."""

    calls: collections.Counter[str] | None = None

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self.calls is not None:
            self.calls[sql] += 1
        return super().execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self.calls is not None:
            self.calls[sql] += 1
        return super().executemany(sql, *args)


@contextlib.contextmanager
def _counted_connections(counts: collections.Counter[str]) -> Iterator[None]:
    original = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = original(*args, factory=_CountingConnection, **kwargs)
        conn.calls = counts
        return conn

    sqlite3.connect = connect  # type: ignore[assignment]
    try:
        yield
    finally:
        sqlite3.connect = original


_LITERAL = re.compile(r"'(?:[^']|'')*'|\?\d+|\b\d+\b")


def _normalise(sql: str) -> str:
    """The statement with its literals as ``?`` (the trace shows bound values)."""
    return _LITERAL.sub("?", " ".join(sql.split()))[:120]


def profile(runs: int, *, concurrent: bool, synchronous: str = "FULL",
            processes: int = 1, url: str | None = None) -> Profile:
    """Run ``runs`` workflows of 10 activities in this process and count what they cost.

    Setup (opening the store, starting the worker) is counted out: the counts
    start when the first workflow is started and stop when the last result is in.
    ``url``: a ``postgresql://`` server to run them on (a fresh schema), counted
    through psycopg instead of sqlite3.
    """
    counts: collections.Counter[str] = collections.Counter()
    pg = psycopg_counts.Counts()
    marks: dict[str, Any] = {}

    def start() -> None:
        counts.clear()
        pg.clear()
        marks["turns"] = _CountingSelector.turns
        marks["cpu"] = time.process_time()
        marks["wall"] = time.perf_counter()

    def stop() -> None:
        marks["cpu"] = time.process_time() - marks["cpu"]
        marks["wall"] = time.perf_counter() - marks["wall"]
        marks["turns"] = _CountingSelector.turns - marks["turns"]
        marks["counts"] = collections.Counter(counts)
        marks["pg"] = pg.copy()

    target = None if url is None else (f"{url}{'&' if '?' in url else '?'}"
                                       f"schema=profile_{os.getpid()}_{next(_schemas)}")
    loop = asyncio.SelectorEventLoop(_CountingSelector())
    before = None
    with contextlib.ExitStack() as stack:
        stack.enter_context(_counted_connections(counts))
        if url is not None:
            before = psycopg_counts.server_counters(url.split("?")[0])
            stack.enter_context(psycopg_counts.counted_psycopg(pg))
        try:
            loop.run_until_complete(ours.timed_runs(
                runs, STEPS, synchronous, concurrent=concurrent, on_start=start,
                on_stop=stop, processes=processes, url=target))
        finally:
            loop.close()
    steps = runs * STEPS
    found: collections.Counter[str] = marks["counts"]
    transactions = sum(n for sql, n in found.items() if sql.startswith("BEGIN"))
    trips = server = fsyncs = None
    if url is not None:
        seen: psycopg_counts.Counts = marks["pg"]
        found = seen.statements
        # a checked commit is a write transaction of its own (autocommit)
        transactions = seen.commands["BEGIN"] + found["BEGIN"] + sum(
            n for sql, n in found.items() if sql.startswith("SELECT commit_checked"))
        trips = seen.round_trips / steps
        psycopg_counts.settled()
        # the server's counters span the setup too (schema, worker start): an upper bound
        spent = psycopg_counts.server_counters(url.split("?")[0]) - before  # type: ignore[operator]
        server = spent.commits / steps
        fsyncs = None if spent.wal_fsyncs is None else spent.wal_fsyncs / steps
        _drop_schema(url, target)
    total = sum(found.values())
    grouped: collections.Counter[str] = collections.Counter()
    for sql, n in found.items():
        grouped[_normalise(sql)] += n
    return Profile(
        steps=steps, statements=total / steps, write_transactions=transactions / steps,
        loop_turns=marks["turns"] / steps, cpu_us=marks["cpu"] / steps * 1e6,
        wall_us=marks["wall"] / steps * 1e6, by_statement=tuple(grouped.most_common()),
        round_trips=trips, server_commits=server, wal_fsyncs=fsyncs)


_schemas = itertools.count(1)


def _drop_schema(url: str, target: str | None) -> None:
    import psycopg

    assert target is not None
    schema = target.rsplit("schema=", 1)[1]
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_steps")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--concurrent", action="store_true")
    parser.add_argument("--synchronous", default="FULL")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--postgres", nargs="?", const="", default=None, metavar="URL",
                        help="on PostgreSQL: this server's URL, or none to start a throwaway "
                             "one (default durability)")
    parser.add_argument("--show-sql", action="store_true")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        url = args.postgres
        if url == "":
            from fixtures import postgres_server

            server = postgres_server.start(durable=True)
            stack.callback(server.stop)
            url = server.url
        p = profile(args.runs, concurrent=args.concurrent, synchronous=args.synchronous,
                    processes=args.processes, url=url)
    store = "PostgreSQL" if url is not None else f"synchronous={args.synchronous}"
    print(f"{args.runs} {'concurrent' if args.concurrent else 'sequential'} workflows of "
          f"{STEPS} activities, {args.processes} process(es), {store}: {p.summary()}; "
          f"{p.wall_us:,.0f} us wall per step")
    if args.show_sql:
        for sql, n in p.by_statement:
            print(f"{n / p.steps:8.2f}  {sql}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
