"""The pytest plugin with a data converter: --replay-data-converter (or a conftest's
REPLAY_DATA_CONVERTER) decodes saved histories written through a payload codec and
configures the replay_env fixture's client."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from replay.client import Client
from replay.history import MemoryStore
from replay.worker import Worker

from .workers.harness import bounded
from .workflows import sealed
from .workflows.sealed import Order, SealedWorkflow

pytest_plugins = ["pytester"]

ARGS = ("-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function")
SPEC = "tests.replay.workflows.sealed:sealed_converter"
CONFTEST = "from tests.replay.workflows.sealed import WORKFLOWS as REPLAY_WORKFLOWS\n"


async def _sealed_history_json() -> str:
    sealed.ATTEMPTS.clear()
    store = MemoryStore()
    client = Client(store, data_converter=sealed.sealed_converter)
    async with Worker(client, task_queue=sealed.QUEUE, workflows=sealed.WORKFLOWS,
                      activities=sealed.ACTIVITIES):
        handle = await client.start_workflow(SealedWorkflow.run, Order("a", ["b"]), id="w",
                                             task_queue=sealed.QUEUE)
        await handle.signal(SealedWorkflow.approve, "yes")
        await bounded(handle.result())
    run_id = (await handle.describe()).run_id
    return store.history(run_id).to_json()  # as stored: encoded


@pytest.fixture(scope="module")
def sealed_json() -> str:
    return asyncio.run(_sealed_history_json())


def _histories(pytester: pytest.Pytester, text: str) -> Path:
    target = pytester.path / "histories"
    target.mkdir()
    (target / "sealed.json").write_text(text)
    return target


def test_saved_encoded_histories_replay_with_the_option(pytester: pytest.Pytester,
                                                        sealed_json: str) -> None:
    assert '"$payload"' in sealed_json
    pytester.makeconftest(CONFTEST)
    target = _histories(pytester, sealed_json)
    pytester.runpytest("--replay-histories", str(target), "--replay-data-converter", SPEC,
                       *ARGS).assert_outcomes(passed=1)


def test_without_the_converter_the_item_fails_naming_the_encoding(
        pytester: pytest.Pytester, sealed_json: str) -> None:
    pytester.makeconftest(CONFTEST)
    target = _histories(pytester, sealed_json)
    result = pytester.runpytest("--replay-histories", str(target), *ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*RPL-CV01*binary/sealed*"])


def test_a_conftest_converter_reaches_replay_env(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST + "from tests.replay.workflows.sealed import "
                                     "sealed_converter as REPLAY_DATA_CONVERTER\n")
    pytester.makepyfile(test_env="""
        import asyncio
        from replay.history import is_envelope
        from tests.replay.workflows import sealed

        async def test_it(replay_env, replay_client, replay_data_converter):
            assert replay_data_converter is sealed.sealed_converter
            assert replay_client.data_converter is sealed.sealed_converter
            handle = await replay_client.start_workflow(
                sealed.SealedChild.run, "x", id="c", task_queue="q")
            async with replay_env.worker(task_queue="q", workflows=sealed.WORKFLOWS):
                assert await asyncio.wait_for(handle.result(), 20) == "X"
            raw = replay_client.config()["store"]
            run_id = (await handle.describe()).run_id
            assert is_envelope(raw.history(run_id).started.args[0])
    """)
    pytester.runpytest(*ARGS, "-o", "asyncio_mode=auto").assert_outcomes(passed=1)


def test_a_bad_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    target = _histories(pytester, "{}")
    result = pytester.runpytest("--replay-histories", str(target), "--replay-data-converter",
                                "tests.replay.workflows.sealed:SECRET", *ARGS)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*is a str, not a replay.converter.DataConverter*"])
