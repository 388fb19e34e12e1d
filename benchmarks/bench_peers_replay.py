"""Replay side by side with Temporal's offline Replayer, on the same workflow code.

The workflow module is one template (``peers/template.py``) imported twice,
once with ``from temporalio import workflow`` and once with ``from replay
import workflow``: ``n`` sequential one-second timers, or ``n`` sequential
activities, for n = 100, 1,000 and 5,000 (quick mode: 100). Our histories are
recorded by running the code through ``WorkflowDriver``; Temporal's are built
in its JSON export format (``peers/temporal_history.py``) and parsed with
``WorkflowHistory.from_json`` before timing. Before anything is timed every
Temporal history is replayed once and must succeed, and a copy of an activity
history with one activity id changed must fail with a nondeterminism error
(proof that the Replayer checks what it reads).

Two pairings: Temporal's default sandboxed runner against ours with the
determinism guard on (``sandbox="strict"``, our default), and Temporal's
``UnsandboxedWorkflowRunner`` against ours with ``sandbox="off"``. Events/s
counts each engine's own events: Temporal records 5 events per timer and 6 per
activity where we record 3, so the same logic replayed in the same time shows
Temporal ~1.7-2x more events/s; the "runs/s" in each note compares the same
logic directly.

Target: ours >= 50x Temporal's Replayer events/s at 5,000 timers (issue 17: it stays >= 50x).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import AsyncIterator, Sequence
from types import ModuleType
from typing import Any

from replay.history import History
from replay.testing import WorkflowDriver
from replay.worker import Replayer

from ._harness import Row, Stats, alternate, rate, repeat
from .peers import Skipped, skip_line, template, unavailable, version
from .peers.temporal_history import history_json

SECTION = "peers: replay vs Temporal's Replayer (temporalio.worker.Replayer)"

FULL_SIZES = (100, 1_000, 5_000)
QUICK_SIZES = (100,)
TARGET = 50.0
TINY_STEPS = 3


def _ours_history(mod: ModuleType, kind: str, n: int, run_id: str) -> History:
    if kind == "timers":
        d = WorkflowDriver(mod.TimersWorkflow, n, run_id=run_id)
        d.run_timers(limit=3 * n + 10)
    else:
        d = WorkflowDriver(mod.ActivitiesWorkflow, n, run_id=run_id)
        d.step()
        while not d.instance.closed:
            d.complete_activity(d.open_activities()[0], 1)
            d.step()
    if not d.instance.closed:
        raise AssertionError(f"recording {kind} x{n} did not complete")
    return d.history()


class _Temporal:
    """Temporal's Replayer, sandboxed or not, driven from one event loop."""

    def __init__(self, mod: ModuleType, loop: asyncio.AbstractEventLoop) -> None:
        from temporalio.runtime import Runtime, TelemetryConfig
        from temporalio.worker import Replayer as TReplayer
        from temporalio.worker import UnsandboxedWorkflowRunner

        workflows = [mod.TimersWorkflow, mod.ActivitiesWorkflow]
        # Core's log lines would only repeat the expected failure of verify()'s tampered run.
        runtime = Runtime(telemetry=TelemetryConfig(logging=None))
        self.loop = loop
        self.replayers = {
            "sandboxed": TReplayer(workflows=workflows, runtime=runtime),
            "unsandboxed": TReplayer(workflows=workflows, runtime=runtime,
                                     workflow_runner=UnsandboxedWorkflowRunner()),
        }

    @staticmethod
    def parse(data: dict[str, Any], workflow_id: str = "bench") -> Any:
        from temporalio.client import WorkflowHistory

        return WorkflowHistory.from_json(workflow_id, data)

    def replay(self, runner: str, history: Any) -> None:
        self.loop.run_until_complete(self.replayers[runner].replay_workflow(history))

    def replay_many(self, runner: str, histories: Sequence[Any]) -> None:
        async def each() -> AsyncIterator[Any]:
            for h in histories:
                yield h

        results = self.loop.run_until_complete(
            self.replayers[runner].replay_workflows(each(), raise_on_replay_failure=False))
        if results.replay_failures:
            first = next(iter(results.replay_failures.values()))
            raise AssertionError(
                f"{len(results.replay_failures)} Temporal tiny replays failed: {first!r}")

    def verify(self) -> None:
        """Good histories replay; one with a changed activity id must not."""
        from temporalio.workflow import NondeterminismError

        for runner in self.replayers:
            for kind in ("timers", "activities"):
                self.replay(runner, self.parse(history_json(kind, 3)))
            bad = copy.deepcopy(history_json("activities", 3))
            bad["events"][4]["activityTaskScheduledEventAttributes"]["activityId"] = "99"
            quiet = logging.getLogger("temporalio")
            level, quiet.level = quiet.level, logging.CRITICAL
            try:
                self.replay(runner, self.parse(bad))
            except NondeterminismError:
                continue
            finally:
                quiet.setLevel(level)
            raise AssertionError(f"Temporal's Replayer ({runner}) accepted a tampered history")


