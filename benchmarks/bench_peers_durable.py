"""Durable execution side by side with DBOS and LlamaIndex Workflows, and the two limits.

Workload: a workflow of 10 sequential steps (``step(i)`` returns ``i * i``).
Ours runs it as 10 activities through ``Client`` + ``Worker`` on a
``SqliteStore`` file; DBOS as 10 ``@DBOS.step`` calls in a ``@DBOS.workflow``
on its SQLite system database; LlamaIndex Workflows as 10 ``@step`` methods
chained by events, in memory. Every sample starts from a fresh database file
(opened, and the worker or DBOS launched, before the clock starts).

Durability: ours runs at the ``synchronous`` level DBOS's own connections
report (``PRAGMA synchronous`` read through DBOS's engine: FULL, SQLite's
default, in dbos 3.4). Journals differ by design: ours is WAL (one fsync per
commit), DBOS leaves SQLite's rollback journal (DELETE: several fsyncs per
commit); the raw-commit rows show what each journal allows on this disk.

Limits: raw sqlite3 one-row commits (the most durable steps per second any
design committing each step alone can reach here) and the same coroutine code
on a bare asyncio loop with no durability (the most the loop can run).

Recovery: a subprocess runs a 1,000-step workflow and is
SIGKILLed about half-way (full run only); a new process opens the same file and the time from
its spawn (interpreter start and imports included) to the result is the
figure. Ours must wait out the dead worker's leases (workflow task 0.1 s,
activity start_to_close 0.2 s); DBOS resumes at once on launch.

Targets: ours >= 6x DBOS steps/s one after another, >= 20x with concurrent
workflows; >= 1x LlamaIndex runs/s while durable at FULL, >= 2x at NORMAL; two
worker processes >= 1.6x one. The profile rows count, per step, SQL statements,
write transactions and event-loop turns, and measure CPU time
(``benchmarks.profile_steps``), so a regression shows in the table.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ._harness import Row, Stats, alternate, repeat
from .peers import crash, ours, skip_line, unavailable
from .profile_steps import profile

SECTION = "peers: durable steps vs DBOS (SQLite) and LlamaIndex Workflows; the limits"

STEPS = 10
SEQ_TARGET = 6.0
CONC_TARGET = 20.0
LLAMA_TARGET = 2.0
LLAMA_FULL_TARGET = 1.0


class _Files:
    """A scratch directory handing out a fresh database path per sample."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="bench-peers-durable-")
        self._count = 0

    def new(self, suffix: str = ".db") -> Path:
        self._count += 1
        return Path(self._dir.name) / f"{self._count}{suffix}"

    def close(self) -> None:
        self._dir.cleanup()


