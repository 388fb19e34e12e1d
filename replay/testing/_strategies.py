"""Schedules for the determinism harness: the steps, and hypothesis strategies that draw them.

A *schedule* is a list of steps applied in order to one run driven by
:class:`~replay.testing.WorkflowDriver`. Inputs (signals, cancellation, activity
and child outcomes, timer firings) are recorded as they are given; ``Activate``
runs the workflow on everything given since the last activation (so several
inputs can land in one activation, as when a worker was busy); updates and
query probes talk to the run as a client would; ``Crash`` kills the run (used
by the crash-equivalence check only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from hypothesis import strategies as st

from .._core._definition import HandlerDefinition, WorkflowDefinition


@attrs.frozen
class Signal:
    """Send signal ``name`` with ``args``."""

    name: str
    args: tuple[Any, ...] = ()


@attrs.frozen
class Update:
    """Send update ``name``; its validator accepts or rejects it at the next activation."""

    name: str
    args: tuple[Any, ...] = ()


@attrs.frozen
class Query:
    """Probe: run query ``name`` now; replay must answer the same at the same point."""

    name: str
    args: tuple[Any, ...] = ()


@attrs.frozen
class Cancel:
    """Request cancellation of the run."""


@attrs.frozen
class FireTimer:
    """Move time to the earliest open timer and fire it."""


@attrs.frozen
class SkipTime:
    """Let ``seconds`` of workflow time pass without firing anything."""

    seconds: float


def _outcome_repr(step: ActivityOutcome | ChildOutcome) -> str:
    """``Kind(kind='x')``, with ``index`` only when it is not 0 (the oldest)."""
    index = f", index={step.index}" if step.index else ""
    return f"{type(step).__name__}(kind={step.kind!r}{index})"


@attrs.frozen(repr=False)
class ActivityOutcome:
    """Resolve an open activity: the oldest, or with ``index`` a later one.

    ``kind`` is ``success`` (the value comes from the activity's test double,
    else None), ``retried_success`` (success on attempt 3), ``retryable_failure``
    (retries exhausted), ``non_retryable_failure``, ``timeout`` or ``canceled``.
    ``index`` picks the activity among those open, oldest first (modulo their
    number), so that activities racing each other finish in every order.
    """

    kind: str
    index: int = 0

    __repr__ = _outcome_repr


@attrs.frozen(repr=False)
class ChildOutcome:
    """Resolve an open child run (``index`` as for activities): ``complete``, ``fail``
    or ``cancel``."""

    kind: str
    index: int = 0

    __repr__ = _outcome_repr


@attrs.frozen
class ExternalSignalOutcome:
    """Resolve the oldest signal sent to another run: ``delivered`` or ``failed``."""

    kind: str


@attrs.frozen
class Activate:
    """Run one activation with everything delivered since the last one."""


@attrs.frozen
class Crash:
    """Kill the run here: drop the instance and rebuild it by replaying its history."""


Step = (Signal | Update | Query | Cancel | FireTimer | SkipTime | ActivityOutcome
        | ChildOutcome | ExternalSignalOutcome | Activate | Crash)
"""One step of a schedule."""

ACTIVITY_KINDS = ("success", "retried_success", "retryable_failure", "non_retryable_failure",
                  "timeout", "canceled")
CHILD_KINDS = ("complete", "fail", "cancel")
EXTERNAL_KINDS = ("delivered", "failed")

_RACE_INDEX = st.integers(min_value=0, max_value=3)
"""Which open activity or child an outcome resolves: 0 (the oldest) shrinks first."""


def handler_args(handler: HandlerDefinition,
                 payloads: Mapping[str, st.SearchStrategy[tuple[Any, ...]]] | None = None,
                 ) -> st.SearchStrategy[tuple[Any, ...]]:
    """Arguments for one handler: ``payloads[name]`` if given, else drawn from its annotations.

    Each annotated parameter type is drawn with ``st.from_type``; register
    strategies for your own types with ``st.register_type_strategy`` or pass
    ``payloads`` per handler name.
    """
    if payloads is not None and handler.name is not None and handler.name in payloads:
        return payloads[handler.name]
    return st.tuples(*(st.from_type(t) for t in handler.arg_types))


def _messages(kind: type[Signal] | type[Update] | type[Query],
              handlers: Mapping[str | None, HandlerDefinition],
              payloads: Mapping[str, st.SearchStrategy[tuple[Any, ...]]] | None,
              ) -> list[st.SearchStrategy[Step]]:
    out: list[st.SearchStrategy[Step]] = []
    for name, handler in sorted(handlers.items(), key=lambda kv: kv[0] or ""):
        if name is None:
            continue  # a dynamic handler: nothing says which names it expects
        out.append(st.builds(kind, st.just(name), handler_args(handler, payloads)))
    return out


def steps(workflow: type, *,
          payloads: Mapping[str, st.SearchStrategy[tuple[Any, ...]]] | None = None,
          crashes: bool = True, cancel: bool = True) -> st.SearchStrategy[Step]:
    """One step for ``workflow``: its declared signals, updates and queries, plus the rest."""
    d = WorkflowDefinition.of(workflow)
    choices: list[st.SearchStrategy[Step]] = [
        *_messages(Signal, d.signals, payloads),
        *_messages(Update, d.updates, payloads),
        *_messages(Query, d.queries, payloads),
        st.just(Activate()),
        st.just(Activate()),
        st.just(FireTimer()),
        st.builds(SkipTime, st.sampled_from([0.5, 1.0, 60.0, 3600.0, 86400.0])),
        st.builds(ActivityOutcome, st.sampled_from(ACTIVITY_KINDS), _RACE_INDEX),
        st.builds(ChildOutcome, st.sampled_from(CHILD_KINDS), _RACE_INDEX),
        st.builds(ExternalSignalOutcome, st.sampled_from(EXTERNAL_KINDS)),
    ]
    if cancel:
        choices.append(st.just(Cancel()))
    if crashes:
        choices.append(st.just(Crash()))
    return st.one_of(*choices)


def schedules(workflow: type, *,
              payloads: Mapping[str, st.SearchStrategy[tuple[Any, ...]]] | None = None,
              min_steps: int = 0, max_steps: int = 25, crashes: bool = True,
              cancel: bool = True) -> st.SearchStrategy[list[Step]]:
    """Lists of steps for ``workflow`` (see :func:`steps`); shrinks towards short ones."""
    return st.lists(steps(workflow, payloads=payloads, crashes=crashes, cancel=cancel),
                    min_size=min_steps, max_size=max_steps)


def format_schedule(schedule: Sequence[Step]) -> str:
    """The schedule one step per line, numbered, as the harness prints it."""
    return "\n".join(f"  {i:>3}: {step!r}" for i, step in enumerate(schedule)) or "  (empty)"
