"""``handle.ctx``: the event-driven handler's context, given a meaning in this engine.

In the LlamaIndex-style reference a handler's ``ctx`` is the run's in-memory
context: it receives events, holds state and serialises itself to resume. Here
a run's state lives in its history and its workflow object, so the context is a
view of the run through its handle:

- ``await ctx.info()``: the run as the store describes it (``describe()``);
- ``await ctx.send_event(event)``: the event goes to the run as a signal, to the
  handler named after the event's class (or ``signal=``);
- ``await ctx.store.get(key, default)``: a read of the workflow's state through
  its query named ``key`` (state changes go through signals and updates);
- ``ctx.to_dict()`` / ``RunContext.from_dict(client, data)``: the reference to
  the run's history, all a later process needs to resume following it.
"""

from __future__ import annotations

from typing import Any, Protocol

from replay.history import ReplayError

from .._core._args import UNSET
from ._errors import WorkflowQueryFailedError

FORMAT = "replay-run-reference"
"""The ``format`` of :meth:`RunContext.to_dict`'s data."""


class ContextHandle(Protocol):
    """What a context needs from its handle (a ``WorkflowHandle``)."""

    id: str
    run_id: str | None
    result_run_id: str | None
    first_execution_run_id: str | None

    async def describe(self) -> Any: ...
    async def signal(self, signal: Any, arg: Any = ..., *, args: Any = ...) -> None: ...
    async def query(self, query: Any, arg: Any = ..., *, args: Any = ...) -> Any: ...


class HandleSource(Protocol):
    """What gives handles (a ``Client``)."""

    def get_workflow_handle(self, workflow_id: str, *, run_id: str | None = None,
                            first_execution_run_id: str | None = None,
                            result_type: Any = None) -> Any: ...


class RunContextError(ReplayError):
    """A run context was used in a way this engine cannot honour (a write to its state
    view, or a reference that is not one)."""

    code = "RPL-H03"


class StateView:
    """The workflow's state, read through its queries (``ctx.store``)."""

    def __init__(self, handle: ContextHandle) -> None:
        self._handle = handle

    async def get(self, key: str, default: Any = UNSET) -> Any:
        """The answer of the workflow's query named ``key``; ``default`` if it has no such
        query (without a default, the query's own error)."""
        try:
            return await self._handle.query(key)
        except WorkflowQueryFailedError as exc:
            if default is UNSET or f"has no query {key!r}" not in str(exc):
                raise
            return default

    async def set(self, key: str, value: Any) -> None:
        """Refused: a run's state changes only through its own code (signals, updates)."""
        raise RunContextError(
            f"ctx.store.set({key!r}, ...) is not supported: a run's state is changed only by "
            "its workflow code, which replays from the history. Send the change as an event "
            "(ctx.send_event(...), a signal) or an update (handle.execute_update(...)). "
            "Nothing was sent.")


class RunContext:
    """The run's context as the event-driven handler exposes it (``handle.ctx``)."""

    def __init__(self, handle: ContextHandle) -> None:
        self._handle = handle
        self.store = StateView(handle)
        """A read view of the workflow's state, through its queries."""

    async def info(self) -> Any:
        """The run as the store describes it (``WorkflowExecutionDescription``)."""
        return await self._handle.describe()

    async def send_event(self, event: Any, *, signal: Any = None) -> None:
        """Send ``event`` to the run as a signal: to ``signal`` (a handler or a name), or
        else to the signal named after the event's class."""
        await self._handle.signal(signal if signal is not None else type(event).__name__,
                                  event)

    def to_dict(self) -> dict[str, Any]:
        """The reference to the run's history (JSON data): give it to :meth:`from_dict`,
        in any process on the same store, to follow or resume the run."""
        return {"format": FORMAT, "version": 1, "workflow_id": self._handle.id,
                "run_id": self._handle.run_id,
                "first_execution_run_id": self._handle.first_execution_run_id}

    @staticmethod
    def from_dict(client: HandleSource, data: Any) -> Any:
        """A handle to the run :meth:`to_dict` referred to (its ``ctx`` is this context
        again); RunContextError if ``data`` is not such a reference."""
        workflow_id, run_id, first = RunContext.check_reference(data)
        return client.get_workflow_handle(workflow_id, run_id=run_id,
                                          first_execution_run_id=first)

    @staticmethod
    def check_reference(data: Any) -> tuple[str, str | None, str | None]:
        """``(workflow id, run id, first execution run id)`` of :meth:`to_dict`'s data;
        RunContextError naming what is wrong otherwise."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise RunContextError(
                f"not a run reference (expected a dict with format {FORMAT!r}, as "
                f"ctx.to_dict() returns): {data!r:.200}")
        if data.get("version") != 1:
            raise RunContextError(f"run reference version {data.get('version')!r} is not "
                                  "supported (this replay reads version 1)")
        workflow_id, run_id = data.get("workflow_id"), data.get("run_id")
        first = data.get("first_execution_run_id")
        if not isinstance(workflow_id, str) or not all(
                v is None or isinstance(v, str) for v in (run_id, first)):
            raise RunContextError(f"run reference has no valid workflow_id/run_id: "
                                  f"{data!r:.200}")
        return workflow_id, run_id, first
