"""Replay: feed a recorded history through workflow code, activation by activation.

``split_activations`` cuts a history into the groups the worker wrote (inputs,
then the commands they produced, closed by WorkflowTaskCompleted or by the
run's end) in one linear pass. ``Replayer`` is the public entry point.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs

from replay.history import (
    COMMAND_KINDS,
    INPUT_KINDS,
    TERMINAL_KINDS,
    TERMINAL_STATUS,
    CodecRunner,
    Event,
    Failure,
    History,
    PayloadConverter,
    UpdateAccepted,
    WorkflowStarted,
    WorkflowTaskCompleted,
    WorkflowTaskFailed,
)

from .._core._data_converter import DataConverter
from .._core._definition import WorkflowDefinition
from .._core._exceptions import (
    ForeignHistoryError,
    NoReplayedWorkflowError,
    WorkflowDefinitionError,
)
from .._core._guard import GuardHooks
from .._core._handlers import UpdateDelivery
from .._core._instance import WorkflowInstance
from .._core._interceptor_roots import workflow_interceptors
from .._core._interceptors import WorkflowInterceptorClassInput, WorkflowInterceptors
from .._core._matching import match_outcome

_INPUTS = frozenset(INPUT_KINDS)
_COMMANDS = frozenset(COMMAND_KINDS)
_TERMINAL = frozenset(TERMINAL_KINDS)


@attrs.frozen
class RecordedActivation:
    """One activation as recorded: its inputs, its commands and the event closing it."""

    inputs: list[Event]
    commands: list[Event]
    closing: Event

    @property
    def updates(self) -> list[UpdateDelivery]:
        return _deliveries(self.commands)


def _deliveries(commands: list[Event]) -> list[UpdateDelivery]:
    """The updates an activation's recorded commands accepted, to deliver again."""
    return [UpdateDelivery(e.update_id, e.name, list(e.args), validate=False,
                           headers=e.headers)
            for e in commands if isinstance(e, UpdateAccepted)]


@attrs.define
class Split:
    """What follows the last recorded activation: pending inputs or an outside ending.

    ``task_failed`` is the last WorkflowTaskFailed after that activation: the
    history's run was retrying a failed workflow task on its pending inputs.
    """

    pending: list[Event]
    ended_by: Event | None
    task_failed: WorkflowTaskFailed | None = None


def split_activations(events: Iterable[Event], tail: Split | None = None
                      ) -> Iterator[RecordedActivation]:
    """Yield recorded activations in order; fill ``tail`` with what is left after them."""
    for inputs, _, commands, closing in _activations(events, tail):
        yield RecordedActivation(inputs, commands, closing)


_NO_UPDATES: tuple[UpdateDelivery, ...] = ()


def _activations(events: Iterable[Event], tail: Split | None
                 ) -> Iterator[tuple[list[Event], Sequence[UpdateDelivery], list[Event], Event]]:
    """``split_activations``' pass: each activation as (inputs, the updates its commands
    accepted, its commands, the event closing it), as ``WorkflowInstance.replay`` takes."""
    inputs: list[Event] = []
    commands: list[Event] = []
    accepted = False  # an UpdateAccepted among the commands: updates to deliver
    for event in events:
        cls = type(event)
        if cls in _INPUTS:
            if commands:
                raise ForeignHistoryError(event.event_id, cls.__name__)
            inputs.append(event)
        elif cls is WorkflowTaskCompleted:
            yield inputs, _deliveries(commands) if accepted else _NO_UPDATES, commands, event
            inputs, commands, accepted = [], [], False
            if tail is not None:
                tail.task_failed = None
        elif cls in _COMMANDS:
            commands.append(event)
            if cls is UpdateAccepted:
                accepted = True
            elif cls in _TERMINAL:
                yield inputs, _deliveries(commands) if accepted else _NO_UPDATES, commands, event
                inputs, commands, accepted = [], [], False
        elif isinstance(event, WorkflowTaskFailed):  # not a command, not an input: skipped
            if tail is not None:
                tail.task_failed = event
        elif tail is not None:  # terminated or timed out from outside
            tail.pending.extend(inputs)
            tail.ended_by = event
            return
    if tail is not None:
        tail.pending.extend(inputs)


