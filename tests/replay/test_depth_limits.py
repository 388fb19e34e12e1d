"""Nothing the engine writes is too deep for History.load to read back: long cause
chains are recorded truncated with a marker, too-deep payloads are refused at the call."""

from __future__ import annotations

import json
import traceback
from datetime import UTC, datetime
from typing import Any

import pytest

from replay._core._failure import from_failure, to_failure
from replay.client import Client, WorkflowFailureError
from replay.exceptions import ActivityError, ApplicationError, PayloadError
from replay.history import (
    MAX_FAILURE_CHAIN,
    MAX_PAYLOAD_DEPTH,
    ActivityFailed,
    Failure,
    History,
    HistoryError,
    Payload,
    PayloadConverter,
    SignalReceived,
    WorkflowFailed,
    WorkflowStarted,
    payload_to_data,
)

from .workers.harness import QUEUE, bounded, running
from .workers.stores import any_client as any_client
from .workflows import deep

CAUSES = 10_000


def _chain(failure: Failure) -> list[Failure]:
    found = [failure]
    while (cause := found[-1].cause) is not None:
        found.append(cause)
    return found


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def _reads_back(history: History) -> History:
    return History.from_json(history.to_json(indent=None))


def test_a_long_cause_chain_is_recorded_truncated_with_a_marker() -> None:
    failure = to_failure(deep.deep_chain(CAUSES), PayloadConverter())
    chain = _chain(failure)
    assert len(chain) == MAX_FAILURE_CHAIN == 60
    assert [f.message for f in chain[:3]] == ["deep failure", f"cause {CAUSES - 1}",
                                              f"cause {CAUSES - 2}"]
    dropped = CAUSES + 1 - (MAX_FAILURE_CHAIN - 1)
    assert chain[-1].type == "CausesDropped"
    assert chain[-1].message == (f"{dropped} more causes dropped: a recorded failure keeps "
                                 f"at most {MAX_FAILURE_CHAIN} failures in its cause chain")
    rebuilt = from_failure(failure)
    assert isinstance(rebuilt, ApplicationError) and rebuilt.message == "deep failure"


def test_a_chain_at_the_limit_is_kept_whole_and_a_loop_ends_where_it_repeats() -> None:
    whole = _chain(to_failure(deep.deep_chain(MAX_FAILURE_CHAIN - 1), PayloadConverter()))
    assert len(whole) == MAX_FAILURE_CHAIN
    assert whole[-1].message == "cause 0"
    first, second = ValueError("first"), ValueError("second")
    first.__cause__, second.__cause__ = second, first
    assert [f.message for f in _chain(to_failure(first, PayloadConverter()))] == [
        "first", "second"]


def _failed_history(failure: Failure) -> History:
    time = datetime(2026, 1, 1, tzinfo=UTC)
    return History("run-1", [
        WorkflowStarted(event_id=1, time=time, workflow_type="W", workflow_id="w",
                        task_queue=QUEUE),
        WorkflowFailed(event_id=2, time=time, failure=failure),
    ])


def test_the_deepest_failure_the_writers_allow_reads_back_and_one_level_more_does_not(
        ) -> None:
    details = [_nested(MAX_PAYLOAD_DEPTH)]
    PayloadConverter().to_payloads(details)  # the deepest payload the converter writes
    failure: Failure | None = None
    for i in range(MAX_FAILURE_CHAIN):
        failure = Failure(message=f"f{i}", details=details, cause=failure)
    assert failure is not None
    history = _failed_history(failure)
    assert _reads_back(history) == history
    deeper = Failure(message="one more", cause=failure)
    with pytest.raises(HistoryError, match="nested deeper than 128 levels"):
        _reads_back(_failed_history(deeper))


def test_a_payload_past_the_limit_is_refused_naming_where() -> None:
    converter = PayloadConverter()
    assert converter.to_payload({"a": _nested(MAX_PAYLOAD_DEPTH - 1)}) is not None
    with pytest.raises(PayloadError) as err:
        converter.to_payloads([1, {"a": _nested(MAX_PAYLOAD_DEPTH)}])
    where = "$[1].a" + "[0]" * (MAX_PAYLOAD_DEPTH - 1)
    assert str(err.value) == (
        f"[RPL-P01] the payload nests deeper than {MAX_PAYLOAD_DEPTH} arrays and objects at "
        f"{where}; a history could not be read back with it: flatten the value (or pass it "
        "as a string)")
    assert err.value.path == where


