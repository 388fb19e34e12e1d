"""``replay migrate`` and ``replay prune`` (replay/_cli/_stores.py), on real runs.

A SQLite store holds a completed, a failed, a continued-as-new chain, a parent
and its child, and a run left open with a pending activity and a one-hour
timer. It goes to PostgreSQL and back to SQLite; every history and index
row survives, a worker on the copy finishes the open run, and a target that
holds any of the runs is refused with nothing written. Pruning removes closed
runs only, and the exported files replay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from replay.client import Client
from replay.history import (
    Append,
    History,
    PostgresStore,
    SqliteStore,
    Store,
)
from replay.testing import WorkflowEnvironment
from replay.worker import Replayer
from tests.replay.workflows import moving
from tests.replay.workflows.moving import QUEUE, WORKFLOWS


def cli(*args: str) -> Result:
    from replay._cli._main import main
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


async def _fill(path: Path) -> None:
    """Runs of every shape in the SQLite store at ``path``; Waits stays open."""
    env = await WorkflowEnvironment.start_local(path=path)
    async with env, env.worker(task_queue=QUEUE, workflows=WORKFLOWS):  # no activities
        client = env.client
        assert await client.execute_workflow(
            moving.Finishes.run, "Ada", id="finishes", task_queue=QUEUE) == "hello Ada"
        failed = await client.start_workflow(moving.Fails.run, id="fails",
                                             task_queue=QUEUE)
        with pytest.raises(Exception, match="no luck"):
            await failed.result()
        assert await client.execute_workflow(moving.CountsOn.run, 0, id="counts",
                                             task_queue=QUEUE) == 2
        assert await client.execute_workflow(moving.Parent.run, id="parent",
                                             task_queue=QUEUE) == 42
        waits = await client.start_workflow(moving.Waits.run, id="waits",
                                            task_queue=QUEUE)
        store = env.store
        while not (store.pending_activities(waits.result_run_id or "")
                   and store.next_timer_at() is not None):
            await store.wait_changed(1.0)


def snapshot(store: Store) -> dict[str, Any]:
    """Everything a store holds about its runs, to compare across stores."""
    runs = list(reversed(store.list_runs()))
    return {
        "runs": runs,
        "histories": [store.history(r.run_id) for r in runs],
        # attempts already made are not copied: the target starts fresh ones
        "activities": [(a.run_id, a.activity_type, a.activity_id, a.scheduled_time)
                       for r in runs for a in store.pending_activities(r.run_id)],
        "timers": store.due_timers(runs[0].start_time + timedelta(days=1)),
        "next_timer_at": store.next_timer_at(),
    }


def open_run_id(store: Store) -> str:
    [run] = store.list_runs(status="running")
    return run.run_id


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    path = tmp_path / "source.db"
    asyncio.run(_fill(path))
    return path


def test_sqlite_to_postgres_and_back_then_a_worker_finishes_the_open_run(
        filled: Path, tmp_path: Path, postgres_url: str,
        postgres_schemas: Callable[[], str]) -> None:
    with SqliteStore(filled) as source:
        before = snapshot(source)
    statuses = sorted(r.status for r in before["runs"])
    assert statuses == ["completed", "completed", "completed", "completed",
                        "continued_as_new", "continued_as_new", "failed", "running"]
    pg_url = with_schema(postgres_url, postgres_schemas())

    there = cli("migrate", "--from", f"sqlite:///{filled}", "--to", pg_url)
    assert there.exit_code == 0, there.output
    assert there.stdout.startswith("copied 8 runs (1 open, ")
    assert "every copy verified" in there.stdout and "***" not in pg_url
    assert there.stderr.count("copied ") == 8 and "Waits waits, running" in there.stderr
    with PostgresStore(pg_url) as pg:
        assert snapshot(pg) == before

    back_path = tmp_path / "back.db"
    back = cli("migrate", "--from", pg_url, "--to", f"sqlite:///{back_path}")
    assert back.exit_code == 0, back.output
    with SqliteStore(back_path) as copy:
        assert snapshot(copy) == before
        for history in before["histories"]:  # each copy replays through the code
            Replayer(workflows=WORKFLOWS).replay_sync(copy.history(history.run_id))
    checked = cli("check", "-w", "tests.replay.workflows.moving", "--from-db", "--db",
                  pg_url)  # the documented way to replay the copies
    assert checked.exit_code == 0, checked.output
    assert "checked 8 histories: 8 ok" in checked.stdout

    async def finish() -> Any:
        env = await WorkflowEnvironment.start_time_skipping(store=SqliteStore(back_path))
        async with env, env.worker(task_queue=QUEUE, workflows=WORKFLOWS,
                              activities=[moving.double]):
            return await env.client.get_workflow_handle("waits").result()

    assert asyncio.run(finish()) == [42, 1]
    with SqliteStore(back_path) as copy:
        assert copy.list_runs(status="running") == []

    # retention on the PostgreSQL copy goes through its prune_run() function
    pruned = cli("prune", "--db", pg_url, "--closed-before", "2999-01-01", "--status",
                 "completed", "--export-to", str(tmp_path / "pg-out"))
    assert pruned.exit_code == 0, pruned.output
    assert pruned.stdout.startswith("pruned 4 runs (")
    assert len(list((tmp_path / "pg-out").glob("*.json"))) == 4
    with PostgresStore(pg_url) as pg:
        assert sorted(r.status for r in pg.list_runs()) == [
            "continued_as_new", "continued_as_new", "failed", "running"]


def test_a_target_holding_any_run_is_refused_before_anything_is_written(
        filled: Path, tmp_path: Path) -> None:
    target_path = tmp_path / "target.db"
    with SqliteStore(filled) as source, SqliteStore(target_path) as target:
        runs = list(reversed(source.list_runs()))
        clash = runs[3]
        target.commit([Append(clash.run_id, source.history(clash.run_id).events, 0)])
        held = snapshot(target)
    result = cli("migrate", "--from", str(filled), "--to", str(target_path))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip() == (
        f"error: [RPL-S09] cannot copy into this store: it already holds run "
        f"{clash.run_id!r}. Nothing was written. Copy into an empty store (a new SQLite "
        "file, or a new PostgreSQL schema with ?schema=NAME).")
    assert result.stdout == ""
    with SqliteStore(target_path) as target:
        assert snapshot(target) == held
    missing = cli("migrate", "--from", str(tmp_path / "nope.db"), "--to", str(target_path))
    assert missing.exit_code == 1 and "no store at" in missing.stderr
    assert not (tmp_path / "nope.db").exists()


def test_an_open_run_whose_workflow_id_is_open_in_the_target_is_refused(
        filled: Path, tmp_path: Path) -> None:
    async def start_waits(path: Path) -> None:
        client = Client(SqliteStore(path))
        await client.start_workflow(moving.Waits.run, id="waits", task_queue=QUEUE)
        client.close()
    target_path = tmp_path / "target.db"
    asyncio.run(start_waits(target_path))
    result = cli("migrate", "--from", str(filled), "--to", str(target_path))
    assert result.exit_code == 1
    assert "of workflow id 'waits' is open" in result.stderr
    with SqliteStore(target_path) as target:
        assert len(target.list_runs()) == 1


def test_prune_exports_closed_runs_that_replay_and_keeps_the_open_one(
        filled: Path, tmp_path: Path) -> None:
    with SqliteStore(filled) as store:
        before = snapshot(store)
        waits = open_run_id(store)
    future = "2999-01-01"
    dry = cli("prune", "--db", str(filled), "--closed-before", future, "--dry-run",
              "--export-to", str(tmp_path / "out"))
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.startswith("would prune 7 runs (") and not (tmp_path / "out").exists()
    with SqliteStore(filled) as store:
        assert snapshot(store) == before

    only_failed = cli("prune", "--db", str(filled), "--closed-before", "0d",
                      "--status", "failed")
    assert only_failed.exit_code == 0, only_failed.output
    assert only_failed.stdout.startswith("pruned 1 runs (")
    assert "fails, failed, closed" in only_failed.stderr

    result = cli("prune", "--db", str(filled), "--closed-before", future,
                 "--export-to", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("pruned 6 runs (")
    files = sorted((tmp_path / "out").glob("*.json"))
    assert len(files) == 6
    for file in files:
        history = History.load(file)
        assert history == next(h for h in before["histories"] if h.run_id == history.run_id)
        Replayer(workflows=WORKFLOWS).replay_sync(history)
    with SqliteStore(filled) as store:
        assert [r.run_id for r in store.list_runs()] == [waits]
        assert store.history(waits) == next(h for h in before["histories"]
                                            if h.run_id == waits)
        assert store.pending_activities(waits) and store.next_timer_at() is not None
    bad = cli("prune", "--db", str(filled), "--closed-before", "yesterday")
    assert bad.exit_code == 2 and "is not a date" in bad.output
