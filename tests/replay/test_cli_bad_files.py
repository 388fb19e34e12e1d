"""``replay import`` and ``replay check`` on bad history files (tests/history/bad_histories.py).

import refuses each with one line on stderr naming the file, the event and the
rule, and writes nothing; check reports each bad file and goes on with the rest.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from replay._cli._main import main
from replay.history import SqliteStore
from tests.history.bad_histories import ALL, HISTORIES, Bad

WORKFLOWS = "fixtures.workflows:ALL_WORKFLOWS"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def write(tmp_path: Path, bad: Bad) -> Path:
    path = tmp_path / "bad.json"
    path.write_bytes(bad.content)
    return path


@pytest.mark.parametrize("bad", ALL, ids=[b.name for b in ALL])
def test_import_refuses_a_bad_file_and_writes_nothing(tmp_path: Path, bad: Bad) -> None:
    path = write(tmp_path, bad)
    target = tmp_path / "target.db"
    result = run("import", str(path), "--db", str(target))
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    where = f"{path}: " + (f"event {bad.event_id}: " if bad.event_id is not None else "")
    assert result.stderr.startswith(f"error: [RPL-H01] {where}"), result.stderr
    assert result.stderr.endswith(f" (rule: {bad.rule})\n")
    assert bad.message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not target.exists()


def test_an_existing_database_is_left_as_it_was(tmp_path: Path) -> None:
    db = str(tmp_path / "runs.db")
    assert run("import", str(HISTORIES / "orders_happy.json"), "--db", db).exit_code == 0
    before = _contents(db)
    for bad in ALL:
        result = run("import", str(write(tmp_path, bad)), "--db", db)
        assert result.exit_code == 1 and "[RPL-H01]" in result.stderr, bad.name
    assert _contents(db) == before


def _contents(db: str) -> list[object]:
    store = SqliteStore(db)
    try:
        return [(run, store.read(run.run_id)) for run in store.list_runs()]
    finally:
        store.close()


def test_check_reports_every_bad_file_and_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "histories"
    folder.mkdir()
    for i, bad in enumerate(ALL):
        (folder / f"bad-{i:02d}.json").write_bytes(bad.content)
    shutil.copy(HISTORIES / "orders_happy.json", folder / "zz-good.json")
    result = run("check", "-w", WORKFLOWS, str(folder))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    for i, bad in enumerate(ALL):
        path = folder / f"bad-{i:02d}.json"
        assert f"INVALID {path}:\n  [RPL-H01] {path}: " in result.stdout, bad.name
    assert result.stdout.count("INVALID ") == len(ALL)
    assert result.stdout.count("(rule: ") == len(ALL)
    assert (f"checked {len(ALL) + 1} histories: 1 ok, 0 diverged, 0 failed, "
            f"{len(ALL)} invalid") in result.stdout
