"""The determinism harness: run generated schedules live, replayed and crashed, and compare.

For each schedule (see :mod:`replay._strategies`) :func:`check_determinism`
1. runs it live with a :class:`WorkflowDriver`, recording the history and the
   answers of the query probes;
2. replays that history: replay must succeed (every recorded command
   reissued) and end with the same result, failure and status; each probe is
   asked again of an instance rebuilt from the history prefix at its point;
3. runs it again, killing the run at every ``Crash`` step (the instance is
   dropped and rebuilt by replaying what was recorded) and continuing live:
   the history must come out identical, so no input is lost or applied twice;
4. with ``subprocess_replays``, replays every recorded history in that many
   fresh interpreters, each with another ``PYTHONHASHSEED``.
A violation is shrunk by hypothesis; its message prints the schedule and, when
the caller gave a ``save_dir``, the path of the one history file (per failing
check) that reproduces it. Running one schedule is
:mod:`replay._harness_run`'s job; this module holds the checks.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyFailure

from replay.history import Event, History, ReplayError

from .._core._definition import WorkflowDefinition
from .._core._exceptions import DeterminismViolation as DeterminismViolation  # re-exported
from .._replay._replayer import Replayer, WorkflowRegistry, replay_events
from .._replay._sandbox_hooks import guard_for
from ._harness_run import ActivityDoubles, Doubles, RunOutcome, ScheduleRun, ask, fresh_instance
from ._strategies import Crash, Step, format_schedule, schedules
from ._subprocess import class_path, ending, replay_in_subprocesses

LIKELY_CAUSES = (
    "iteration over a set or frozenset (string hashes are salted per process, and tasks "
    "and most objects hash by their address: sort it, or keep a list or dict), unseeded "
    "randomness (use workflow.random() or workflow.uuid4()), module or class globals that "
    "outlive a run (keep state on self), the clock (use workflow.now())"
)
"""What makes a workflow decide differently on the same history from run to run."""


@attrs.frozen(kw_only=True)
class DeterminismReport:
    """What :func:`check_determinism` ran: how many schedules and how long they took."""

    workflow_type: str
    examples: int
    seconds: float

    @property
    def seconds_per_example(self) -> float:
        return self.seconds / self.examples if self.examples else 0.0


class _Checker:
    """Runs each schedule live, replayed and crashed, and raises on a difference."""

    def __init__(self, workflow: type, args: Sequence[Any], workflows: Sequence[type],
                 activities: ActivityDoubles | None, allow_task_errors: bool) -> None:
        self.allow_task_errors = allow_task_errors
        self.workflow = workflow
        self.args = tuple(args)
        self.workflows = [w for w in workflows if w is not workflow]
        self.activities = activities
        self.registry = WorkflowRegistry([workflow, *self.workflows])
        self.type_name = WorkflowDefinition.of(workflow).name or workflow.__name__
        self.examples = 0
        # (schedule, history, how its replay here ended) of every example that passed
        self.recorded: dict[str, tuple[list[Step], History, str]] = {}
        self.failed: tuple[list[Step], list[Event]] | None = None
        """The schedule and history of the last failing example (hypothesis runs the
        shrunk one last), kept in memory: only check_determinism saves one file."""

    def check(self, schedule: Sequence[Step]) -> None:
        self.examples += 1
        doubles = Doubles(self.activities)
        live = ScheduleRun(self.workflow, self.args, self.workflows, doubles,
                           crash=False).run(schedule)
        if live.task_error is not None and not self.allow_task_errors:
            self._fail(f"the workflow task failed at step {live.task_error[0]} (a bug in the "
                       f"workflow code, or inputs it cannot take; pass allow_task_errors=True "
                       f"to only check replay up to it): {live.task_error_text}",
                       schedule, live.events)
        self._check_replay(schedule, live)
        if any(isinstance(s, Crash) for s in schedule):
            crashed = ScheduleRun(self.workflow, self.args, self.workflows, doubles,
                                  crash=True).run(schedule)
            self._check_crash(schedule, live, crashed)

    def _fail(self, what: str, schedule: Sequence[Step], events: Sequence[Event]) -> None:
        self.failed = (list(schedule), list(events))
        raise DeterminismViolation(what, workflow_type=self.type_name, schedule=schedule,
                                   schedule_text=format_schedule(schedule),
                                   history_path=None)

    def saved(self, found: DeterminismViolation, save_dir: str | os.PathLike[str] | None,
              what: str | None = None) -> DeterminismViolation:
        """``found`` (with ``what`` instead of its text, if given), and the history of
        its schedule saved as ``save_dir/<type>.json`` when there is a ``save_dir``."""
        path: Path | None = None
        if save_dir is not None and self.failed is not None and \
                self.failed[0] == found.schedule:
            path = Path(save_dir) / f"{self.type_name}.json"
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                History("run-1", self.failed[1]).save(path)
            except (OSError, ReplayError):
                path = None
        if path is None and what is None:
            return found
        again = DeterminismViolation(
            what if what is not None else found.what, workflow_type=self.type_name,
            schedule=found.schedule, schedule_text=format_schedule(found.schedule),
            history_path=path)
        again.__notes__ = list(getattr(found, "__notes__", []))
        again.__cause__ = found.__cause__
        return again

    def _check_replay(self, schedule: Sequence[Step], live: RunOutcome) -> None:
        history = History("run-1", list(live.events))
        replayed = Replayer(workflows=[self.workflow, *self.workflows],
                            guard=guard_for("strict")).replay_sync(
            history, raise_on_replay_failure=False)
        if replayed.replay_failure is not None:
            self._fail(f"replaying the live history failed: {replayed.replay_failure}",
                       schedule, live.events)
        inst = replayed.instance
        assert inst is not None
        lv = live.instance
        if live.task_error is None and (inst.closed, inst.result_payload, inst.failure) != (
                lv.closed, lv.result_payload, lv.failure):
            self._fail(f"replay ended with closed={inst.closed} result={inst.result_payload!r} "
                       f"failure={inst.failure!r}, the live run with closed={lv.closed} "
                       f"result={lv.result_payload!r} failure={lv.failure!r}",
                       schedule, live.events)
        self.recorded.setdefault(repr(live.events), (
            list(schedule), history,
            ending(replayed.status, replayed.result, replayed.failure)))
        for probe in live.probes:
            again = fresh_instance(self.registry, live.events, lv.converter, guard_for("strict"))
            try:
                replay_events(again, live.events[:probe.prefix])
            except ReplayError as exc:
                self._fail(f"replaying the first {probe.prefix} events for the query at step "
                           f"{probe.step} failed: {exc}", schedule, live.events)
            answer = ask(again, probe.name, probe.args)
            if answer != probe.answer:
                self._fail(f"query {probe.name!r} at step {probe.step} (after event "
                           f"{probe.prefix}) answered {probe.answer!r} live but {answer!r} "
                           "on replay", schedule, live.events)

    def check_in_subprocesses(self, interpreters: int) -> None:
        """Replay every recorded history in fresh interpreters with other hash seeds."""
        if interpreters <= 0 or not self.recorded:
            return
        own = os.environ.get("PYTHONHASHSEED")
        seeds = [s for s in range(1, interpreters + 2) if str(s) != own][:interpreters]
        recorded = list(self.recorded.values())
        outcomes = replay_in_subprocesses([h for _, h, _ in recorded],
                                          [self.workflow, *self.workflows], hash_seeds=seeds)
        bad = [o for o in outcomes
               if o.failure is not None or o.ending != recorded[o.history][2]]
        if not bad:
            return
        o = min(bad, key=lambda o: len(recorded[o.history][0]))
        schedule, history, here = recorded[o.history]
        what = (f"failed: {o.failure}" if o.failure is not None else
                f"ended with {o.ending}, but here with {here}")
        self._fail(f"replaying the live history in a fresh interpreter "
                   f"(PYTHONHASHSEED={o.hash_seed}) {what}. It replays in this process, so "
                   "the workflow depends on something that differs between processes. "
                   f"Likely causes: {LIKELY_CAUSES}", schedule, list(history.events))

    def _check_crash(self, schedule: Sequence[Step], live: RunOutcome, crashed: RunOutcome
                     ) -> None:
        a, b = live.events, crashed.events
        if a != b:
            i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                     min(len(a), len(b)))
            first = f"live {a[i]!r}" if i < len(a) else "live: (end of history)"
            second = f"after crashes {b[i]!r}" if i < len(b) else \
                "after crashes: (end of history)"
            self._fail(f"a run killed at its Crash steps and recovered recorded a different "
                       f"history from event {i + 1}: {first}; {second}", schedule, b)
        if live.task_error != crashed.task_error:
            self._fail(f"workflow task errors differ: live {live.task_error}, after crashes "
                       f"{crashed.task_error}", schedule, b)
        if live.updates != crashed.updates:
            self._fail(f"update outcomes differ: live {live.updates}, after crashes "
                       f"{crashed.updates}", schedule, b)
        if [p.answer for p in live.probes] != [p.answer for p in crashed.probes]:
            self._fail("query answers differ between the live run and the crashed one",
                       schedule, b)


def _first_violation(group: BaseExceptionGroup[BaseException]) -> DeterminismViolation | None:
    for exc in group.exceptions:
        if isinstance(exc, DeterminismViolation):
            return exc
        if isinstance(exc, BaseExceptionGroup):
            found = _first_violation(exc)
            if found is not None:
                return found
    return None


def check_determinism(
    workflow: type,
    *,
    args: Sequence[Any] = (),
    inputs: st.SearchStrategy[list[Step]] | None = None,
    activities: ActivityDoubles | None = None,
    payloads: Mapping[str, st.SearchStrategy[tuple[Any, ...]]] | None = None,
    max_examples: int | None = None,
    workflows: Sequence[type] = (),
    hypothesis_settings: settings | None = None,
    allow_task_errors: bool = False,
    subprocess_replays: int = 0,
    save_dir: str | os.PathLike[str] | None = None,
) -> DeterminismReport:
    """Hammer ``workflow`` with generated schedules; raise DeterminismViolation on a mismatch.

    ``inputs`` is a strategy of schedules (default: :func:`replay.testing.schedules`
    from the workflow's declared signals, updates and queries, with arguments
    drawn from their annotations or from ``payloads[handler_name]``).
    ``activities`` gives activity results: test doubles (functions declared with
    ``activity.defn``) or a mapping from activity (or child workflow) type name
    to a callable; it is called with the decoded arguments, its return value is
    the result and an exception it raises is the failure. Without one an
    activity succeeds with None. ``workflows`` are other classes the run needs
    (children are never run, their outcomes are generated). A workflow task
    failure (an exception out of workflow code) under a schedule is reported
    too, unless ``allow_task_errors``.
    ``subprocess_replays=N`` then replays the history of every schedule that
    passed in N fresh interpreters, each with another ``PYTHONHASHSEED``: what
    varies between processes (the order of a set of strings or of objects hashed
    by address) shows there, not in this process. Their workflow classes must be
    importable by module and name (ValueError otherwise); a failure found this way
    is reported with its shortest schedule, not shrunk further.
    Hypothesis shrinks a failing schedule; the error prints it. With
    ``save_dir`` (tests pass ``tmp_path``; ``"."`` for the current directory),
    the history that reproduces the shrunk schedule is saved there as
    ``<WorkflowType>.json`` and the error names it; without one, nothing is
    written anywhere. Runs in memory, no store or worker.
    """
    if subprocess_replays:
        for cls in (workflow, *workflows):
            class_path(cls)  # importable by a fresh interpreter, or ValueError now
    checker = _Checker(workflow, args, workflows, activities, allow_task_errors)
    strategy = inputs if inputs is not None else schedules(workflow, payloads=payloads)
    base = hypothesis_settings if hypothesis_settings is not None else settings()
    chosen = settings(base, deadline=None, report_multiple_bugs=False,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                      max_examples=max_examples if max_examples is not None
                      else base.max_examples)

    @chosen
    @given(strategy)
    def run(schedule: list[Step]) -> None:
        checker.check(schedule)

    began = time.perf_counter()
    try:
        run()
        checker.check_in_subprocesses(subprocess_replays)
    except DeterminismViolation as violation:
        saved = checker.saved(violation, save_dir)
        if saved is violation:
            raise
        raise saved.with_traceback(violation.__traceback__) from violation.__cause__
    except FlakyFailure as flaky:
        found = _first_violation(flaky)
        if found is None:
            raise
        raise checker.saved(
            found, save_dir,
            f"{found.what} (hypothesis saw this schedule fail only some of the times it "
            "ran it: the workflow keeps state outside the run or decides differently from "
            f"run to run. Likely causes: {LIKELY_CAUSES})"
        ) from flaky
    return DeterminismReport(workflow_type=checker.type_name, examples=checker.examples,
                             seconds=time.perf_counter() - began)
