"""Logging: the workflow and activity loggers put the ids into the message text, stay
silent while a run is replayed, failed attempts are WARNINGs, and ``replay worker`` shows
workflow and activity INFO records, as text or JSON lines, at the level asked for."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from replay.client import Client
from replay.history import MemoryStore, SqliteStore
from replay.worker import Worker

from .test_store_faults import _replay_command
from .workers.harness import bounded
from .workflows.logging_samples import LoggingGreeter, shout

ROOT = Path(__file__).resolve().parents[2]
MODULE = "tests.replay.workflows.logging_samples"


class Collect(logging.Handler):
    """Every record of the ``replay`` namespace while installed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def named(self, name: str) -> list[logging.LogRecord]:
        return [r for r in self.records if r.name == name]


@pytest.fixture
def collected() -> Iterator[Collect]:
    logger = logging.getLogger("replay")
    handler, level = Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_messages_carry_the_ids_and_replays_log_nothing(collected: Collect) -> None:
    client = Client(MemoryStore())
    # no sticky cache: every activation after the first replays the run from its history
    async with Worker(client, task_queue="logs", workflows=[LoggingGreeter],
                      activities=[shout], max_cached_workflows=0):
        handle = await client.start_workflow(LoggingGreeter.run, "Ada", id="log-1",
                                             task_queue="logs")
        assert await bounded(handle.result()) == "ADA"
    run_id = handle.result_run_id
    wf = ("{'workflow_type': 'LoggingGreeter', 'workflow_id': 'log-1', 'run_id': "
          f"'{run_id}', 'task_queue': 'logs', 'attempt': 1}}")
    assert [r.getMessage() for r in collected.named("replay.workflow")] == [
        f"greeting Ada ({wf})", f"greeted ADA ({wf})"]  # once each, replays were silent
    assert [r.levelno for r in collected.named("replay.workflow")] == [logging.INFO] * 2
    first = collected.named("replay.workflow")[0]
    assert (first.workflow_id, first.run_id) == ("log-1", run_id)  # type: ignore[attr-defined]
    activity = [r.getMessage() for r in collected.named("replay.activity")]
    assert activity == [
        f"shouting Ada ({{'activity_id': '1', 'activity_type': 'shout', 'attempt': {n}, "
        f"'task_queue': 'logs', 'workflow_id': 'log-1', 'workflow_run_id': '{run_id}', "
        "'workflow_type': 'LoggingGreeter'})" for n in (1, 2)]
    [failed] = [r for r in collected.named("replay.worker") if "failed on attempt" in
                r.getMessage()]
    assert failed.levelno == logging.WARNING
    assert failed.getMessage().startswith(
        f"activity shout (activity id 1) of workflow 'log-1' run {run_id} failed on attempt 1 "
        "(RuntimeError: first attempts always fail here); retrying in ")


def test_each_layer_logs_under_its_own_name() -> None:
    import replay._client._query_routing as client_mod
    import replay._core._loop as core_mod
    import replay._worker._worker as worker_mod
    import replay.history._postgres_listen as history_mod

    assert {m.log.name for m in (client_mod, core_mod, worker_mod, history_mod)} == {
        "replay.client", "replay.core", "replay.worker", "replay.history"}


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_the_json_format_is_one_object_per_line() -> None:
    from replay._cli._logging import JsonFormatter

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("replay.test-json")
    logger.addHandler(handler)
    try:
        logger.warning("run %s said \x1b]0;hi\x07", "r-1",
                       extra={"workflow_id": "w-1", "run_id": "r-1", "attempt": 2})
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("it failed")
    finally:
        logger.removeHandler(handler)
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
    first, second = _json_lines(out.getvalue())
    assert first["message"] == "run r-1 said \x1b]0;hi\x07"  # escaped on the line, not lost
    assert {k: first[k] for k in ("level", "logger", "workflow_id", "run_id", "attempt")} == {
        "level": "WARNING", "logger": "replay.test-json", "workflow_id": "w-1",
        "run_id": "r-1", "attempt": 2}
    assert first["time"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exception"]


def _serve(tmp_path: Path, *options: str) -> tuple[str, str]:
    """Run ``replay worker`` with ``options`` until one LoggingGreeter run has completed;
    its stdout and stderr."""
    db = tmp_path / "logs.db"
    SqliteStore(db).close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT),
                                                        os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([*_replay_command(), "worker", MODULE, "-q", "logs", "--db",
                             str(db), *options], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        async def go() -> None:
            client = await Client.connect(f"sqlite:///{db}")
            try:
                handle = await client.start_workflow("LoggingGreeter", "Ada", id="log-1",
                                                     task_queue="logs")
                assert await bounded(handle.result(), 60) == "ADA"
            finally:
                client.close()
        import asyncio
        asyncio.run(go())
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out, err


@pytest.mark.slow
def test_replay_worker_shows_workflow_and_activity_info_as_json(tmp_path: Path) -> None:
    _, err = _serve(tmp_path, "--log-format", "json")
    records = _json_lines(err)
    by_logger = {(r["logger"], r["message"].split(" (")[0]) for r in records}
    assert {("replay.workflow", "greeting Ada"), ("replay.workflow", "greeted ADA"),
            ("replay.activity", "shouting Ada")} <= by_logger
    [greeting] = [r for r in records if r["message"].startswith("greeting Ada")]
    assert (greeting["level"], greeting["workflow_id"], greeting["workflow_type"]) == (
        "INFO", "log-1", "LoggingGreeter")
    attempts = [r["attempt"] for r in records if r["logger"] == "replay.activity"]
    assert attempts == [1, 2]
    assert [r["level"] for r in records if "failed on attempt 1" in r["message"]] == [
        "WARNING"]


@pytest.mark.slow
def test_replay_worker_log_level_warning_hides_info(tmp_path: Path) -> None:
    _, err = _serve(tmp_path, "--log-level", "warning")
    lines = err.splitlines()
    assert not [line for line in lines if " INFO " in line], lines
    [failed] = [line for line in lines if "failed on attempt 1" in line]
    assert " WARNING replay.worker: activity shout (activity id 1) of workflow 'log-1'" in failed
