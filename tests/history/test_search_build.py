"""history/_search_build.py: values become literals the tokenizer reads back as they were."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from replay.history import list_query, query_literal
from replay.history._search_query import tokenize


@given(st.text())
def test_any_text_round_trips_through_a_literal(text: str) -> None:
    tokens = [t for t in tokenize(f"WorkflowId = {query_literal(text)}") if t.kind != "EOF"]
    assert [t.kind for t in tokens][-1] == "STRING"
    assert tokens[-1].value == text


def test_a_quote_cannot_end_the_literal_early() -> None:
    evil = "x' OR WorkflowId != '"
    tokens = [t for t in tokenize(f"WorkflowId = {query_literal(evil)}") if t.kind != "EOF"]
    assert len(tokens) == 3 and tokens[2].value == evil


def test_times_are_written_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    assert query_literal(datetime(2026, 1, 1, 13, 0, tzinfo=paris)) == \
        "'2026-01-01T12:00:00+00:00'"
    assert query_literal(datetime(2026, 1, 1, 12, 0)) == "'2026-01-01T12:00:00+00:00'"


def test_the_filters_join_with_and() -> None:
    assert list_query() == ""
    assert list_query(status="Running", workflow_type="Order", id_prefix="o-",
                      started_after=datetime(2026, 1, 1, tzinfo=UTC),
                      started_before=datetime(2026, 2, 1, tzinfo=UTC),
                      query="Amount > 3 OR Amount < 1") == (
        "ExecutionStatus = 'Running' AND WorkflowType = 'Order' AND WorkflowId STARTS_WITH "
        "'o-' AND StartTime >= '2026-01-01T00:00:00+00:00' AND StartTime < "
        "'2026-02-01T00:00:00+00:00' AND (Amount > 3 OR Amount < 1)")
