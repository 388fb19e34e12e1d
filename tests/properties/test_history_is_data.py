"""Invariant 7: a history is data, never code.

Loading and replaying documents whose strings name modules, builtins or
pickled objects never imports, unpickles or evaluates anything: sys.modules is
unchanged and no audit event of an import, exec/compile or pickle lookup fires.
The database file is created readable by its owner only.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from fixtures.workflows import ALL_WORKFLOWS
from replay.history import History, ReplayError, SqliteStore
from replay.worker import Replayer

HISTORIES = Path(__file__).parents[2] / "fixtures" / "histories"
WATCHED = {"import", "exec", "compile", "pickle.find_class", "marshal.loads",
           "subprocess.Popen", "os.system"}
DANGEROUS_STRINGS = [
    "os.system", "__import__", "builtins.eval", "subprocess.Popen", "importlib.import_module",
    "cos\nsystem\n(S'echo pwned'\ntR.", "\x80\x04\x95\x1c\x00\x00\x00\x00\x00\x00\x00\x8c\x02os",
    "!!python/object/apply:os.system ['id']", "__reduce__", "pickle.loads", "json.loads",
    "fixtures.workflows.lifecycle.WaitingWorkflow", "antigravity", "this",
]
DANGEROUS = st.sampled_from(DANGEROUS_STRINGS)
EVIL_VALUE = st.recursive(
    DANGEROUS | st.none() | st.integers(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["__class__", "__type__", "py/object", "$type", "__reduce__", "x"]),
        inner, max_size=3),
    max_leaves=6)

_events: list[tuple[str, str]] = []
_lock = threading.Lock()
_armed = False


def _text(event: str, args: tuple[Any, ...]) -> str:
    first = args[0] if args else None
    if isinstance(first, bytes | str):
        return first.decode(errors="replace") if isinstance(first, bytes) else first
    return repr(getattr(first, "co_consts", first))


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if _armed and event in WATCHED and threading.current_thread() is threading.main_thread():
        with _lock:
            _events.append((event, _text(event, args)))


def _offending(seen: list[tuple[str, str]], planted: set[str]) -> list[str]:
    """Imports, unpickling or processes at all; code compiled from the document's strings.

    cattrs compiles its own (de)structuring functions and typing evaluates our
    string annotations; neither contains anything read from the document.
    """
    bad = []
    for event, text in seen:
        if event in ("compile", "exec"):
            if any(p in text for p in planted if len(p) > 3):
                bad.append(f"{event}: {text[:120]}")
        else:
            bad.append(f"{event}: {text[:120]}")
    return bad


sys.addaudithook(_hook)  # cannot be removed: it only records while armed


@contextmanager
def watching() -> Iterator[list[tuple[str, str]]]:
    global _armed
    _events.clear()
    modules = set(sys.modules)
    _armed = True
    try:
        yield _events
    finally:
        _armed = False
    assert set(sys.modules) - modules == set(), "loading or replaying imported a module"


@st.composite
def poisoned(draw: st.DrawFn) -> Any:
    """A fixture document with dangerous strings planted in payloads and names."""
    name = draw(st.sampled_from(sorted(p.name for p in HISTORIES.glob("*.json"))))
    doc = json.loads((HISTORIES / name).read_text())
    for event in doc["events"]:
        for key in list(event):
            if key in ("event_id", "time", "kind"):
                continue
            if draw(st.integers(0, 3)) == 0:
                event[key] = draw(EVIL_VALUE)
    return doc


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _load_and_replay(doc: Any) -> None:
    try:
        history = History.from_data(doc)
        Replayer(workflows=ALL_WORKFLOWS).replay_sync(history, raise_on_replay_failure=False)
    except ReplayError:
        pass  # refusing bad data is fine; running it is not


def test_warm_up_then_a_clean_replay_touches_nothing() -> None:
    doc = json.loads((HISTORIES / "family.json").read_text())
    _load_and_replay(doc)  # lazy imports of the engine itself happen here
    with watching() as seen:
        _load_and_replay(doc)
    assert _offending(seen, {"os.system"}) == []
    assert not any(event == "import" for event, _ in seen)


@given(poisoned())
def test_poisoned_documents_never_import_unpickle_or_evaluate(doc: Any) -> None:
    _load_and_replay(json.loads((HISTORIES / "family.json").read_text()))
    with watching() as seen:
        _load_and_replay(doc)
    planted = set(_strings(doc)) & set(DANGEROUS_STRINGS)
    assert _offending(seen, planted) == [], "load/replay ran something from the document"


@given(st.lists(DANGEROUS, min_size=1, max_size=4))
def test_kind_names_that_look_like_code_are_unknown_kinds(names: list[str]) -> None:
    doc = {"format": "replay-history", "version": 1, "run_id": "r",
           "events": [{"event_id": i + 1, "time": "2026-01-01T00:00:00+00:00", "kind": n}
                      for i, n in enumerate(names)]}
    with watching() as seen:
        _load_and_replay(doc)
    assert _offending(seen, set(names)) == []


def test_the_database_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "private.db"
    old = os.umask(0o022)  # a permissive umask must not leak the file to others
    try:
        store = SqliteStore(path)
    finally:
        os.umask(old)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == 0o600, oct(mode)
    finally:
        store.close()
