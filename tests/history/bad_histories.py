"""A catalogue of bad history files: each one byte string, the rule and event it breaks.

Built from the golden fixtures with one thing wrong, so every case is otherwise
a valid history. Shared by the loader's tests (tests/history/test_validate.py,
test_strict.py, test_jsontext.py) and the CLI's (tests/replay/test_cli_bad_files.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from replay.history import History, HistoryError

HISTORIES = Path(__file__).resolve().parents[2] / "fixtures" / "histories"


@attrs.frozen
class Bad:
    """One bad file: its bytes, the rule broken, the event named (if any), a message part."""

    name: str
    content: bytes
    rule: str
    event_id: int | None
    message: str


def refused(tmp_path: Path, bad: Bad) -> HistoryError:
    """Load ``bad`` from a file: it must be refused as described, the file untouched."""
    path = tmp_path / "bad.json"
    path.write_bytes(bad.content)
    with pytest.raises(HistoryError) as err:
        History.load(path)
    where = f"{path}: " + (f"event {bad.event_id}: " if bad.event_id is not None else "")
    assert str(err.value).startswith(f"[RPL-H01] {where}"), str(err.value)
    assert bad.message in str(err.value), str(err.value)
    assert (err.value.rule, err.value.event_id, err.value.source) == (
        bad.rule, bad.event_id, str(path))
    assert path.read_bytes() == bad.content
    return err.value


def fixture(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((HISTORIES / f"{name}.json").read_text())
    return doc


def encode(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def before_end(name: str, kind: str, /, **fields: Any) -> tuple[bytes, int]:
    """Fixture ``name`` with an event inserted before its last (terminal) one."""
    doc = fixture(name)
    events = doc["events"]
    last = events[-1]
    new_id = last["event_id"]
    events.insert(-1, {"kind": kind, "event_id": new_id, "time": last["time"], **fields})
    last["event_id"] = new_id + 1
    return encode(doc), new_id


def after_end(name: str, kind: str, /, **fields: Any) -> tuple[bytes, int]:
    """Fixture ``name`` with an event appended after its terminal one."""
    doc = fixture(name)
    events = doc["events"]
    new_id = events[-1]["event_id"] + 1
    events.append({"kind": kind, "event_id": new_id, "time": events[-1]["time"], **fields})
    return encode(doc), new_id


def edited(name: str, index: int, path: str, value: Any) -> bytes:
    """Fixture ``name`` with one field of event ``index`` set (``path``: ``a.b.c``)."""
    doc = fixture(name)
    target = doc["events"][index]
    *parents, leaf = path.split(".")
    for key in parents:
        target = target[key]
    target[leaf] = value
    return encode(doc)


def top(name: str, **fields: Any) -> bytes:
    doc = fixture(name)
    doc.update(fields)
    return encode(doc)


def _semantic(case: str, fixture_name: str, kind: str, rule: str, message: str, /,
              *, after: bool = False, **fields: Any) -> Bad:
    content, event_id = (after_end if after else before_end)(fixture_name, kind, **fields)
    return Bad(case, content, rule, event_id, message)


_FAILURE = {"message": "late"}
_U1, _U2, _U3 = ("00000000-0000-0000-0000-0000000007d0", "00000000-0000-0000-0000-000000001388",
                 "00000000-0000-0000-0000-000000001389")

SEMANTIC: list[Bad] = [
    _semantic("activity failed after it completed", "orders_happy", "ActivityFailed",
              "duplicate-result", "ActivityFailed for the ActivityScheduled at event 2, which "
              "already has its result ActivityCompleted at event 4; a command has one result",
              scheduled_event_id=2, failure=_FAILURE),
    _semantic("activity completed twice", "orders_happy", "ActivityCompleted",
              "duplicate-result", "which already has its result ActivityCompleted at event 7",
              scheduled_event_id=5, result="again"),
    _semantic("activity timed out after it completed", "orders_happy", "ActivityTimedOut",
              "duplicate-result", "ActivityTimedOut for the ActivityScheduled at event 8, which "
              "already has its result ActivityCompleted at event 10",
              scheduled_event_id=8, timeout_type="start_to_close"),
    _semantic("timer fired twice", "timers", "TimerFired", "timer-fired-twice",
              "TimerFired for the timer started at event 2, which already fired at event 4; "
              "a timer fires once", started_event_id=2),
    _semantic("timer fired after it was canceled", "timers", "TimerFired",
              "timer-fired-after-cancel", "TimerFired for the timer started at event 10, which "
              "was canceled at event 13; a canceled timer never fires", started_event_id=10),
    _semantic("timer canceled after it fired", "timers", "TimerCanceled",
              "timer-canceled-after-fire", "which already fired at event 8; only a pending "
              "timer can be canceled", started_event_id=6),
    _semantic("timer canceled twice", "cancelled", "TimerCanceled", "timer-canceled-twice",
              "which was already canceled at event 5", started_event_id=2),
    _semantic("child result twice", "family", "ChildWorkflowCanceled", "duplicate-result",
              "ChildWorkflowCanceled for the ChildWorkflowStarted at event 2, which already "
              "has its result ChildWorkflowCompleted at event 4", initiated_event_id=2),
    _semantic("signal delivered after it failed", "family", "ExternalSignalDelivered",
              "duplicate-result", "already has its result ExternalSignalFailed at event 16",
              initiated_event_id=14),
    _semantic("update accepted twice", "approval", "UpdateAccepted", "update-accepted-twice",
              f"update {_U1!r} was already accepted at event 3; an update is accepted once",
              update_id=_U1, name="set_language", args=["fr"]),
    _semantic("update completed twice", "approval", "UpdateCompleted",
              "update-completed-twice", "UpdateCompleted for the update accepted at event 7, "
              "which already completed at event 9; an update completes once",
              update_id=_U2, accepted_event_id=7, result=1),
    _semantic("update completed under an id never accepted", "approval", "UpdateCompleted",
              "update-unknown-id", "UpdateCompleted names update 'no-such-update', which was "
              f"never accepted (event 3 accepted {_U1!r})",
              update_id="no-such-update", accepted_event_id=3),
    _semantic("update completed under another update's id", "approval", "UpdateCompleted",
              "update-id-mismatch", f"UpdateCompleted names update {_U3!r}, accepted at event "
              f"8, but its accepted_event_id is 7 (update {_U2!r})",
              update_id=_U3, accepted_event_id=7),
    _semantic("signal after the run closed", "orders_happy", "SignalReceived",
              "after-terminal", "SignalReceived comes after terminal event 17; nothing may "
              "follow the end of a run", after=True, signal_name="late"),
    _semantic("second terminal event", "failing", "WorkflowCompleted", "after-terminal",
              "WorkflowCompleted comes after terminal event 4", after=True),
    _semantic("timer fired for a non-command", "timers", "TimerFired", "unknown-command",
              "TimerFired.started_event_id=1 must name an earlier TimerStarted, but that id "
              "is a WorkflowStarted", started_event_id=1),
    _semantic("result for the wrong kind of command", "orders_happy", "TimerFired",
              "unknown-command", "TimerFired.started_event_id=2 must name an earlier "
              "TimerStarted, but that id is a ActivityScheduled", started_event_id=2),
    _semantic("result for a later event", "orders_happy", "ActivityCompleted",
              "unknown-command", "ActivityCompleted.scheduled_event_id=18 must name an earlier "
              "ActivityScheduled, but that id is no earlier event", scheduled_event_id=18),
]
"""Impossible event sequences: each breaks one rule of history._validate."""


def _typed(name: str, fixture_name: str, index: int, path: str, value: Any,
           event_id: int | None, message: str) -> Bad:
    return Bad(name, edited(fixture_name, index, path, value), "field-type", event_id, message)


WRONG_TYPES: list[Bad] = [
    _typed("event id 2.7", "orders_happy", 1, "event_id", 2.7, None,
           "bad ActivityScheduled event (event #2 of the list): event_id must be an integer, "
           "got the number 2.7"),
    _typed("event id as a string", "orders_happy", 1, "event_id", "2", None,
           "event_id must be an integer, got the string '2'"),
    _typed("event id true", "orders_happy", 0, "event_id", True, None,
           "bad WorkflowStarted event (event #1 of the list): event_id must be an integer, "
           "got true"),
    _typed("args as a string", "orders_happy", 0, "args", "abc", 1,
           "bad WorkflowStarted event: args must be a list, got the string 'abc'"),
    _typed("args as an object", "orders_happy", 1, "args", {"0": "a"}, 2,
           "args must be a list, got an object"),
    _typed("task queue as a number", "orders_happy", 0, "task_queue", 5, 1,
           "task_queue must be a string, got the integer 5"),
    _typed("random seed as a float", "orders_happy", 0, "random_seed", 7.0, 1,
           "random_seed must be an integer, got the number 7.0"),
    _typed("attempt true", "orders_happy", 3, "attempt", True, 4,
           "bad ActivityCompleted event: attempt must be an integer, got true"),
    _typed("reference as null", "orders_happy", 3, "scheduled_event_id", None, 4,
           "scheduled_event_id must be an integer, got null"),
    _typed("failure message as a number", "failing", 3, "failure.message", 7, 4,
           "bad WorkflowFailed event: failure.message must be a string, got the integer 7"),
    _typed("failure cause of the wrong type", "failing", 3, "failure.cause",
           {"message": "inner", "cause": {"message": "deep", "non_retryable": "no"}}, 4,
           "failure.cause.cause.non_retryable must be true or false, got the string 'no'"),
    _typed("failure details as an object", "failing", 3, "failure.details", {}, 4,
           "failure.details must be a list, got an object"),
    _typed("retry attempts as a string", "orders_failures", 1, "retry_policy.maximum_attempts",
           "3", 2, "retry_policy.maximum_attempts must be an integer, got the string '3'"),
    _typed("error type list holding a number", "orders_failures", 1,
           "retry_policy.non_retryable_error_types", ["ValueError", 1], 2,
           "retry_policy.non_retryable_error_types[1] must be a string, got the integer 1"),
    _typed("memo as a list", "orders_happy", 0, "memo", [], 1,
           "memo must be an object, got a list"),
    _typed("time as a number", "orders_happy", 1, "time", 1700000000, 2,
           "time must be an ISO 8601 time string, got the integer 1700000000"),
    _typed("duration as a string", "timers", 1, "duration", "5m", 2,
           "duration must be a number of seconds, got the string '5m'"),
    _typed("timeout true", "orders_happy", 1, "start_to_close_timeout", True, 2,
           "start_to_close_timeout must be a number of seconds, got true"),
    _typed("deprecated as a string", "patched", 1, "deprecated", "yes", 2,
           "deprecated must be true or false, got the string 'yes'"),
    _typed("optional id as a float", "orders_happy", 0, "parent_initiated_event_id", 1.5, 1,
           "parent_initiated_event_id must be an integer, got the number 1.5"),
    Bad("event not an object", top("orders_happy", events=[*fixture("orders_happy")["events"][:2],
                                                          ["ActivityCompleted", 3]]),
        "event-object", None, "each event must be a JSON object, got a list (event #3 of the "
        "list)"),
    Bad("version true", top("orders_happy", version=True), "version", None,
        "'version' must be an integer, got true"),
    Bad("version as a string", top("orders_happy", version="1"), "version", None,
        "'version' must be an integer, got the string '1'"),
    Bad("version 1.0", top("orders_happy", version=1.0), "version", None,
        "'version' must be an integer, got the number 1.0"),
    Bad("top-level workflow id differs", top("orders_happy", workflow_id="someone-else"),
        "document", None, "top-level 'workflow_id' is 'someone-else' but WorkflowStarted says"),
]
"""Fields of the wrong JSON type: refused, never coerced (history._strict)."""


def _raw_utf8(name: str, bad: bytes, message: str) -> Bad:
    good = encode(fixture("orders_happy"))
    at = good.index(b'"args"')
    return Bad(name, good[:at] + bad + good[at:], "utf-8", None, message.format(at=at))


def _nested(opening: str, closing: str, depth: int) -> str:
    return opening * depth + "0" + closing * depth


def spliced(fixture_name: str, index: int, field: str, raw_json: str) -> bytes:
    """A fixture with one field of event ``index`` replaced by JSON text ``raw_json``
    (text that the json module could not write, or not read back)."""
    content = edited(fixture_name, index, field, "@@SPLICE@@")
    return content.replace(b'"@@SPLICE@@"', raw_json.encode())


def _in_payload(payload_json: str) -> bytes:
    """orders_happy with its WorkflowCompleted result replaced by ``payload_json``."""
    return spliced("orders_happy", -1, "result", payload_json)


def _cause_chain(depth: int) -> str:
    return '{"message": "m", "cause": ' * depth + '{"message": "root"}' + "}" * depth


BIG = "9" * 5001

BAD_TEXT: list[Bad] = [
    _raw_utf8("invalid UTF-8 byte", b"\xff", "not UTF-8: byte 0xff at byte offset {at} "),
    _raw_utf8("truncated UTF-8 sequence", b"\xe2\x82", "byte 0xe2 at byte offset {at} "),
    _raw_utf8("overlong UTF-8 encoding", b"\xc0\xaf", "byte 0xc0 at byte offset {at} "),
    _raw_utf8("UTF-8 encoded surrogate", b"\xed\xa0\x80", "byte 0xed at byte offset {at} "),
    Bad("200,000 nested arrays", _in_payload(_nested("[", "]", 200_000)), "depth", None,
        "JSON nested deeper than 128 levels at line 1 column"),
    Bad("200,000 nested objects", _in_payload(_nested('{"a": ', "}", 200_000)), "depth", None,
        "JSON nested deeper than 128 levels"),
    Bad("200,000 unclosed brackets", b'{"events": ' + b"[" * 200_000, "depth", None,
        "JSON nested deeper than 128 levels"),
    Bad("5,000-deep cause chain", spliced("failing", -1, "failure", _cause_chain(5000)),
        "depth", None,
        "a payload or a failure's cause chain is too deep"),
    Bad("5,001-digit integer", _in_payload(BIG), "integer-size", None,
        "an integer with 5001 digits at line 1 column"),
    Bad("negative 5,001-digit integer", _in_payload("-" + BIG), "integer-size", None,
        "an integer with 5001 digits"),
    Bad("5,001-digit event id", spliced("orders_happy", 1, "event_id", BIG), "integer-size",
        None, "integers in a history have at most 4300 digits"),
    Bad("truncated file", encode(fixture("orders_happy"))[:-40], "json", None,
        "malformed JSON at line 1"),
]
"""Text a plain json.loads would turn into a traceback or accept (history._jsontext)."""

ALL: list[Bad] = [*SEMANTIC, *WRONG_TYPES, *BAD_TEXT]
