"""The ``replay`` command, driven in-process through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from replay._cli._main import main
from replay.history import History, SqliteStore

from .cli_workflows.recordings import greeter_history

GREETER = "tests.replay.cli_workflows.greeter"
CHANGED = "tests.replay.cli_workflows.greeter_changed"
RESULT_CHANGED = "tests.replay.cli_workflows.greeter_result_changed"


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "cli.db")


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def ok(*args: str, input: str | None = None) -> Result:
    result = run(*args, input=input)
    assert result.exit_code == 0, result.output
    return result


def fails(*args: str, code: int = 1) -> Result:
    result = run(*args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """A completed Greeter history in a file."""
    path = tmp_path / "greet-1.json"
    greeter_history().save(path)
    return path


@pytest.fixture
def imported(db: str, saved: Path) -> str:
    ok("import", str(saved), "--db", db)
    return db


# --- help ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = ok(name, "--help")
    assert "Example" in result.output
    assert f"replay {name}" in result.output.split("Example", 1)[1]


def test_every_command_but_lint_takes_db() -> None:
    for name, command in main.commands.items():
        params = {p.name for p in command.params}
        if name == "migrate":  # two stores: --from and --to
            assert {"source_url", "target_url"} <= params
            continue
        if isinstance(command, click.Group):  # `replay schedule ...`: each subcommand
            for sub_name, sub in command.commands.items():
                assert "db" in {p.name for p in sub.params}, f"{name} {sub_name}"
            continue
        assert name == "lint" or "db" in params, name


# --- starting and messaging runs ------------------------------------------------------------


def test_start_signal_terminate_show_and_list(db: str) -> None:
    started = ok("start", "Greeter", "--id", "g1", "--task-queue", "q", "--arg", '"Ada"',
                 "--db", db)
    assert started.stdout.startswith("started workflow g1 run ")
    assert started.stderr == f"created new store {db}\n"
    ok("signal", "g1", "add", "--arg", '"Bob"', "--db", db)
    shown = ok("show", "g1", "--db", db).output
    assert "WorkflowStarted" in shown and 'add args=["Bob"]' in shown
    ok("terminate", "g1", "--reason", "enough", "--db", db)
    listed = ok("list", "--db", db).output.splitlines()
    assert listed[0].split() == ["WORKFLOW", "ID", "RUN", "ID", "TYPE", "STATUS", "STARTED",
                                 "EVENTS"]
    assert "terminated" in listed[1]
    assert "reason='enough'" in ok("show", "g1", "--db", db).output


def test_start_checks_arguments_against_the_workflow_code(db: str) -> None:
    result = fails("start", "Greeter", "--id", "g1", "-q", "q", "--arg", '"a"', "--arg",
                   '"b"', "-w", GREETER, "--db", db)
    assert "RPL-P01" in result.stderr and "takes 1 argument(s), got 2" in result.stderr
    assert ok("list", "--db", db).output.count("\n") == 1  # header only


def test_cancel_records_a_cancel_request(db: str) -> None:
    ok("start", "Greeter", "--id", "g1", "-q", "q", "--arg", '"Ada"', "--db", db)
    ok("cancel", "g1", "--reason", "user asked", "--db", db)
    assert "CancelRequested" in ok("show", "g1", "--db", db).output


def test_update_without_a_worker_gives_up_after_its_timeout(db: str) -> None:
    ok("start", "Greeter", "--id", "g1", "-q", "q", "--arg", '"Ada"', "--db", db)
    result = fails("update", "g1", "rename", "--arg", "0", "--arg", '"A"', "--timeout", "0.2",
                   "--db", db)
    assert "is a worker running" in result.stderr


def test_signal_to_a_closed_run_fails_and_writes_nothing(imported: str) -> None:
    result = fails("signal", "greet-1", "add", "--arg", '"Eve"', "--db", imported)
    assert "RPL-C04" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Eve" not in ok("show", "greet-1", "--db", imported).output


def test_query_replays_the_run_through_the_named_code(imported: str) -> None:
    assert ok("query", "greet-1", "count", "-w", GREETER, "--db", imported).output == "2\n"
    out = ok("query", "run-greeter", "greeting_for", "--arg", "0", "-w", GREETER,
             "--db", imported).output
    assert json.loads(out) == "Hello, Ada!"
    result = fails("query", "greet-1", "nope", "-w", GREETER, "--db", imported)
    assert "no query 'nope'" in result.stderr


# --- listing and describing ---------------------------------------------------------------------


def test_list_filters_and_json(imported: str) -> None:
    ok("start", "Greeter", "--id", "g2", "-q", "q", "--arg", '"Bo"', "--db", imported)
    rows = json.loads(ok("list", "--json", "--db", imported).output)
    assert {r["workflow_id"] for r in rows} == {"greet-1", "g2"}
    running = json.loads(ok("list", "--status", "running", "--json", "--db", imported).output)
    assert [r["workflow_id"] for r in running] == ["g2"]
    assert json.loads(ok("list", "--type", "Other", "--json", "--db", imported).output) == []
    one = ok("list", "--limit", "1", "--json", "--db", imported)
    assert len(json.loads(one.stdout)) == 1
    assert "showing the newest 1 matching runs; more match" in one.stderr


def test_describe(imported: str) -> None:
    data = json.loads(ok("describe", "greet-1", "--json", "--db", imported).output)
    assert (data["run_id"], data["status"], data["last_event_id"]) == (
        "run-greeter", "completed", 18)
    table = ok("describe", "run-greeter", "--db", imported).output
    assert "status" in table and "completed" in table


# --- histories -------------------------------------------------------------------------------


def test_show_a_file_as_a_table_or_json(saved: Path) -> None:
    lines = ok("show", str(saved)).output.splitlines()
    assert lines[0].split() == ["id", "time", "kind", "summary"]
    assert len(lines) == 19
    assert lines[9].split()[:3] == ["9", "00:00:00.000", "ActivityScheduled"]
    assert History.from_json(ok("show", str(saved), "--json").output) == History.load(saved)


def test_show_follow_on_a_closed_run_prints_it_all_and_returns(imported: str) -> None:
    lines = ok("show", "greet-1", "--follow", "--db", imported).output.splitlines()
    assert len(lines) == 19 and "WorkflowCompleted" in lines[-1]
    events = ok("show", "greet-1", "-f", "--json", "--db", imported).output.splitlines()
    assert json.loads(events[0])["kind"] == "WorkflowStarted"


def test_export_then_import_into_another_database(imported: str, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    ok("export", "greet-1", "-o", str(out), "--db", imported)
    assert History.load(out) == greeter_history()
    other = str(tmp_path / "other.db")
    ok("import", str(out), "--db", other)
    store = SqliteStore(other)
    try:
        assert store.history("run-greeter") == greeter_history()
        assert store.get_run("run-greeter").status == "completed"  # type: ignore[union-attr]
    finally:
        store.close()


def test_import_refuses_an_existing_run(imported: str, saved: Path) -> None:
    result = fails("import", str(saved), "--db", imported)
    assert "already exists" in result.stderr


def test_import_of_an_invalid_file_writes_nothing(tmp_path: Path, saved: Path) -> None:
    doc = json.loads(saved.read_text())
    del doc["events"][4]  # a gap in the event ids
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    target = tmp_path / "target.db"
    result = fails("import", str(bad), "--db", str(target))
    assert "RPL-H01" in result.stderr and "contiguous" not in result.stdout
    assert not target.exists()


def test_check_files_and_directories(saved: Path, tmp_path: Path) -> None:
    out = ok("check", "-w", GREETER, str(saved), str(tmp_path)).output
    assert "checked 2 histories: 2 ok, 0 diverged, 0 failed, 0 invalid" in out


def test_check_reports_each_divergence_in_full(saved: Path, tmp_path: Path) -> None:
    (tmp_path / "junk.json").write_text("{not json")
    result = fails("check", "-w", CHANGED, str(tmp_path))
    assert "DIVERGED" in result.stdout and "[RPL-ND01]" in result.stdout
    assert "at event 9: the history holds ActivityScheduled" in result.stdout
    assert "workflow.patched" in result.stdout  # the full text, with its remedy
    assert "INVALID" in result.stdout and "malformed JSON" in result.stdout
    assert "checked 2 histories: 0 ok, 1 diverged, 0 failed, 1 invalid" in result.stdout
    assert "replaying" in result.stderr  # the progress bar


def test_check_compares_results_unless_told_not_to(saved: Path) -> None:
    result = fails("check", "-w", RESULT_CHANGED, str(saved))
    assert "DIVERGED" in result.stdout and "[RPL-ND01]" in result.stdout
    assert ("at event 18: the history holds WorkflowCompleted(result=['Hello, Ada!', "
            "'Hello, Bo!']) (event 18), but the code now ended the run with "
            "WorkflowCompleted(result=['HELLO, ADA!', 'HELLO, BO!']) at ") in result.stdout
    assert "greeter_result_changed.py:" in result.stdout
    assert "--no-strict-result" in result.stdout  # the remedy for an intended change
    assert "checked 1 history: 0 ok, 1 diverged" in result.stdout
    out = ok("check", "-w", RESULT_CHANGED, "--no-strict-result", str(saved)).output
    assert "checked 1 history: 1 ok, 0 diverged" in out


def test_check_from_the_database_with_filters(imported: str) -> None:
    ok("start", "Other", "--id", "o1", "-q", "q", "--db", imported)
    out = ok("check", "-w", GREETER, "--from-db", "--type", "Greeter", "--db", imported).output
    assert "checked 1 history: 1 ok" in out
    result = fails("check", "-w", GREETER, "--from-db", "--db", imported)
    assert "FAILED run" in result.stdout and "unknown workflow type 'Other'" in result.stdout


def test_check_usage_errors(saved: Path) -> None:
    fails("check", "-w", GREETER, code=2)
    fails("check", "-w", GREETER, str(saved), "--from-db", code=2)
    fails("check", "-w", GREETER, "missing-dir", code=2)
    fails("check", "-w", "tests.replay.cli_workflows", str(saved), code=2)  # no workflows


# --- errors ----------------------------------------------------------------------------------


def test_unknown_run_is_one_line_on_stderr(imported: str) -> None:
    result = fails("show", "nope", "--db", imported)
    assert result.stderr == "error: no run or workflow id 'nope' in this database\n"


def test_missing_database_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    result = fails("list", "--db", str(missing))
    assert "no database" in result.stderr
    assert not missing.exists()


def test_db_defaults_to_the_environment(imported: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLAY_DB", imported)
    assert "greet-1" in ok("list").output


def test_bad_json_argument_is_a_usage_error(db: str) -> None:
    result = fails("start", "Greeter", "--id", "g", "-q", "q", "--arg", "Ada", "--db", db,
                   code=2)
    assert "is not JSON" in result.stderr


def test_unknown_module_is_a_usage_error(saved: Path) -> None:
    result = fails("check", "-w", "no_such_module_here", str(saved), code=2)
    assert "no module named 'no_such_module_here'" in result.stderr


def test_module_given_as_a_file_path(saved: Path) -> None:
    path = str(Path(__file__).parent / "cli_workflows" / "pausing.py")
    result = fails("check", "-w", path, str(saved))  # Pausing does not know Greeter
    assert "unknown workflow type 'Greeter'" in result.stdout


# --- lint ------------------------------------------------------------------------------------


def test_lint_delegates_to_the_sandbox(tmp_path: Path) -> None:
    source = tmp_path / "wf.py"
    source.write_text(
        "import time\nfrom replay import workflow\n\n\n@workflow.defn\nclass W:\n"
        "    @workflow.run\n    async def run(self) -> float:\n        return time.time()\n")
    result = run("lint", str(source))
    assert result.exit_code == 1, result.output
    assert f"{source}:9:" in result.stdout
    clean = tmp_path / "clean.py"
    clean.write_text("x = 1\n")
    assert run("lint", str(clean)).exit_code == 0
    assert json.loads(run("lint", str(source), "--format", "json").stdout)[0]["line"] == 9
