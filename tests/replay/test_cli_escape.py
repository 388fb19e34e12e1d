"""replay/_cli/_escape.py, and every command printing a hostile history without control codes.

The history (tests/replay/cli_workflows/hostile.py) holds an OSC title change,
a bell, a screen clear, a C1 CSI, a bidi override and DEL in its workflow id,
type, task queue, signal name, payloads, failure messages and stack traces,
worker identity and memo. No command may pass any of them to the terminal.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from replay._cli._escape import json_text, visible
from replay._cli._main import main
from replay.history import EVENT_KINDS, History

from .cli_workflows.hostile import EVIL, FAILING, hostile_history

HOSTILE = "tests.replay.cli_workflows.hostile"
RUN_ID = "run" + EVIL
WORKFLOW_ID = "wf" + EVIL

_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def test_the_hostile_history_poisons_the_failure_of_every_event_kind_that_has_one() -> None:
    with_failure = {cls for cls in EVENT_KINDS.values()
                    if "failure" in attrs.fields_dict(cls)}
    assert with_failure == set(FAILING)


def unsafe(text: str) -> list[str]:
    """Characters a terminal would act on: C0 (but newline and tab), DEL, C1, bidi."""
    return [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0
            or ord(c) in _BIDI or unicodedata.category(c) == "Cs"]


def assert_safe(result: Result) -> None:
    for name, data in (("stdout", result.stdout_bytes), ("stderr", result.stderr_bytes)):
        assert b"\x1b" not in data, f"ESC on {name}"
        text = data.decode("utf-8")  # strict: a raw C1 byte would not even be UTF-8
        assert not unsafe(text), f"{name} passes {unsafe(text)!r}:\n{text}"


def run(*args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    assert_safe(result)
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.json"
    hostile_history().save(path)
    return path


@pytest.fixture
def db(tmp_path: Path, saved: Path) -> str:
    db = str(tmp_path / "hostile.db")
    result = run("import", str(saved), "--db", db)
    assert result.exit_code == 0 and "\\x1b]0;PWNED\\x07" in result.stdout
    return db


def test_the_history_holds_the_sequences() -> None:
    text = hostile_history().to_json()
    assert text.count("\\u001b]0;PWNED\\u0007") > 10 and "\u009b" in text and "\u202e" in text


@pytest.mark.parametrize("args", [
    ["show", WORKFLOW_ID], ["show", RUN_ID, "--json"], ["show", WORKFLOW_ID, "--follow"],
    ["show", WORKFLOW_ID, "--follow", "--json"], ["list"], ["list", "--json"],
    ["describe", WORKFLOW_ID], ["describe", RUN_ID, "--json"], ["export", RUN_ID, "-o", "-"],
    # the recorded failure has a made-up cause: strict results would report it
    ["check", "-w", HOSTILE, "--from-db", "--no-strict-result"],
    ["query", WORKFLOW_ID, "notes" + EVIL, "-w", HOSTILE],
], ids=lambda a: " ".join(a[:2]).split("\x1b")[0])
def test_commands_on_the_database(db: str, args: list[str]) -> None:
    result = run(*args, "--db", db)
    assert result.exit_code == 0, result.output


def test_the_table_shows_the_escapes(db: str) -> None:
    out = run("show", WORKFLOW_ID, "--db", db).stdout
    assert "sig\\x1b]0;PWNED\\x07\\x1b[2J\\u009b31m\\u202e\\u007f" in out
    assert len(out.splitlines()) == 1 + len(hostile_history())  # one line per event


def test_json_output_still_decodes_to_the_history(db: str) -> None:
    out = run("show", RUN_ID, "--json", "--db", db).stdout
    assert "\\u009b" in out and "\\u202e" in out
    assert History.from_json(out) == hostile_history()
    listed = json.loads(run("list", "--json", "--db", db).stdout)
    assert listed[0]["workflow_id"] == WORKFLOW_ID


def test_commands_on_the_file(saved: Path, tmp_path: Path, db: str) -> None:
    run("show", str(saved))
    run("check", "-w", HOSTILE, str(saved))
    out = tmp_path / ("out" + EVIL + ".json")
    result = run("export", RUN_ID, "-o", str(out), "--db", db)
    assert result.exit_code == 0 and "out\\x1b]0;PWNED" in result.stderr


def test_errors_naming_hostile_values(saved: Path, db: str, tmp_path: Path) -> None:
    assert run("import", str(saved), "--db", db).exit_code == 1  # the run exists
    assert run("signal", WORKFLOW_ID, "sig" + EVIL, "--db", db).exit_code == 1  # closed
    assert run("show", "nope" + EVIL, "--db", db).exit_code == 1
    assert run("query", WORKFLOW_ID, "nope" + EVIL, "-w", HOSTILE, "--db", db).exit_code == 1
    result = run("check", "-w", "tests.replay.cli_workflows.greeter", str(saved))
    assert result.exit_code == 1 and "unknown workflow type" in result.stdout
    bad = json.loads(saved.read_text())
    bad["events"][2]["signal_name"] = 7  # refused, with the file's hostile name in the message
    path = tmp_path / ("bad" + EVIL + ".json")
    path.write_text(json.dumps(bad))
    assert run("import", str(path), "--db", db).exit_code == 1
    assert run("check", "-w", HOSTILE, str(path)).exit_code == 1


def test_the_debugger_shell(saved: Path, db: str) -> None:
    script = "\n".join(["state", "step", "step", "state", "history 9", "pending", "where",
                        "source", "break ActivityScheduled", "continue", "query notes" + EVIL,
                        "continue", "state", "bogus" + EVIL, "query nope" + EVIL, "quit"]) + "\n"
    for ident in (str(saved), WORKFLOW_ID):
        result = run("debug", ident, "-w", HOSTILE, "--db", db, input=script)
        assert result.exit_code == 0, result.output
        assert "replaying run run\\x1b]0;PWNED" in result.stdout
        assert "unknown command 'bogus\\x1b]0;PWNED" in result.stdout


# --- the escaping function ------------------------------------------------------------------


def test_visible_escapes_each_kind_of_control() -> None:
    assert visible("a\x1b[2Jb\x07\x00") == "a\\x1b[2Jb\\x07\\x00"
    assert visible("line\nnext\ttab\rcr") == "line\\nnext\\ttab\\rcr"
    assert visible("\x7f\x80\x9b\x9f\xa0é") == "\\u007f\\u0080\\u009b\\u009f\xa0é"
    assert visible("\u202e\u2066\u200f\u061c\u2028") == "\\u202e\\u2066\\u200f\\u061c\\u2028"
    assert visible("\ud800") == "\\ud800"
    assert visible("layout\nkept\x1b", keep_newlines=True) == "layout\nkept\\x1b"
    assert visible(42) == "42"


@given(st.text(st.characters(blacklist_categories=())))
def test_visible_leaves_nothing_a_terminal_acts_on(text: str) -> None:
    shown = visible(text)
    assert not unsafe(shown) and "\n" not in shown
    assert visible(shown) == shown  # escaping twice changes nothing more


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(st.characters(blacklist_categories=())),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(st.characters(blacklist_categories=())), inner, max_size=3),
    max_leaves=10)


@given(_JSON, st.sampled_from([None, 1]))
def test_json_text_decodes_to_the_same_value(value: object, indent: int | None) -> None:
    text = json_text(value, indent=indent)
    assert not unsafe(text.replace("\n", ""))
    assert json.loads(text) == value
