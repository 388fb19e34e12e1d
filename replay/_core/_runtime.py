"""The API workflow code calls (re-exported by ``replay.workflow``).

Every function finds the current run with ``instance_for`` (the instance that
runs workflow code in this context). The few functions that create commands
are the only places workflow code suspends on durable work; those for
activities and child workflows live in ``_runtime_activity`` and
``_runtime_child`` and are re-exported here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random as _random
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, NoReturn

import attrs

from replay.history import PayloadConverter
from replay.sandbox import unrestricted

from ._args import UNSET, all_args
from ._commands import EmitCommand, UpsertSearchAttributesCommand
from ._current import NotInWorkflowError as NotInWorkflowError
from ._current import instance_for
from ._definition import workflow_name
from ._exceptions import ContinueAsNewError
from ._info import WorkflowInfo
from ._instance import current_instance
from ._interceptors import ContinueAsNewInput
from ._runtime_activity import ActivityHandle as ActivityHandle
from ._runtime_activity import execute_activity as execute_activity
from ._runtime_activity import execute_activity_method as execute_activity_method
from ._runtime_activity import execute_local_activity as execute_local_activity
from ._runtime_activity import execute_local_activity_method as execute_local_activity_method
from ._runtime_activity import start_activity as start_activity
from ._runtime_activity import start_activity_method as start_activity_method
from ._runtime_activity import start_local_activity as start_local_activity
from ._runtime_activity import start_local_activity_method as start_local_activity_method
from ._runtime_child import ChildWorkflowHandle as ChildWorkflowHandle
from ._runtime_child import ExternalWorkflowHandle as ExternalWorkflowHandle
from ._runtime_child import execute_child_workflow as execute_child_workflow
from ._runtime_child import get_external_workflow_handle as get_external_workflow_handle
from ._runtime_child import get_external_workflow_handle_for as get_external_workflow_handle_for
from ._runtime_child import start_child_workflow as start_child_workflow
from ._search_attributes import (
    SearchAttributeUpdate,
    TypedSearchAttributes,
    decode_attributes,
    encode_attributes,
    encode_updates,
    untyped_attributes,
)

# The old private names, still imported by replay._client (which should import UNSET and
# all_args from _args and workflow_name from _definition instead).
_UNSET = UNSET
_all_args = all_args
_workflow_name = workflow_name


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# --- facts, time, randomness ------------------------------------------------------------


def info() -> WorkflowInfo:
    """Facts about the current run (ids, type, task queue, start time, parent)."""
    inst = instance_for("info")
    return inst.info if inst.outbound is None else inst.outbound.info()


def now() -> datetime:
    """Workflow time as an aware UTC datetime; fixed within one activation."""
    return instance_for("now").now


def time() -> float:
    """Workflow time in seconds since the epoch (the loop's clock)."""
    return instance_for("time").loop.time()


def random() -> _random.Random:
    """A random generator seeded from the history: the same draws on every replay."""
    return instance_for("random").random


def uuid4() -> uuid.UUID:
    """A version 4 UUID drawn from the run's seeded generator."""
    return instance_for("uuid4").uuid4()


def memo() -> dict[str, Any]:
    """The run's memo, as recorded when it started (values undecoded)."""
    return dict(instance_for("memo").info.memo)


def memo_value(key: str, default: Any = UNSET, *, type_hint: Any = None) -> Any:
    """One memo value decoded into ``type_hint``; KeyError without a default."""
    inst = instance_for("memo_value")
    if key not in inst.info.memo:
        if default is UNSET:
            raise KeyError(f"the run's memo has no key {key!r}")
        return default
    return inst.converter.from_payload(inst.info.memo[key], type_hint)


def payload_converter() -> PayloadConverter:
    """The converter that decodes ``RawValue`` payloads in dynamic handlers."""
    return instance_for("payload_converter").converter


async def sleep(duration: float | timedelta) -> None:
    """Wait on a durable timer (the same as ``asyncio.sleep`` in workflow code)."""
    await asyncio.sleep(_seconds(duration))


async def wait_condition(fn: Callable[[], bool], *, timeout: float | timedelta | None = None,
                         timeout_summary: str | None = None) -> None:
    """Wait until ``fn()`` is true, checked after each step of the workflow.

    With ``timeout`` a durable timer bounds the wait and ``asyncio.TimeoutError``
    is raised when it fires first. ``timeout_summary`` (a label the familiar engine's
    UI shows) is not recorded by replay: passing one raises TypeError.
    """
    if timeout_summary is not None:
        raise TypeError("workflow.wait_condition() does not record timeout_summary= (a timer "
                        "label for a UI); replay would ignore it, so it refuses it instead. "
                        "Remove the argument.")
    fut = instance_for("wait_condition").add_condition(fn)
    if timeout is None:
        await fut
    else:
        await asyncio.wait_for(fut, _seconds(timeout))


def all_handlers_finished() -> bool:
    """True when no signal or update handler is still running."""
    return instance_for("all_handlers_finished").handlers.all_finished()


def patched(patch_id: str) -> bool:
    """True on new code paths; False while replaying a history recorded before the patch."""
    return instance_for("patched").patched(patch_id)


def deprecate_patch(patch_id: str) -> None:
    """Mark a patch as the only path from now on (old histories no longer replay)."""
    instance_for("deprecate_patch").patched(patch_id, deprecated=True)


def emit(value: Any) -> None:
    """Record ``value`` for clients streaming this run's events (``stream_events``)."""
    inst = instance_for("emit")
    inst.ensure_writable("workflow.emit()")
    inst.add_command(EmitCommand(seq=inst.next_seq("emit"),
                                 payload=inst.converter.to_payload(value)))


def continue_as_new(arg: Any = UNSET, *, args: Sequence[Any] = (), workflow: Any = None,
                    task_queue: str | None = None, memo: dict[str, Any] | None = None,
                    search_attributes: TypedSearchAttributes | None = None) -> NoReturn:
    """End this run and start a fresh one of the same workflow id with new arguments.

    ``search_attributes`` become the new run's; without them it keeps this run's
    current ones (as ``workflow.info().typed_search_attributes`` shows them).
    """
    inst = instance_for("continue_as_new")
    inst.ensure_writable("workflow.continue_as_new()")
    name = workflow if isinstance(workflow, str) or workflow is None else workflow_name(
        workflow)[0]
    if search_attributes is not None:
        encode_attributes(search_attributes)  # refuse bad values here, where the code is
    input = ContinueAsNewInput(workflow=name, args=all_args(arg, args),
                               task_queue=task_queue, memo=memo,
                               search_attributes=search_attributes)
    if inst.outbound is not None:
        inst.outbound.continue_as_new(input)
    raise_continue_as_new(input)


def raise_continue_as_new(input: ContinueAsNewInput) -> NoReturn:
    """Continue as new as ``input`` says (the end of the outbound chain)."""
    attributes = (None if input.search_attributes is None
                  else encode_attributes(input.search_attributes))
    raise ContinueAsNewError(workflow=input.workflow or "", args=input.args,
                             task_queue=input.task_queue,
                             memo=dict(input.memo) if input.memo is not None else None,
                             headers=dict(input.headers), search_attributes=attributes)


def upsert_search_attributes(updates: Sequence[SearchAttributeUpdate[Any]]) -> None:
    """Set or remove search attributes of this run (``key.value_set(v)``,
    ``key.value_unset()``).

    Recorded in the history (``SearchAttributesUpserted``), so the store's index and
    list queries see the new values once this activation commits, and replay checks
    that the code makes the same upsert. ``workflow.info().typed_search_attributes``
    shows the new values at once. A value that does not fit its key's type raises
    ``SearchAttributeError`` naming the key, and nothing is recorded.
    """
    inst = instance_for("upsert_search_attributes")
    inst.ensure_writable("workflow.upsert_search_attributes()")
    encoded = encode_updates(updates)
    if not encoded:
        return
    inst.add_command(UpsertSearchAttributesCommand(encoded))
    current = encode_attributes(inst.info.typed_search_attributes)
    for name, stored in encoded.items():
        if stored is None:
            current.pop(name, None)
        else:
            current[name] = stored
    inst.info = attrs.evolve(inst.info, typed_search_attributes=decode_attributes(current),
                             search_attributes=untyped_attributes(current))


# --- handlers registered at run time ---------------------------------------------------------


def set_signal_handler(name: str, handler: Callable[..., Any] | None) -> None:
    """Register (or with None remove) a signal handler; buffered signals are delivered."""
    instance_for("set_signal_handler").handlers.set_signal_handler(name, handler)


def set_dynamic_signal_handler(handler: Callable[..., Any] | None) -> None:
    """Register a handler ``(name, args: Sequence[RawValue])`` for signals with no handler."""
    instance_for("set_dynamic_signal_handler").handlers.set_signal_handler(None, handler)


def set_query_handler(name: str, handler: Callable[..., Any] | None) -> None:
    """Register (or with None remove) a query handler while the workflow runs."""
    instance_for("set_query_handler").handlers.set_runtime_handler("query", name, handler)


def set_dynamic_query_handler(handler: Callable[..., Any] | None) -> None:
    """Register a handler ``(name, args: Sequence[RawValue])`` for queries with no handler."""
    instance_for("set_dynamic_query_handler").handlers.set_runtime_handler("query", None, handler)


def set_update_handler(name: str, handler: Callable[..., Any] | None, *,
                       validator: Callable[..., Any] | None = None) -> None:
    """Register (or with None remove) an update handler, and its validator, at run time."""
    instance_for("set_update_handler").handlers.set_runtime_handler(
        "update", name, handler, validator)


def set_dynamic_update_handler(handler: Callable[..., Any] | None, *,
                               validator: Callable[..., Any] | None = None) -> None:
    """Register a handler ``(name, args: Sequence[RawValue])`` for updates with no handler."""
    instance_for("set_dynamic_update_handler").handlers.set_runtime_handler(
        "update", None, handler, validator)


def get_signal_handler(name: str) -> Callable[..., Any] | None:
    """The signal handler for ``name`` (a method bound to the workflow, or one registered
    at run time); None if there is none."""
    return instance_for("get_signal_handler").handlers.get_handler("signal", name)


def get_dynamic_signal_handler() -> Callable[..., Any] | None:
    """The dynamic signal handler, or None."""
    return instance_for("get_dynamic_signal_handler").handlers.get_handler("signal", None)


def get_query_handler(name: str) -> Callable[..., Any] | None:
    """The query handler for ``name``, or None."""
    return instance_for("get_query_handler").handlers.get_handler("query", name)


def get_dynamic_query_handler() -> Callable[..., Any] | None:
    """The dynamic query handler, or None."""
    return instance_for("get_dynamic_query_handler").handlers.get_handler("query", None)


def get_update_handler(name: str) -> Callable[..., Any] | None:
    """The update handler for ``name`` (without its validator), or None."""
    return instance_for("get_update_handler").handlers.get_handler("update", name)


def get_dynamic_update_handler() -> Callable[..., Any] | None:
    """The dynamic update handler, or None."""
    return instance_for("get_dynamic_update_handler").handlers.get_handler("update", None)


# --- logging and unsafe ------------------------------------------------------------------------


class _WorkflowLogger(logging.LoggerAdapter[logging.Logger]):
    """Puts the run's ids into each record and stays silent while replaying.

    As the familiar SDK does, the message ends with the run's details
    (`` ({'workflow_type': ..., 'workflow_id': ..., 'run_id': ..., ...})``) so
    that any handler shows them; set ``workflow_info_on_message`` to False to
    keep the message as written. The same details are record attributes
    (``record.workflow_id``...) and, together, ``record.replay_workflow``.
    """

    workflow_info_on_message = True

    def isEnabledFor(self, level: int) -> bool:
        inst = current_instance()
        if inst is not None and inst.replaying:
            return False
        return self.logger.isEnabledFor(level)

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        inst = current_instance()
        if inst is not None:
            i = inst.info
            details = {"workflow_type": i.workflow_type, "workflow_id": i.workflow_id,
                       "run_id": i.run_id, "task_queue": i.task_queue, "attempt": i.attempt}
            extra = kwargs.setdefault("extra", {})
            extra.update(details, replay_workflow=details)
            if self.workflow_info_on_message:
                msg = f"{msg} ({details})"
        return msg, kwargs


logger = _WorkflowLogger(logging.getLogger("replay.workflow"), {})
"""Logger for workflow code: silent during replay, records carry the run's ids."""


class _Unsafe:
    """Escape hatches; read each docstring before using one."""

    @staticmethod
    def is_replaying() -> bool:
        """True while the current activation replays recorded history."""
        return instance_for("unsafe.is_replaying").replaying

    @staticmethod
    @contextlib.contextmanager
    def sandbox_unrestricted() -> Iterator[None]:
        """Run the block without the sandbox's checks (clock, randomness, I/O...).

        For side channels that must not change what the workflow does, such as
        tracing or metrics that are switched off while replaying
        (``is_replaying()``); anything the block computes must not flow back into
        the workflow's decisions, or replays will diverge.
        """
        with unrestricted():
            yield

    @staticmethod
    @contextlib.contextmanager
    def imports_passed_through() -> Iterator[None]:
        """Accepted for compatibility; imports are never re-executed per run here."""
        yield


unsafe = _Unsafe()
