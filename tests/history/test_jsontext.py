"""history/_jsontext.py: history JSON within limits, never a traceback."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from replay.history import History, HistoryError, WorkflowCompleted
from replay.history._jsontext import MAX_INT_DIGITS
from replay.history._limits import MAX_DEPTH

from .bad_histories import BAD_TEXT, Bad, encode, fixture, refused, spliced


@pytest.mark.parametrize("bad", BAD_TEXT, ids=[b.name for b in BAD_TEXT])
def test_text_beyond_the_limits_is_refused(tmp_path: Path, bad: Bad) -> None:
    err = refused(tmp_path, bad)
    with pytest.raises(HistoryError) as from_text:
        History.from_json(bad.content)
    assert str(from_text.value) == str(err).replace(str(tmp_path / "bad.json"), "<string>")


def test_invalid_utf8_names_the_byte_offset_and_line() -> None:
    content = b'{"format":\n"replay-history",\n "x": "\xfe"}'
    with pytest.raises(HistoryError) as err:
        History.from_json(content, source="h.json")
    assert str(err.value) == (
        "[RPL-H01] h.json: not UTF-8: byte 0xfe at byte offset 36 (line 3) is invalid start "
        "byte; history files are UTF-8 text")


def test_a_byte_order_mark_is_allowed() -> None:
    content = encode(fixture("orders_happy"))
    assert History.from_json(b"\xef\xbb\xbf" + content) == History.from_json(content)


def _result(history: History) -> Any:
    completed = history.events[-1]
    assert isinstance(completed, WorkflowCompleted)
    return completed.result


def _nested_payload(depth: int) -> bytes:
    # the document, the events list and the event are three levels: the payload adds the rest
    levels = depth - 3
    return spliced("orders_happy", -1, "result", "[" * levels + "]" * levels)


def test_nesting_up_to_the_limit_loads() -> None:
    History.from_json(_nested_payload(MAX_DEPTH))
    with pytest.raises(HistoryError, match="nested deeper than 128 levels at line 1 column"):
        History.from_json(_nested_payload(MAX_DEPTH + 1))


def test_brackets_inside_strings_do_not_count() -> None:
    text = spliced("orders_happy", -1, "result", json.dumps("[{" * 100_000 + '\\"]'))
    assert _result(History.from_json(text)) == "[{" * 100_000 + '\\"]'


def test_integers_up_to_the_limit_load() -> None:
    assert MAX_INT_DIGITS == 4300
    digits = "7" * MAX_INT_DIGITS
    history = History.from_json(spliced("orders_happy", -1, "result", digits))
    assert _result(history) == int(digits)
    big_float = "1" * 6000 + ".5"  # floats have no digit limit: this one is just large
    History.from_json(spliced("orders_happy", -1, "result", big_float))


@pytest.fixture
def low_int_limit() -> Iterator[None]:
    previous = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(1000)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(previous)


@pytest.mark.usefixtures("low_int_limit")
def test_an_interpreter_limit_lower_than_ours_is_still_an_error() -> None:
    with pytest.raises(HistoryError, match="an integer with 2000 digits at line 1") as err:
        History.from_json(spliced("orders_happy", -1, "result", "5" * 2000))
    assert err.value.rule == "integer-size"


def _with_result(value: Any) -> dict[str, Any]:
    doc = fixture("orders_happy")
    doc["events"][-1]["result"] = value
    return doc


def test_parsed_documents_meet_the_same_limits() -> None:
    deep: Any = 0
    for _ in range(10_000):
        deep = [deep]
    cycle: list[Any] = []
    cycle.append(cycle)
    cases: list[tuple[Any, str, str]] = [
        (_with_result(deep), "depth", "JSON nested deeper than 128 levels in the document"),
        (_with_result(cycle), "depth", "JSON nested deeper than 128 levels"),
        (_with_result(10 ** 5000), "integer-size", "an integer of about 5001 digits"),
        (_with_result((1, 2)), "document", "a value of type tuple is not JSON data"),
        (_with_result({1: "x"}), "document", "an object key is int 1; JSON keys are strings"),
    ]
    for doc, rule, message in cases:
        with pytest.raises(HistoryError) as err:
            History.from_data(doc, source="doc")
        assert err.value.rule == rule
        assert str(err.value).startswith(f"[RPL-H01] doc: {message}"), str(err.value)