def _start_temporal() -> tuple[_Temporal | None, str | None]:
    reason = unavailable("temporalio")
    if reason is not None:
        return None, reason
    loop = asyncio.new_event_loop()
    try:
        peer = _Temporal(template.load("temporalio"), loop)
        peer.verify()
    except Exception as exc:  # e.g. the bundled core library fails: skip with the reason
        loop.close()
        return None, f"temporalio {version('temporalio')} failed its check replay: {exc!r}"
    return peer, None


def _verdict(ratio: float) -> str:
    return f"target {TARGET:.0f}x: {'met' if ratio >= TARGET else 'MISSED'}"


def _pair_rows(kind: str, n: int, ours: dict[str, Replayer], peer: _Temporal | None,
               target_here: bool) -> list[Row]:
    mod = template.load("replay")
    history = _ours_history(mod, kind, n, run_id=f"{kind}-{n}")
    theirs = peer.parse(history_json(kind, n)) if peer else None
    rows: list[Row] = []
    for runner, guard in (("sandboxed", "strict"), ("unsandboxed", "off")):
        replayer = ours[guard]

        def mine(r: Replayer = replayer) -> float:
            def once() -> None:
                if r.replay_sync(history).status != "completed":
                    raise AssertionError(f"our replay of {kind} x{n} did not complete")
            return rate(len(history), once)

        peer_value: Stats | None = None
        note = f"ours {len(history):,} events (guard {guard})"
        if peer is not None and theirs is not None:
            def peers(p: _Temporal = peer, t: Any = theirs, rn: str = runner) -> float:
                return rate(len(t.events), lambda: p.replay(rn, t))

            # samples alternate, so drift of the machine hits both sides alike
            value, peer_value = alternate(mine, peers)
            ours_runs = value.median / len(history)
            their_runs = peer_value.median / len(theirs.events)
            note += (f", Temporal {len(theirs.events):,} events; same logic: "
                     f"{ours_runs:,.2f} vs {their_runs:,.2f} runs/s = "
                     f"{ours_runs / their_runs:.1f}x")
            if target_here:
                note += f"; {_verdict(value.median / peer_value.median)}"
        else:
            value = repeat(mine)
        rows.append(Row(
            metric=f"{kind} x{n:,}, {runner}: replay", value=value, unit="events/s",
            peer=f"Temporal ({runner})" if peer else "Temporal: SKIPPED",
            peer_value=peer_value, target=f">= {TARGET:.0f}x" if target_here else None,
            note=note))
    return rows


def _tiny_rows(count: int, ours: dict[str, Replayer], peer: _Temporal | None) -> list[Row]:
    mod = template.load("replay")
    histories = [_ours_history(mod, "timers", TINY_STEPS, run_id=f"tiny-{i}")
                 for i in range(count)]
    theirs = ([peer.parse(history_json("timers", TINY_STEPS, run_id=f"tiny-{i}"), f"tiny-{i}")
               for i in range(count)] if peer else [])
    rows: list[Row] = []
    for runner, guard in (("sandboxed", "strict"), ("unsandboxed", "off")):
        replayer = ours[guard]

        def mine(r: Replayer = replayer) -> float:
            def once() -> None:
                results = asyncio.run(r.replay_workflows(histories))
                if results.failures:
                    raise AssertionError(f"{len(results.failures)} of our tiny replays failed")
            return rate(count, once)

        def peers(p: _Temporal | None = peer, rn: str = runner) -> float:
            assert p is not None
            return rate(count, lambda: p.replay_many(rn, theirs))

        value = repeat(mine)
        peer_value = repeat(peers) if peer else None
        rows.append(Row(
            metric=f"{count:,} histories of {TINY_STEPS} timers, {runner}: replay_workflows",
            value=value, unit="histories/s",
            peer=f"Temporal ({runner})" if peer else "Temporal: SKIPPED",
            peer_value=peer_value,
            note=f"{len(histories[0])} events each for us, "
                 f"{len(theirs[0].events) if theirs else '-'} for Temporal"))
    return rows


def run(quick: bool) -> list[Row]:
    peer, reason = _start_temporal()
    if reason is not None:
        skip_line("temporalio", reason)
    mod = template.load("replay")
    ours = {guard: Replayer(workflows=[mod.TimersWorkflow, mod.ActivitiesWorkflow],
                            sandbox=guard) for guard in ("strict", "off")}
    sizes = QUICK_SIZES if quick else FULL_SIZES
    rows: list[Row] = []
    try:
        for kind in ("timers", "activities"):
            for n in sizes:
                rows += _pair_rows(kind, n, ours, peer,
                                   target_here=kind == "timers" and n == sizes[-1])
        rows += _tiny_rows(50 if quick else 500, ours, peer)
    finally:
        if peer is not None:
            peer.loop.close()
    if peer is None and not rows:
        raise Skipped(reason or "nothing measured")
    return rows

