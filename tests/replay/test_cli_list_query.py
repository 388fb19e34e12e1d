"""``replay list --query``: the list-filter language from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner, Result

from replay._cli._main import main
from replay.history import SqliteStore, Start, WorkflowStarted

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def make_store(path: Path) -> str:
    store = SqliteStore(path)
    try:
        for i, (customer, amount) in enumerate([("acme", 50), ("acme", 500), ("globex", 70)]):
            store.commit([Start(f"run-{i}", WorkflowStarted(
                event_id=1, time=T0, workflow_type="Orders", workflow_id=f"order-{i}",
                task_queue="q", search_attributes={
                    "Customer": {"type": "Keyword", "value": customer},
                    "Amount": {"type": "Int", "value": amount}}))])
    finally:
        store.close()
    return str(path)


def test_list_with_a_query_selects_runs_and_shows_their_attributes(tmp_path: Path) -> None:
    db = make_store(tmp_path / "runs.db")
    result = run("list", "--query", "Customer = 'acme' AND Amount >= 100", "--json", "--db", db)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["workflow_id"] for r in rows] == ["order-1"]
    assert rows[0]["search_attributes"]["Amount"] == {"type": "Int", "value": 500}
    table = run("list", "-q", "WorkflowType = 'Orders'", "--limit", "2", "--db", db).output
    assert [line.split()[0] for line in table.splitlines()[1:]] == ["order-2", "order-1"]


def test_a_malformed_query_is_shown_with_a_caret_and_nothing_is_listed(
        tmp_path: Path) -> None:
    db = make_store(tmp_path / "runs.db")
    result = run("list", "--query", "Amount >> 3", "--db", db)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "[RPL-SA02] invalid list query at position 9: expected a value (a quoted string, a "
        "number, true or false), found '>'",
        "  Amount >> 3",
        "          ^",
        "See docs/list-queries.md for the language.",
    ]
    unknown = run("list", "--query", "amount > 3", "--db", db)
    assert unknown.exit_code == 1
    assert "unknown attribute 'amount' (did you mean Amount?)" in unknown.stderr


def test_a_query_with_other_filters_is_a_usage_error(tmp_path: Path) -> None:
    db = make_store(tmp_path / "runs.db")
    result = run("list", "--query", "Amount > 3", "--status", "running", "--db", db)
    assert result.exit_code == 2
    assert "--query cannot be combined with --status" in result.stderr