def commit_rate(path: Path, n: int, *, journal: str, synchronous: str) -> float:
    """One-row write transactions per second on a new file."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA journal_mode = {journal}")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        start = time.perf_counter()
        for i in range(n):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (v) VALUES (?)", (f"row {i}",))
            conn.execute("COMMIT")
        return n / (time.perf_counter() - start)
    finally:
        conn.close()


class _Dbos:
    """DBOS, launched on a fresh SQLite file for each sample."""

    def __init__(self, files: _Files) -> None:
        from .peers import dbos_app

        self.app = dbos_app
        self.files = files
        self.app.launch(files.new(".sqlite"))
        try:
            self.pragmas = self.app.pragmas()
        finally:
            self.app.destroy()

    def sample(self, run: Callable[[int, int], float], count: int) -> float:
        self.app.launch(self.files.new(".sqlite"))
        try:
            return run(count, STEPS)
        finally:
            self.app.destroy()


def _steps(wfs: Stats) -> Stats:
    return Stats(median=wfs.median * STEPS, min=wfs.min * STEPS, max=wfs.max * STEPS,
                 samples=tuple(v * STEPS for v in wfs.samples))


def _verdict(value: Stats, peer: Stats | None, target: float) -> str:
    if peer is None:
        return "not measured: peer skipped"
    ratio = value.median / peer.median
    verdict = "met" if ratio >= target else "MISSED"
    return f"{ratio:.2f}x against a target of {target:.0f}x: {verdict}"


def _ratio_verdict(ratio: float, target: float) -> str:
    return f"{ratio:.2f}x against a target of {target:g}x: " + (
        "met" if ratio >= target else "MISSED")


def _peer(name: str, reason: str | None) -> str:
    return f"{name}: SKIPPED" if reason else name


def run(quick: bool) -> list[Row]:
    seq_n, conc_n, llama_n = (20, 50, 50) if quick else (200, 200, 200)
    rec_steps = 1_000
    files = _Files()
    rows: list[Row] = []
    try:
        dbos_reason = unavailable("dbos")
        dbos: _Dbos | None = None
        if dbos_reason is None:
            try:
                dbos = _Dbos(files)
            except Exception as exc:  # DBOS cannot launch here: say why, measure the rest
                dbos_reason = f"dbos failed to launch on SQLite: {exc!r}"
        if dbos_reason:
            skip_line("dbos", dbos_reason)
        sync = dbos.pragmas["synchronous"] if dbos else "FULL"
        journal = dbos.pragmas["journal_mode"] if dbos else "DELETE"
        dbos_label = f"DBOS ({journal} journal, synchronous={sync})"

        def ours_seq(n: int = seq_n) -> float:
            return ours.workflows_per_second(n, STEPS, sync, concurrent=False)

        def ours_conc(n: int = conc_n) -> float:
            return ours.workflows_per_second(n, STEPS, sync, concurrent=True)

        if dbos is not None:
            d = dbos
            seq, dbos_seq = alternate(ours_seq, lambda: d.sample(d.app.sequential, seq_n))
            conc, dbos_conc = alternate(ours_conc, lambda: d.sample(d.app.concurrent, conc_n))
        else:
            seq, dbos_seq = repeat(ours_seq), None
            conc, dbos_conc = repeat(ours_conc), None

        label = _peer("DBOS", dbos_reason) if dbos_reason else dbos_label
        rows += [
            Row(metric=f"{seq_n} workflows of {STEPS} steps, one after another: steps",
                value=_steps(seq), unit="steps/s", peer=label,
                peer_value=_steps(dbos_seq) if dbos_seq else None,
                target=f">= {SEQ_TARGET:.0f}x",
                note=f"ours at synchronous={sync} (WAL); "
                     + _verdict(seq, dbos_seq, SEQ_TARGET)),
            Row(metric=f"{seq_n} workflows of {STEPS} steps, one after another: workflows",
                value=seq, unit="workflows/s", peer=label, peer_value=dbos_seq),
            Row(metric=f"{conc_n} concurrent workflows of {STEPS} steps: steps",
                value=_steps(conc), unit="steps/s", peer=label,
                peer_value=_steps(dbos_conc) if dbos_conc else None,
                target=f">= {CONC_TARGET:.0f}x",
                note="all started at once (ours: asyncio.gather of N start_workflow calls, "
                     "then gather the results; DBOS: DBOS.start_workflow x N, then "
                     "get_result each); "
                     + _verdict(conc, dbos_conc, CONC_TARGET)),
            Row(metric=f"{conc_n} concurrent workflows of {STEPS} steps: workflows",
                value=conc, unit="workflows/s", peer=label, peer_value=dbos_conc),
        ]
        scale = _scale_rows(seq_n, conc_n, sync)
        normal_seq = scale[0].value
        rows += scale
        rows += _profile_rows(20 if quick else 100, conc_n)
        if quick:
            print("   recovery of a killed run: full run only (each sample spawns four "
                  "processes; quick mode stays under 2 minutes)", flush=True)
        else:
            rows.append(_recovery_row(files, rec_steps, sync, dbos is not None, label))
        rows += _llama_rows(seq, normal_seq, seq_n, llama_n, sync)
        rows += _limit_rows(files, seq, conc, seq_n, conc_n, sync, journal, quick)
    finally:
        files.close()
    return rows


def _recovery_row(files: _Files, steps: int, sync: str, with_dbos: bool, label: str) -> Row:
    mine: list[tuple[float, float, int]] = []
    theirs: list[tuple[float, float, int]] = []

    def ours_side() -> float:
        mine.append(crash.recovery("ours", files.new(), steps, sync))
        return mine[-1][0]

    def dbos_side() -> float:
        theirs.append(crash.recovery("dbos", files.new(".sqlite"), steps, sync))
        return theirs[-1][0]

    if with_dbos:
        value, peer_value = alternate(ours_side, dbos_side)
    else:
        value, peer_value = repeat(ours_side), None

    def detail(samples: list[tuple[float, float, int]]) -> str:
        timed = samples[1:]  # the first was the warm-up
        inner = sorted(s for _, s, _ in timed)[len(timed) // 2]
        return (f"{inner:.2f} s in-process, {min(x for *_, x in timed)}-"
                f"{max(x for *_, x in timed)} steps left at the kill")

    note = "from the new process's spawn to the result; ours: " + detail(mine)
    if theirs:
        note += "; DBOS: " + detail(theirs)
    note += "; ratio < 1 means ours recovers faster"
    return Row(metric=f"recovery of a killed {steps:,}-step run (lower is better)",
               value=value, unit="s", peer=label, peer_value=peer_value, note=note)


def _scale_rows(seq_n: int, conc_n: int, sync: str) -> list[Row]:
    """Ours at synchronous=NORMAL beside FULL, and two worker processes beside one.

    The first row's value (sequential at NORMAL, in workflows/s) feeds the
    LlamaIndex row at NORMAL.
    """
    def normal() -> float:
        return ours.workflows_per_second(seq_n, STEPS, "NORMAL", concurrent=False)

    def one() -> float:
        return ours.workflows_per_second(conc_n, STEPS, sync, concurrent=True, processes=1)

    def two() -> float:
        return ours.workflows_per_second(conc_n, STEPS, sync, concurrent=True, processes=2)

    def full() -> float:
        return ours.workflows_per_second(seq_n, STEPS, sync, concurrent=False)

    normal_seq, full_seq = alternate(normal, full)
    two_conc, one_conc = alternate(two, one)
    ratio = two_conc.median / one_conc.median
    return [
        Row(metric=f"{seq_n} workflows one after another, synchronous=NORMAL: workflows",
            value=normal_seq, unit="workflows/s", peer=f"ours at synchronous={sync}",
            peer_value=full_seq,
            note="WAL at NORMAL: survives a process crash, may lose the last commits on "
                 "power loss; alternated with FULL in this row"),
        Row(metric=f"{conc_n} concurrent workflows, 2 worker processes: steps",
            value=_steps(two_conc), unit="steps/s", peer="1 worker process",
            peer_value=_steps(one_conc), target=">= 1.6x",
            note="this process's worker plus one more process on the same file; the client "
                 f"runs in this process; {ratio:.2f}x against a target of 1.6x: "
                 + ("met" if ratio >= 1.6 else "MISSED")),
    ]


def _profile_rows(seq_n: int, conc_n: int) -> list[Row]:
    """Counts per step (SQL statements, write transactions, loop turns) and CPU time."""
    out: list[Row] = []
    for label, runs, concurrent in (("sequential", seq_n, False),
                                    ("concurrent", conc_n, True)):
        p = profile(runs, concurrent=concurrent)
        for metric, value, unit, target in (
                ("SQL statements", p.statements, "statements/step",
                 "<= 5" if not concurrent else None),
                ("write transactions", p.write_transactions, "transactions/step", None),
                ("event-loop turns", p.loop_turns, "turns/step", None),
                ("CPU time", p.cpu_us, "us/step", None)):
            out.append(Row(metric=f"profile, {label} step: {metric}",
                           value=Stats(median=value, min=value, max=value, samples=(value,)),
                           unit=unit, target=target,
                           note=f"{runs} {label} workflows of {STEPS} activities, counted "
                                "once (python -m benchmarks.profile_steps)"))
    return out


def _llama_rows(seq: Stats, normal_seq: Stats, seq_n: int, llama_n: int,
                sync: str) -> list[Row]:
    """Ours durable (at ``sync``, and at NORMAL) against LlamaIndex in memory, measured once."""
    from .peers import llama_app

    reason = unavailable("llama-index-workflows")
    peer_value: Stats | None = None
    if reason is None:
        try:
            peer_value = repeat(lambda: llama_app.runs_per_second(llama_n))
        except Exception as exc:  # the library runs but fails here: report, do not guess
            reason = f"llama-index-workflows failed to run: {exc!r}"
    if reason:
        skip_line("llama-index-workflows", reason)
    rows = []
    for level, value, target in ((sync, seq, LLAMA_FULL_TARGET),
                                 ("NORMAL", normal_seq, LLAMA_TARGET)):
        rows.append(Row(
            metric=f"{STEPS}-step runs one after another (ours durable at {level}, theirs in "
                   "memory)", value=value, unit="runs/s",
            peer=_peer("LlamaIndex Workflows (in memory)", reason), peer_value=peer_value,
            target=f">= {target:.0f}x",
            note=f"ours: the sequential workflows above ({seq_n} runs, durable at "
                 f"synchronous={level}); LlamaIndex: {llama_n} runs of 10 steps chained by "
                 "events; " + _verdict(value, peer_value, target)))
    return rows


def _limit_rows(files: _Files, seq: Stats, conc: Stats, seq_n: int, conc_n: int, sync: str,
                journal: str, quick: bool) -> list[Row]:
    n = 300 if quick else 2_000
    wal, rollback = alternate(
        lambda: commit_rate(files.new(), n, journal="WAL", synchronous=sync),
        lambda: commit_rate(files.new(), n, journal=journal, synchronous=sync))
    bare_seq = repeat(lambda: ours.bare_per_second(seq_n * 10, STEPS, concurrent=False))
    bare_conc = repeat(lambda: ours.bare_per_second(conc_n * 10, STEPS, concurrent=True))
    per_step = (1 / seq.median - 1 / bare_seq.median) / STEPS  # seconds
    return [
        Row(metric=f"raw sqlite3 one-row commits, synchronous={sync}", value=wal,
            unit="commits/s", peer=f"same, {journal} journal", peer_value=rollback,
            note=f"{n:,} BEGIN IMMEDIATE/INSERT/COMMIT on a new file; WAL is our journal, "
                 f"{journal} is DBOS's (SQLite's default)"),
        Row(metric="sequential steps vs the raw commit rate", value=_steps(seq),
            unit="steps/s", peer="raw sqlite3 commits (WAL)", peer_value=wal,
            target=">= 0.5x",
            note=f"one durable step takes the time of "
                 f"{wal.median / (seq.median * STEPS):.1f} one-row commits; "
                 + _ratio_verdict(seq.median * STEPS / wal.median, 0.5)),
        Row(metric="concurrent steps vs the raw commit rate", value=_steps(conc),
            unit="steps/s", peer="raw sqlite3 commits (WAL)", peer_value=wal,
            target=">= 2x",
            note=f"{conc_n} concurrent workflows, one worker process; "
                 + _ratio_verdict(conc.median * STEPS / wal.median, 2.0)),
        Row(metric="sequential steps vs bare asyncio (no durability)", value=_steps(seq),
            unit="steps/s", peer="bare asyncio loop", peer_value=_steps(bare_seq),
            note=f"the same coroutine with the activity awaited directly, "
                 f"{seq_n * 10} runs one after another; durability costs "
                 f"{per_step * 1e6:,.0f} us per step"),
        Row(metric="concurrent steps vs bare asyncio (no durability)", value=_steps(conc),
            unit="steps/s", peer="bare asyncio loop", peer_value=_steps(bare_conc),
            note=f"{conc_n * 10} runs gathered at once"),
    ]
