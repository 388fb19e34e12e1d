"""PostgresStore's checked commits: a step of a run whose head the store object knows is
one statement, and whatever the server's check refuses is planned again under locks.

(The conformance suite runs against checked stores and against stores that plan every
commit under locks, ``checked=False``; these tests look at what only the checked path
does.)"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
import pytest

from replay.history import (
    ActivityCompleted,
    Append,
    AppendConflictError,
    Deliver,
    PostgresStore,
    StaleResultError,
    Start,
    StoreError,
    _postgres_conn,
)
from replay.history._postgres_functions import HEAD_MOVED
from tests.history.samples import activity, signal, started, task_done
from tests.strategies import T0


@pytest.fixture
def pg(postgres_url: str, postgres_schemas: Callable[[], str]) -> Iterator[
        Callable[..., PostgresStore]]:
    """Open PostgresStores: a new schema, or (``schema=``) another handle on one."""
    made: list[PostgresStore] = []

    def open_store(schema: str | None = None) -> PostgresStore:
        made.append(PostgresStore(postgres_url, schema=schema or postgres_schemas()))
        return made[-1]

    yield open_store
    for store in made:
        store.close()


def raw(url: str, schema: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=True, options=f"-c search_path={schema}")


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of every statement the stores run from now on (the listener's included):
    through psycopg's cursors, or prepared and run through libpq directly."""
    seen: list[str] = []
    execute = psycopg.Cursor.execute
    run_prepared = _postgres_conn.run_prepared

    def counted(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(" ".join(str(query).split()))
        return execute(self, query, *args, **kwargs)

    def counted_prepared(conn: psycopg.Connection[Any], name: bytes, statement: bytes,
                         params: Sequence[bytes | None]) -> None:
        seen.append(statement.decode())
        run_prepared(conn, name, statement, params)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    monkeypatch.setattr(_postgres_conn, "run_prepared", counted_prepared)
    return seen


def _history(store: PostgresStore, run_id: str) -> list[tuple[int, str]]:
    return [(e.event_id, e.kind) for e in store.read(run_id)]


def test_a_step_of_a_known_run_is_one_statement(pg: Any, statements: list[str]) -> None:
    store = pg()
    store.commit([Start("r1", started())])
    statements.clear()
    store.commit([Append("r1", [task_done(2), activity(3)], 1)])
    done = ActivityCompleted(event_id=0, time=T0, scheduled_event_id=3, result="ok")
    store.commit([Deliver("r1", done)])
    assert [s.split("(")[0] for s in statements if not s.startswith("LISTEN")] == [
        "SELECT commit_checked"] * 2
    assert _history(store, "r1") == [(1, "WorkflowStarted"), (2, "WorkflowTaskCompleted"),
                                     (3, "ActivityScheduled"), (4, "ActivityCompleted")]
    assert store.pending_activities("r1") == []


def test_a_head_moved_by_another_writer_is_planned_again_under_locks(pg: Any) -> None:
    """Store ``one`` knows run r1 at event 1 from its own commit; ``other`` (another
    process, say) appends to it. One's next commits are checked against the head it
    knows, refused by the server, and planned again from the locked head: a delivery
    lands after the other's event, a stale conditional append conflicts and writes
    nothing."""
    one = pg()
    other = pg(one.schema)
    one.commit([Start("r1", started())])
    other.commit([Deliver("r1", signal(0, "from-other"))])
    written = one.commit([Deliver("r1", signal(0, "from-one"))])
    assert [e.event_id for e in written] == [3]
    other.commit([Deliver("r1", signal(0, "again"))])
    with pytest.raises(AppendConflictError) as err:
        one.commit([Append("r1", [task_done(4)], 3)])
    assert (err.value.expected, err.value.actual) == (3, 4)
    assert one.last_event_id("r1") == 4
    one.commit([Append("r1", [task_done(5)], 4)])
    assert [n for n, _ in _history(one, "r1")] == [1, 2, 3, 4, 5]


def test_a_group_commit_with_a_moved_head_keeps_each_batch_atomic(pg: Any) -> None:
    one = pg()
    other = pg(one.schema)
    one.commit([Start("a", started("wf-a")), Start("b", started("wf-b"))])
    other.commit([Deliver("b", signal())])  # b is at event 2 now; one knows it at 1
    results = one.commit_each([[Append("a", [task_done(2)], 1)],
                               [Append("b", [task_done(2)], 1)],
                               [Deliver("b", signal())]])
    assert isinstance(results[1], AppendConflictError)
    assert [[e.event_id for e in r] for r in (results[0], results[2])
            if isinstance(r, list)] == [[2], [3]]
    assert _history(one, "b") == [(1, "WorkflowStarted"), (2, "SignalReceived"),
                                  (3, "SignalReceived")]


def test_two_results_of_one_activity_in_one_commit_write_nothing(pg: Any) -> None:
    """The second result's task row is gone by the time it is written: the server's
    stale-result error sends the commit back to the locked path, which refuses it."""
    store = pg()
    store.commit([Start("r1", started()), Append("r1", [activity(2), task_done(3)], 1)])
    done = ActivityCompleted(event_id=0, time=T0, scheduled_event_id=2, result="ok")
    with pytest.raises(StaleResultError, match="command event 2 of run 'r1'"):
        store.commit([Deliver("r1", done), Deliver("r1", done)])
    assert store.last_event_id("r1") == 3
    assert [a.scheduled_event_id for a in store.pending_activities("r1")] == [2]


def test_commit_checked_refuses_a_head_that_is_not_the_planned_one(
        pg: Any, postgres_url: str) -> None:
    """The SQL function itself: a head that differs in any part is refused with
    HEAD_MOVED before anything is written; the exact head, or a planned "no task row
    with inputs" for a row that is gone, lets the changes through."""
    store = pg()
    store.commit([Start("r1", started())])  # running, event 1, a task row with inputs
    event = json.dumps(["E", "r1", [[2, "WorkflowTaskCompleted", "2025-01-01T00:00:01Z",
                                     "{}"]]])
    changes = f"[{event}, [\"A\", \"r1\", 2]]"
    with raw(postgres_url, store.schema) as conn:
        for head in (["r1", "running", 2, True, 0], ["r1", "completed", 1, True, 0],
                     ["r1", "running", 1, False, 0], ["r1", "running", 1, True, 1],
                     ["r1"], ["r2", "running", 1, None, 0]):
            with pytest.raises(psycopg.Error) as err:
                conn.execute("SELECT commit_checked(%s::jsonb, %s::jsonb, 'c', NULL)",
                             (json.dumps([head]), changes))
            assert err.value.sqlstate == HEAD_MOVED
        assert store.last_event_id("r1") == 1
        conn.execute("DELETE FROM workflow_tasks WHERE run_id = 'r1'")
        conn.execute("SELECT commit_checked(%s::jsonb, %s::jsonb, 'c', NULL)",
                     (json.dumps([["r1", "running", 1, False, 0], ["r9"]]), changes))
    assert store.last_event_id("r1") == 2


def test_apply_changes_refuses_a_change_it_does_not_know(pg: Any, postgres_url: str) -> None:
    store = pg()
    with raw(postgres_url, store.schema) as conn, pytest.raises(psycopg.errors.CaseNotFound):
        conn.execute("SELECT apply_changes('[[\"?\", \"r1\"]]'::jsonb)")


def test_a_missing_function_is_refused_on_open(pg: Any, postgres_url: str) -> None:
    store = pg()
    with raw(postgres_url, store.schema) as conn:
        conn.execute("DROP FUNCTION commit_checked")
    with pytest.raises(StoreError, match=r"lacks function commit_checked\(\)\. .*Nothing was "
                       "changed"):
        pg(store.schema)


def test_with_checked_commits_off_every_commit_plans_under_locks(
        postgres_url: str, postgres_schemas: Callable[[], str], statements: list[str]) -> None:
    with PostgresStore(postgres_url, schema=postgres_schemas(), checked=False) as store:
        store.commit([Start("r1", started())])
        statements.clear()
        store.commit([Append("r1", [task_done(2)], 1)])
        assert not [s for s in statements if "commit_checked" in s]
        assert any(s.endswith("FOR UPDATE OF r") for s in statements)
        assert [n for n, _ in _history(store, "r1")] == [1, 2]


def test_checked_commits_go_on_after_a_rollback_on_their_connection(
        postgres_url: str, postgres_schemas: Callable[[], str]) -> None:
    """psycopg deallocates every prepared statement of a connection after a rollback on
    it, the checked commit's included: the next checked commit prepares it again."""
    with PostgresStore(postgres_url, schema=postgres_schemas(), pool_size=1) as store:
        store.commit([Start("r1", started())])
        store.commit([Deliver("r1", signal())])  # a checked commit: prepared now
        for _ in range(6):  # psycopg prepares a statement run this often
            store.get_run("r1")
        for _ in range(2):  # planned under locks, refused, rolled back
            with pytest.raises(AppendConflictError):
                store.commit([Append("r1", [task_done(3)], 1)])
            store.commit([Deliver("r1", signal())])
        assert [n for n, _ in _history(store, "r1")] == [1, 2, 3, 4]
