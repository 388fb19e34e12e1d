"""``--data-converter`` on the commands that encode or decode payloads: with the codec
that wrote a history, show/describe print values and check/query/debug replay it;
without it, encoded payloads show as ``<encoded ...>`` and replays fail with RPL-CV01."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from replay._cli._main import main
from replay.client import Client
from replay.history import SqliteStore, is_envelope
from replay.worker import Worker

from .workers.harness import bounded
from .workflows import sealed
from .workflows.sealed import Order, SealedWorkflow

CONVERTER = "tests.replay.workflows.sealed:sealed_converter"
CODE = "tests.replay.workflows.sealed"


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def ok(*args: str, input: str | None = None) -> Result:
    result = run(*args, input=input)
    assert result.exit_code == 0, result.output
    return result


async def _record(db: str) -> None:
    sealed.ATTEMPTS.clear()
    client = await Client.connect(f"sqlite:///{db}", data_converter=sealed.sealed_converter)
    try:
        async with Worker(client, task_queue=sealed.QUEUE, workflows=sealed.WORKFLOWS,
                          activities=sealed.ACTIVITIES):
            handle = await client.start_workflow(
                SealedWorkflow.run, Order(sealed.SECRET, ["pen"]), id="sealed-cli",
                task_queue=sealed.QUEUE, memo={"secret": sealed.SECRET})
            await handle.execute_update(SealedWorkflow.add_item, "cup")
            await handle.signal(SealedWorkflow.approve, "fine")
            await bounded(handle.result())
    finally:
        client.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("cli-converter") / "sealed.db")
    asyncio.run(_record(path))
    return path


def test_show_without_the_converter_shows_encoded_payloads(db: str) -> None:
    out = ok("show", "sealed-cli", "--db", db).output
    assert "<encoded binary/sealed, " in out
    assert sealed.SECRET not in out
    stored = json.loads(ok("show", "sealed-cli", "--json", "--db", db).output)
    assert is_envelope(stored["events"][0]["args"][0])


def test_show_and_describe_with_the_converter_show_the_values(db: str) -> None:
    out = ok("show", "sealed-cli", "--db", db, "--data-converter", CONVERTER).output
    assert sealed.SECRET in out and "<encoded" not in out
    data = json.loads(ok("show", "sealed-cli", "--json", "--db", db,
                         "--data-converter", CONVERTER).output)
    assert data["events"][0]["args"] == [{"customer": sealed.SECRET, "items": ["pen"]}]
    described = json.loads(ok("describe", "sealed-cli", "--json", "--db", db,
                              "--data-converter", CONVERTER).output)
    assert described["memo"] == {"secret": sealed.SECRET}


def test_check_query_and_debug_replay_only_with_the_converter(db: str) -> None:
    checked = ok("check", "--from-db", "-w", CODE, "--db", db, "--data-converter", CONVERTER)
    assert "2 ok, 0 diverged, 0 failed" in checked.output
    failed = run("check", "--from-db", "-w", CODE, "--db", db)
    assert failed.exit_code == 1 and "RPL-CV01" in failed.output

    answer = ok("query", "sealed-cli", "current_items", "-w", CODE, "--db", db,
                "--data-converter", CONVERTER)
    assert json.loads(answer.output) == ["pen", "cup"]

    shell = ok("debug", "sealed-cli", "-w", CODE, "--db", db, "--data-converter", CONVERTER,
               input="continue\nquery current_items\nquit\n")
    assert '["pen", "cup"]' in shell.output


def test_start_with_the_converter_writes_encoded_payloads(tmp_path: Path) -> None:
    db = str(tmp_path / "start.db")
    ok("start", "SealedWorkflow", "--id", "s2", "-q", sealed.QUEUE, "--db", db,
       "--arg", json.dumps({"customer": sealed.SECRET, "items": []}),
       "--data-converter", CONVERTER)
    store = SqliteStore(db)
    try:
        (run_info,) = store.list_runs()
        args = store.history(run_info.run_id).started.args
    finally:
        store.close()
    assert is_envelope(args[0])
    assert sealed.SECRET not in json.dumps(args)


@pytest.mark.parametrize(("spec", "message"), [
    ("tests.replay.workflows.sealed", "is not module:attribute"),
    ("tests.replay.workflows.sealed:nothing", "has no attribute 'nothing'"),
    ("tests.replay.workflows.sealed:SECRET", "is a str, not a DataConverter"),
])
def test_a_bad_converter_name_is_a_usage_error(tmp_path: Path, spec: str, message: str) -> None:
    db = str(tmp_path / "none.db")
    result = run("start", "SealedWorkflow", "--id", "x", "-q", "q", "--db", db,
                 "--data-converter", spec)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not Path(db).exists()