class WorkflowRegistry:
    """Workflow definitions by type name, with the dynamic workflow as a fallback."""

    def __init__(self, workflows: Sequence[type]) -> None:
        self._by_name: dict[str | None, WorkflowDefinition] = {}
        for cls in workflows:
            d = WorkflowDefinition.of(cls)
            if d.name in self._by_name:
                raise WorkflowDefinitionError(f"two workflows are named {d.name!r}")
            self._by_name[d.name] = d

    def get(self, workflow_type: str) -> WorkflowDefinition:
        d = self._by_name.get(workflow_type) or self._by_name.get(None)
        if d is None:
            known = ", ".join(sorted(n for n in self._by_name if n)) or "none"
            raise WorkflowDefinitionError(
                f"unknown workflow type {workflow_type!r}; this worker knows: {known}. "
                "Register the workflow class with the worker or replayer."
            )
        return d

    def __contains__(self, workflow_type: str) -> bool:
        return workflow_type in self._by_name or None in self._by_name


def new_instance(registry: WorkflowRegistry, run_id: str, started: WorkflowStarted,
                 converter: PayloadConverter, guard: GuardHooks | None,
                 failure_exception_types: Sequence[type[BaseException]] = (),
                 interceptors: WorkflowInterceptors | None = None) -> WorkflowInstance:
    return WorkflowInstance(registry.get(started.workflow_type), run_id=run_id,
                            started=started, converter=converter, guard=guard,
                            failure_exception_types=failure_exception_types,
                            interceptors=interceptors)


def replay_events(inst: WorkflowInstance, events: Iterable[Event]) -> Split:
    """Replay recorded activations into ``inst``; returns the pending inputs after them."""
    tail = Split([], None)
    inst.replay(_activations(events, tail))
    if tail.ended_by is not None:
        inst.close_from_outside(tail.ended_by.event_id)
    return tail




@attrs.frozen(kw_only=True)
class WorkflowReplayResult:
    """The outcome of replaying one history.

    ``replay_failure`` is the error that stopped the replay (a
    NondeterminismError, a workflow task error...) or None. ``instance`` is
    the workflow as it stands at the end, so queries can run against it.
    ``task_failure`` is the WorkflowTaskFailed the history ends with, if its
    run's workflow task was failing when it was saved: the replayer then runs
    that task again with the current code, and ``replay_failure`` says why it
    still fails (None if the current code gets past it).
    """

    history: History
    replay_failure: Exception | None
    instance: WorkflowInstance | None
    status: str
    result: Any = None
    failure: Failure | None = None
    task_failure: WorkflowTaskFailed | None = None

    def query(self, name: str, *args: Any) -> Any:
        """Run a query on the replayed workflow and decode nothing (returns the payload)."""
        if self.instance is None:
            raise NoReplayedWorkflowError()
        return self.instance.query(name, self.instance.converter.to_payloads(args))


@attrs.frozen
class WorkflowReplayResults:
    """Results of ``replay_workflows``, by run id, in the order given."""

    replay_results: dict[str, WorkflowReplayResult]

    @property
    def failures(self) -> list[WorkflowReplayResult]:
        return [r for r in self.replay_results.values() if r.replay_failure is not None]


