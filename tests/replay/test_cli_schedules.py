"""``replay schedule``: create, list, describe, pause, unpause, trigger, backfill, delete
(replay/_cli/_schedules.py), driven in-process through click's CliRunner."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from replay._cli._main import main
from replay.client import Client
from replay.history import SqliteStore
from replay.worker import Worker

from .workflows.scheduled import ReportWorkflow

QUEUE = "cli-sched"


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "sched.db")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def ok(*args: str) -> Result:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


def fails(*args: str, code: int = 1) -> Result:
    result = run(*args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def create(db: str, schedule_id: str = "nightly", *extra: str) -> Result:
    return ok("schedule", "create", schedule_id, "--workflow", "ReportWorkflow", "-q", QUEUE,
              "--workflow-id", "rep", "--arg", '"cli"', "--db", db, *extra)


def test_create_list_describe_and_delete_without_a_worker(db: str) -> None:
    out = create(db, "nightly", "--cron", "0 2 * * *", "--interval", "1d/9h",
                 "--overlap", "buffer_all", "--remaining-actions", "3")
    assert 'created schedule "nightly"' in out.output
    listed = ok("schedule", "list", "--db", db).output
    assert "nightly" in listed and "cron '0 2 * * *'" in listed and "3 actions left" in listed
    data = json.loads(ok("schedule", "describe", "nightly", "--json", "--db", db).output)
    assert data["action"] == {"workflow": "ReportWorkflow", "args": ["cli"], "id": "rep",
                              "task_queue": QUEUE}
    assert data["spec"]["cron_expressions"] == ["0 2 * * *"]
    assert data["spec"]["intervals"] == [{"every": 86400.0, "offset": 32400.0}]
    assert data["policy"]["overlap"] == "BUFFER_ALL"
    assert data["state"]["remaining_actions"] == 3
    assert len(data["info"]["next_action_times"]) == 10
    text = ok("schedule", "describe", "nightly", "--db", db).output
    assert "BUFFER_ALL" in text and "ReportWorkflow" in text
    assert json.loads(ok("schedule", "list", "--json", "--db", db).output)[0]["id"] == "nightly"
    ok("schedule", "delete", "nightly", "--db", db)
    gone = fails("schedule", "describe", "nightly", "--db", db)
    assert "[RPL-SC03]" in gone.output
    assert json.loads(ok("schedule", "list", "--json", "--db", db).output) == []


def test_bad_input_is_refused_with_codes_and_nothing_is_written(db: str) -> None:
    create(db, "keep", "--interval", "1h")
    bad = fails("schedule", "create", "x", "--workflow", "W", "-q", QUEUE, "--workflow-id",
                "w", "--cron", "0 25 * * *", "--db", db)
    assert bad.output.startswith("error: [RPL-SC01] invalid cron expression '0 25 * * *' "
                                 "at column 3: hour: 25 is outside 0-23")
    assert "RPL-SC01" in bad.output
    zero = fails("schedule", "create", "x", "--workflow", "W", "-q", QUEUE, "--workflow-id",
                 "w", "--interval", "0s", "--db", db)
    assert "every must be positive" in zero.output
    fails("schedule", "create", "x", "--workflow", "W", "-q", QUEUE, "--workflow-id", "w",
          "--interval", "5 minutes", "--db", db, code=2)
    fails("schedule", "create", "x", "--workflow", "W", "-q", QUEUE, "--workflow-id", "w",
          "--db", db, code=2)  # neither --cron nor --interval
    dup = fails("schedule", "create", "keep", "--workflow", "W", "-q", QUEUE,
                "--workflow-id", "w", "--interval", "1h", "--db", db)
    assert "[RPL-SC02]" in dup.output
    for command in ("pause", "unpause", "trigger", "delete"):
        assert "[RPL-SC03]" in fails("schedule", command, "nope", "--db", db).output
    ids = [s["id"] for s in json.loads(ok("schedule", "list", "--json", "--db", db).output)]
    assert ids == ["keep"]


def test_untrusted_text_is_escaped(db: str) -> None:
    create(db, "evil\x1b[2J", "--interval", "1h", "--note", "n\x1b]0;t\x07")
    listed = ok("schedule", "list", "--db", db).output
    assert "\x1b" not in listed and "\\x1b" in listed
    assert "\x1b" not in ok("schedule", "list", "--json", "--db", db).output


async def test_commands_reach_a_worker(db: str) -> None:
    await asyncio.to_thread(create, db, "manual", "--interval", "30d", "--paused")
    client = Client(SqliteStore(db))
    try:
        async with Worker(client, task_queue=QUEUE, workflows=[ReportWorkflow]):
            await asyncio.to_thread(ok, "schedule", "trigger", "manual", "--db", db)
            runs = await _wait_runs(client, 1)
            assert runs[0].startswith("rep-")
            await asyncio.to_thread(ok, "schedule", "unpause", "manual", "--note", "go",
                                    "--db", db)
            await asyncio.to_thread(ok, "schedule", "pause", "manual", "--note", "stop",
                                    "--db", db)
            text = await asyncio.to_thread(ok, "schedule", "describe", "manual", "--db", db)
            assert "paused (stop)" in text.output
            start = "2000-01-01T00:00:00Z"
            await asyncio.to_thread(ok, "schedule", "backfill", "manual", "--start-at", start,
                                    "--end-at", "2000-03-01T00:00:00Z", "--overlap",
                                    "allow_all", "--db", db)
            runs = await _wait_runs(client, 3)  # 30-day marks since the epoch in that range
            assert len(runs) == 3
    finally:
        client.close()


async def _wait_runs(client: Client, count: int) -> list[str]:
    store = client.store
    async with asyncio.timeout(30):  # a bound for a broken run; the wait ends on a fact
        while True:
            token = store.change_token()
            runs = sorted([r.id async for r in client.list_workflows()
                           if r.id.startswith("rep-") and r.status.value == "completed"])
            if len(runs) >= count:
                return runs
            await store.wait_changed(timedelta(seconds=1).total_seconds(), since=token)
