"""Asynchronous activity completion: an activity that calls raise_complete_async() is
completed, failed, heartbeated or cancelled from outside its worker, exactly once, with
its timeouts still running, on every store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from replay import activity
from replay.client import (
    AsyncActivityCancelledError,
    AsyncActivityNotFoundError,
    Client,
)
from replay.exceptions import ApplicationError, NotInActivityError, ReplayError
from replay.history import (
    ActivityCanceled,
    ActivityCompleted,
    ActivityTimedOut,
    MemoryStore,
    Store,
)

from .workers.harness import QUEUE, bounded, count, running, wait_until
from .workers.stores import STORE_KINDS, make_store
from .workflows import async_completion as ac
from .workflows.async_completion import CancelsPayment, Options, Payment

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _reset() -> None:
    ac.TOKENS.clear()


@pytest.fixture(params=STORE_KINDS)
async def client(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Client]:
    c = Client(make_store(str(request.param), tmp_path, request))
    try:
        yield c
    finally:
        c.close()


async def _first_token(n: int = 1) -> bytes:
    await wait_until(lambda: len(ac.TOKENS) >= n)
    return ac.TOKENS[n - 1]


async def test_complete_by_task_token_gives_the_workflow_its_result(client: Client) -> None:
    async with running(client, workflows=[Payment], activities=[ac.charge]):
        handle = await client.start_workflow(Payment.run, Options(), id="p", task_queue=QUEUE)
        token = await _first_token()
        run_id = handle.result_run_id
        assert run_id is not None
        # the attempt waits under an owner no worker process holds
        [pending] = client.store.pending_activities(run_id)
        assert pending.lease_owner is not None
        assert pending.lease_owner.startswith("async-completion/")
        await client.get_async_activity_handle(task_token=token).complete("charged")
        assert await bounded(handle.result()) == "charged"
        with pytest.raises(AsyncActivityNotFoundError) as err:
            await client.get_async_activity_handle(task_token=token).complete("again")
        assert err.value.code == "RPL-A02" and err.value.status == "NOT_FOUND"
        assert count(client.store, run_id, "ActivityCompleted") == 1


async def test_complete_by_ids_and_the_newest_run_by_default(client: Client) -> None:
    async with running(client, workflows=[Payment], activities=[ac.charge]):
        handle = await client.start_workflow(Payment.run, Options(), id="p", task_queue=QUEUE)
        await _first_token()
        by_ids = client.get_async_activity_handle(workflow_id="p", activity_id="charge-1")
        await by_ids.heartbeat("halfway")
        await by_ids.complete("by ids")
        assert await bounded(handle.result()) == "by ids"
        with pytest.raises(AsyncActivityNotFoundError):
            await client.get_async_activity_handle(
                workflow_id="p", run_id=handle.result_run_id, activity_id="charge-1"
            ).complete("late")
        with pytest.raises(AsyncActivityNotFoundError):
            await client.get_async_activity_handle(
                workflow_id="nope", activity_id="charge-1").complete("x")


async def test_fail_is_retried_by_the_retry_policy_and_old_tokens_go_stale(
        client: Client) -> None:
    async with running(client, workflows=[Payment], activities=[ac.charge]):
        handle = await client.start_workflow(Payment.run, Options(attempts=2), id="p",
                                             task_queue=QUEUE)
        first = await _first_token()
        await client.get_async_activity_handle(task_token=first).fail(
            ApplicationError("card declined"))
        second = await _first_token(2)  # the worker ran attempt 2
        with pytest.raises(AsyncActivityNotFoundError, match="attempt 2 now"):
            await client.get_async_activity_handle(task_token=first).complete("stale")
        await client.get_async_activity_handle(task_token=second).fail(
            ApplicationError("declined again"))
        assert await bounded(handle.result()) == \
            "activity error: ApplicationError: declined again"


async def test_a_non_retryable_failure_is_final(client: Client) -> None:
    async with running(client, workflows=[Payment], activities=[ac.charge]):
        handle = await client.start_workflow(Payment.run, Options(attempts=5), id="p",
                                             task_queue=QUEUE)
        token = await _first_token()
        await client.get_async_activity_handle(task_token=token).fail(
            ApplicationError("fraud", non_retryable=True))
        assert await bounded(handle.result()) == "activity error: ApplicationError: fraud"
        assert len(ac.TOKENS) == 1


async def test_heartbeat_reports_a_cancellation_request_and_report_cancellation_records_it(
        client: Client) -> None:
    async with running(client, workflows=[CancelsPayment], activities=[ac.charge]):
        handle = await client.start_workflow(CancelsPayment.run, id="c", task_queue=QUEUE)
        token = await _first_token()
        activity_handle = client.get_async_activity_handle(task_token=token)
        await activity_handle.heartbeat("working")
        run_id = handle.result_run_id
        assert run_id is not None
        [pending] = client.store.pending_activities(run_id)
        assert pending.heartbeat_details == ["working"]
        await handle.signal(CancelsPayment.stop)
        await wait_until(lambda: client.store.pending_activities(run_id)[0].cancel_requested)
        with pytest.raises(AsyncActivityCancelledError) as err:
            await activity_handle.heartbeat("stopping")
        assert err.value.code == "RPL-A03"
        await activity_handle.report_cancellation("stopped")
        await wait_until(lambda: count(client.store, run_id, "ActivityCanceled") == 1)
        [canceled] = [e for e in client.store.read(run_id) if isinstance(e, ActivityCanceled)]
        assert canceled.details == ["stopped"]
        with pytest.raises(AsyncActivityNotFoundError):
            await activity_handle.report_cancellation()
        await handle.terminate()


async def test_the_heartbeat_timeout_still_applies_while_it_waits(client: Client) -> None:
    async with running(client, workflows=[Payment], activities=[ac.charge]):
        handle = await client.start_workflow(Payment.run, Options(heartbeat=0.2), id="p",
                                             task_queue=QUEUE)
        token = await _first_token()
        assert await bounded(handle.result()) == \
            "activity error: TimeoutError: activity timed out (heartbeat)"
        run_id = handle.result_run_id
        assert run_id is not None
        [timed_out] = [e for e in client.store.read(run_id) if isinstance(e, ActivityTimedOut)]
        assert (timed_out.timeout_type, timed_out.attempt) == ("heartbeat", 1)
        assert len(ac.TOKENS) == 1  # the activity function did not run again
        with pytest.raises(AsyncActivityNotFoundError):
            await client.get_async_activity_handle(task_token=token).complete("late")


async def test_the_start_to_close_timeout_still_applies_while_it_waits(tmp_path: Path) -> None:
    client = Client(MemoryStore())
    async with running(client, workflows=[Payment], activities=[ac.charge]):
        handle = await client.start_workflow(Payment.run, Options(start_to_close=0.2),
                                             id="p", task_queue=QUEUE)
        await _first_token()
        assert "TimeoutError" in await bounded(handle.result())
        [timed_out] = [e for e in client.store.read(handle.result_run_id or "")
                       if isinstance(e, ActivityTimedOut)]
        assert timed_out.timeout_type == "start_to_close"


async def test_bad_handles_and_tokens_are_refused(client: Client) -> None:
    with pytest.raises(TypeError, match="either task_token="):
        client.get_async_activity_handle()
    with pytest.raises(TypeError, match="either task_token="):
        client.get_async_activity_handle(task_token=b"x", workflow_id="w", activity_id="a")
    with pytest.raises(TypeError, match="either task_token="):
        client.get_async_activity_handle(workflow_id="w")
    with pytest.raises(ReplayError) as err:
        client.get_async_activity_handle(task_token=b"not a token")
    assert err.value.code == "RPL-A04" and isinstance(err.value, ValueError)
    with pytest.raises(NotInActivityError):
        activity.raise_complete_async()


async def test_an_unknown_token_is_not_found_and_writes_nothing(client: Client) -> None:
    async with running(client, workflows=[Payment], activities=[ac.charge]):
        handle = await client.start_workflow(Payment.run, Options(), id="p", task_queue=QUEUE)
        token = await _first_token()
        run_id = handle.result_run_id
        assert run_id is not None
        before = client.store.last_event_id(run_id)
        forged = token.replace(b"=", b"")  # same run, but damaged
        with pytest.raises(ReplayError):
            await client.get_async_activity_handle(task_token=forged).complete("x")
        assert client.store.last_event_id(run_id) == before
        await client.get_async_activity_handle(task_token=token).complete("ok")
        assert await bounded(handle.result()) == "ok"


def _completer(url: str, token: bytes, result: str, *, hold: bool) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "tests.replay.workers.completer", url, token.decode(), result]
    proc = subprocess.Popen([*args, *(["--hold-first"] if hold else [])], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_a_completer_killed_and_retried_records_the_outcome_exactly_once(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    store: Store = make_store(kind, tmp_path, request)
    url = _url(store, kind, tmp_path, request)
    client = Client(store)
    try:
        async with running(client, workflows=[Payment], activities=[ac.charge]):
            handle = await client.start_workflow(Payment.run, Options(), id="p",
                                                 task_queue=QUEUE)
            token = await _first_token()
            run_id = handle.result_run_id
            assert run_id is not None
            # killed before it completes: nothing is recorded
            _kill(_completer(url, token, "first", hold=True))
            assert count(store, run_id, "ActivityCompleted") == 0
            # killed after it completed: recorded once
            proc = _completer(url, token, "second", hold=False)
            assert proc.stdout is not None and proc.stdout.readline().strip() == "done"
            _kill(proc)
            # the retry finds it recorded and writes nothing
            proc = _completer(url, token, "third", hold=False)
            assert proc.stdout is not None and proc.stdout.readline().strip() == "not found"
            _kill(proc)
            assert await bounded(handle.result()) == "second"
            completed = [e for e in store.read(run_id) if isinstance(e, ActivityCompleted)]
            assert len(completed) == 1
    finally:
        client.close()


def _url(store: Store, kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'replay.db'}"
    url = str(request.getfixturevalue("postgres_url"))
    schema = getattr(store, "schema")  # noqa: B009 (PostgresStore's schema name)
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"