class Replayer:
    """Replays saved histories through workflow code without executing anything else.

    Activities are not run and no message is sent: every result comes from the
    history. Divergence raises NondeterminismError (or is reported in the
    result with ``raise_on_replay_failure=False``). The determinism guard is on
    (``sandbox="strict"``; also ``"warn"`` or ``"off"``).

    Only the fields that identify each command are compared. With
    ``strict_result=True`` a run that ends with another result, failure (its
    type, message and details) or continue-as-new arguments than the history
    recorded is a divergence too, at the terminal event. It is off by default:
    a replay rebuilds a run's state, and a changed result cannot break a run
    (a run records its result as it ends); ``replay check``, which asks
    whether the code reproduces the histories, turns it on.
    """

    def __init__(self, *, workflows: Sequence[type],
                 payload_converter: PayloadConverter | None = None,
                 data_converter: DataConverter | None = None,
                 guard: GuardHooks | None = None, sandbox: str = "strict",
                 sandbox_passthrough_modules: Sequence[str] = (),
                 strict_result: bool = False,
                 workflow_failure_exception_types: Sequence[type[BaseException]] = (),
                 interceptors: Sequence[Any] = ()) -> None:
        """``interceptors`` are worker interceptors (``replay.worker.Interceptor``): their
        workflow interceptor classes run in each replay, with ``is_replaying()`` true.
        ``data_converter`` (or a bare ``payload_converter``) decodes the payloads; with
        a payload codec, each history is decoded by it before the replay."""
        from ._sandbox_hooks import guard_for

        self._failure_types = tuple(workflow_failure_exception_types)
        given = WorkflowInterceptorClassInput()
        found = (i.workflow_interceptor_class(given) for i in interceptors)
        self._interceptors = workflow_interceptors([c for c in found if c is not None])
        self.strict_result = strict_result
        self._registry = WorkflowRegistry(workflows)
        if data_converter is not None and payload_converter is not None:
            raise TypeError("Replayer: pass data_converter= or payload_converter=, not both")
        self.data_converter = (data_converter if data_converter is not None
                               else DataConverter.wrapping(payload_converter)
                               if payload_converter is not None else DataConverter.default)
        self._converter = self.data_converter.payload_converter
        if guard is None:
            hooks = guard_for(sandbox, sandbox_passthrough_modules)
            hooks.prepare(workflows)
            guard = hooks
        self._guard = guard

    def replay_sync(self, history: History, *, raise_on_replay_failure: bool = True
                    ) -> WorkflowReplayResult:
        """Replay one history in this thread (the async methods wrap this)."""
        codec = self.data_converter.payload_codec
        if codec is not None:
            runner = CodecRunner(codec)
            try:
                history = History(history.run_id, runner.decode(list(history.events)))
            finally:
                runner.close()
        return self._replay_decoded(history, raise_on_replay_failure)

    def _replay_decoded(self, history: History, raise_on_replay_failure: bool
                        ) -> WorkflowReplayResult:
        inst: WorkflowInstance | None = None
        failure: Exception | None = None
        tail: Split | None = None
        try:
            inst = self._instance(history)
            tail = replay_events(inst, history.events)
            if self.strict_result and inst.closed and history.is_closed:
                match_outcome(inst, inst.terminal, history.events[-1])
            if tail.task_failed is not None and tail.pending and not inst.closed:
                self._retry_failed_task(history)
        except Exception as exc:  # anything a run does is reported, never raised past here
            if raise_on_replay_failure:
                raise
            failure = exc
        last = type(history.events[-1]).__name__
        status = _status_name(last) if failure is None else "replay_failed"
        return WorkflowReplayResult(
            history=history,
            replay_failure=failure,
            instance=inst,
            status=status,
            result=inst.result_payload if inst is not None else None,
            failure=inst.failure if inst is not None else None,
            task_failure=tail.task_failed if tail is not None else None,
        )

    def _instance(self, history: History) -> WorkflowInstance:
        return new_instance(self._registry, history.run_id, history.started, self._converter,
                            self._guard, self._failure_types, self._interceptors)

    def _retry_failed_task(self, history: History) -> None:
        """Run the workflow task the history's run was failing on again, with the current
        code; raises why it still fails. A fresh replay runs it, so the result's
        instance stays where the history left it."""
        inst = self._instance(history)
        tail = replay_events(inst, history.events)
        assert tail.task_failed is not None
        inst.activate(tail.pending, [], max(tail.task_failed.time, inst.now))

    async def replay_workflow(self, history: History, *,
                              raise_on_replay_failure: bool = True) -> WorkflowReplayResult:
        """Replay one history; a history that ends mid-run leaves the instance there."""
        return self.replay_sync(history, raise_on_replay_failure=raise_on_replay_failure)

    async def replay_workflows(self, histories: Iterable[History], *,
                               raise_on_replay_failure: bool = False
                               ) -> WorkflowReplayResults:
        """Replay many histories; keeps going past failures unless asked to stop."""
        results: dict[str, WorkflowReplayResult] = {}
        for h in histories:
            results[h.run_id] = self.replay_sync(
                h, raise_on_replay_failure=raise_on_replay_failure)
        return WorkflowReplayResults(results)


_STATUS_BY_NAME = {cls.__name__: status for cls, status in TERMINAL_STATUS.items()}


def _status_name(kind: str) -> str:
    return _STATUS_BY_NAME.get(kind, "running")
