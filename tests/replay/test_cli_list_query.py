"""``replay list --query``: the list-filter language from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
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
    table = run("list", "-q", "WorkflowType = 'Orders'", "--limit", "2", "--db", db).stdout
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


def test_a_query_and_the_other_filters_are_combined(tmp_path: Path) -> None:
    db = make_store(tmp_path / "runs.db")
    result = run("list", "--query", "Amount > 60", "--id-prefix", "order-", "--type", "Orders",
                 "--json", "--db", db)
    assert result.exit_code == 0, result.output
    assert [r["workflow_id"] for r in json.loads(result.output)] == ["order-2", "order-1"]
    none = run("list", "--query", "Amount > 60", "--status", "completed", "--json", "--db", db)
    assert json.loads(none.output) == []


def test_id_prefix_and_a_time_range(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    store = SqliteStore(path)
    try:
        for i in range(4):
            store.commit([Start(f"r{i}", WorkflowStarted(
                event_id=1, time=T0.replace(day=1 + i), workflow_type="W",
                workflow_id=("ord-" if i % 2 else "pay-") + str(i), task_queue="q"))])
    finally:
        store.close()

    def ids(*options: str) -> list[str]:
        result = run("list", *options, "--json", "--db", str(path))
        assert result.exit_code == 0, result.output
        return [r["workflow_id"] for r in json.loads(result.output)]

    assert ids("--id-prefix", "ord-") == ["ord-3", "ord-1"]
    assert ids("--since", "2024-01-02", "--until", "2024-01-04") == ["pay-2", "ord-1"]
    assert ids("--since", "2024-01-02T00:00:00+0000", "--id-prefix", "pay") == ["pay-2"]
    bad = run("list", "--since", "yesterday", "--db", str(path))
    assert bad.exit_code == 2 and "'yesterday' does not match the formats" in bad.output


def test_the_list_is_limited_by_default_and_says_when_more_match(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import replay._cli._runs as runs

    db = make_store(tmp_path / "runs.db")
    monkeypatch.setattr(runs, "DEFAULT_LIST_LIMIT", 2)
    result = run("list", "--json", "--db", db)
    assert len(json.loads(result.stdout)) == 2
    assert "showing the newest 2 matching runs; more match (--limit N, or --all)" in \
        result.stderr
    limited = run("list", "--limit", "2", "--json", "--db", db)
    assert len(json.loads(limited.stdout)) == 2
    assert "showing the newest 2 matching runs; more match" in limited.stderr
    exact = run("list", "--limit", "3", "--json", "--db", db)
    assert len(json.loads(exact.stdout)) == 3 and exact.stderr == ""
    everything = run("list", "--all", "--json", "--db", db)
    assert len(json.loads(everything.stdout)) == 3
    both = run("list", "--all", "--limit", "2", "--db", db)
    assert both.exit_code == 2 and "--limit and --all contradict" in both.stderr