def test_a_json_plain_payload_past_the_limit_is_refused() -> None:
    text = "[" * (MAX_PAYLOAD_DEPTH + 1) + "]" * (MAX_PAYLOAD_DEPTH + 1)
    payload = Payload(metadata={"encoding": b"json/plain"}, data=text.encode())
    with pytest.raises(PayloadError, match=r"nests deeper than 64 arrays and objects at "
                                           r"\$(\[0\]){64};"):
        payload_to_data(payload)
    fits = "[" * MAX_PAYLOAD_DEPTH + "]" * MAX_PAYLOAD_DEPTH
    assert payload_to_data(Payload(metadata={"encoding": b"json/plain"},
                                   data=fits.encode())) == json.loads(fits)


async def test_a_too_deep_start_argument_is_refused_and_nothing_written(
        any_client: Client) -> None:
    with pytest.raises(PayloadError, match=r"at \$\[0\](\[0\]){64};"):
        await any_client.start_workflow(deep.Echo.run, _nested(MAX_PAYLOAD_DEPTH + 1),
                                        id="deep", task_queue=QUEUE)
    assert any_client.store.list_runs() == []


async def test_a_too_deep_signal_argument_is_refused_and_nothing_written(
        any_client: Client) -> None:
    handle = await any_client.start_workflow(deep.Echo.run, 1, id="echo", task_queue=QUEUE)
    with pytest.raises(PayloadError, match=r"at \$\[0\](\[0\]){64};"):
        await handle.signal(deep.Echo.poke, _nested(MAX_PAYLOAD_DEPTH + 1))
    events = any_client.store.read(handle.result_run_id or "")
    assert [type(e) for e in events] == [WorkflowStarted]
    assert not any(isinstance(e, SignalReceived) for e in events)


async def test_a_workflow_failing_with_a_deep_chain_fails_cleanly(any_client: Client) -> None:
    async with running(any_client, workflows=[deep.FailsDeeply], activities=[]):
        handle = await any_client.start_workflow(deep.FailsDeeply.run, CAUSES, id="wf-deep",
                                                 task_queue=QUEUE)
        with pytest.raises(WorkflowFailureError) as err:
            await bounded(handle.result())
    assert isinstance(err.value.cause, ApplicationError)
    history = any_client.store.history(handle.result_run_id or "")
    failed = history.events[-1]
    assert isinstance(failed, WorkflowFailed)
    chain = _chain(failed.failure)
    assert len(chain) == MAX_FAILURE_CHAIN and chain[-1].type == "CausesDropped"
    assert _reads_back(history) == history


async def test_an_activity_failing_with_a_deep_chain_fails_cleanly(any_client: Client) -> None:
    async with running(any_client, workflows=[deep.ActivityFailsDeeply],
                       activities=[deep.fail_deeply]):
        handle = await any_client.start_workflow(deep.ActivityFailsDeeply.run, CAUSES,
                                                 id="act-deep", task_queue=QUEUE)
        with pytest.raises(WorkflowFailureError) as err:
            await bounded(handle.result())
    assert isinstance(err.value.cause, ActivityError)
    history = any_client.store.history(handle.result_run_id or "")
    [activity_failed] = [e for e in history.events if isinstance(e, ActivityFailed)]
    chain = _chain(activity_failed.failure)
    assert [f.message for f in chain[:2]] == ["deep failure", f"cause {CAUSES - 1}"]
    assert len(chain) == MAX_FAILURE_CHAIN and chain[-1].type == "CausesDropped"
    workflow_failed = history.events[-1]
    assert isinstance(workflow_failed, WorkflowFailed)
    assert len(_chain(workflow_failed.failure)) == MAX_FAILURE_CHAIN
    assert _reads_back(history) == history


def test_each_recorded_stack_is_the_exceptions_own_traceback() -> None:
    def raised(exc: BaseException) -> BaseException:
        try:
            raise exc
        except BaseException as caught:
            return caught

    inner = raised(KeyError("inner"))
    middle = raised(ValueError("middle"))
    middle.__cause__ = inner
    outer = raised(RuntimeError("outer"))
    outer.__cause__, outer.__context__ = middle, inner
    failure: Failure | None = to_failure(outer, PayloadConverter())
    for exc in (outer, middle, inner):
        assert failure is not None
        assert failure.stack_trace == "".join(traceback.format_exception(
            type(exc), exc, exc.__traceback__, chain=False))
        assert "Traceback (most recent call last)" in failure.stack_trace
        failure = failure.cause
    assert failure is None
