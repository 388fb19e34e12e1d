"""The guard's edges: hash(), a disguised engine module, posix.environ, tempfile names.

The cases that raise are also in test_sandbox_guard.py (samples/violations.py);
this file pins what stays allowed next to them and how the guard gets there.
"""

from __future__ import annotations

import builtins
import importlib
import os
import subprocess
import sys
import tempfile
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from samples import hashing, spoofed, violations
from sandbox_marks import mark_in, where

import replay.sandbox as sandbox

ORIGINAL_HASH = builtins.hash


@pytest.fixture
def seen() -> Iterator[list[sandbox.Violation]]:
    found: list[sandbox.Violation] = []
    yield found


def _ctx(seen: list[sandbox.Violation], mode: str = "strict") -> sandbox.GuardContext:
    return sandbox.GuardContext(
        workflow_type="EdgeWorkflow", run_id="r-7", mode=mode, on_violation=seen.append
    )


def _as_module(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    namespace = {**fn.__globals__, "__name__": name}
    return types.FunctionType(fn.__code__, namespace, fn.__name__)


# --- hash() ----------------------------------------------------------------------------


def test_no_test_left_a_wrapper_behind() -> None:
    assert builtins.hash is ORIGINAL_HASH


def test_hash_is_swapped_in_only_while_a_guarded_block_is_open(
    seen: list[sandbox.Violation],
) -> None:
    sandbox.install()
    assert builtins.hash is ORIGINAL_HASH
    with sandbox.guarded(_ctx(seen)):
        assert builtins.hash is not ORIGINAL_HASH
        assert builtins.hash.__name__ == "hash"
        with sandbox.guarded(_ctx(seen)):
            assert builtins.hash is not ORIGINAL_HASH
        assert builtins.hash is not ORIGINAL_HASH  # the outer block is still open
    assert builtins.hash is ORIGINAL_HASH
    with pytest.raises(sandbox.RestrictedCallError), sandbox.guarded(_ctx(seen)):
        violations.string_hash()
    assert builtins.hash is ORIGINAL_HASH


def test_hash_swap_counts_blocks_across_threads(seen: list[sandbox.Violation]) -> None:
    inside = threading.Barrier(3)
    leave = threading.Event()

    def activation() -> None:
        with sandbox.guarded(_ctx(seen)):
            inside.wait(5)
            leave.wait(5)

    threads = [threading.Thread(target=activation) for _ in range(2)]
    with sandbox.unrestricted():
        for thread in threads:
            thread.start()
    inside.wait(5)
    assert builtins.hash is not ORIGINAL_HASH
    leave.set()
    for thread in threads:
        thread.join()
    assert builtins.hash is ORIGINAL_HASH


def test_a_hash_replaced_meanwhile_is_left_in_place(
    seen: list[sandbox.Violation], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_hash(value: object) -> int:
        return 0

    monkeypatch.setattr(builtins, "hash", ORIGINAL_HASH)  # undone last: the original stays
    with sandbox.guarded(_ctx(seen)):
        monkeypatch.setattr(builtins, "hash", fake_hash)
    assert builtins.hash is fake_hash


@pytest.mark.parametrize(
    ("name", "shown"),
    [("date_hash", "hash(datetime.date(2024, 1, 1))"),
     ("nested_tuple_hash", "hash((1, (2, frozenset({'x'}))))")],
)
def test_values_built_on_salted_hashes_are_violations(
    name: str, shown: str, seen: list[sandbox.Violation]
) -> None:
    with pytest.raises(sandbox.RestrictedCallError) as info, sandbox.guarded(_ctx(seen)):
        getattr(hashing, name)()
    assert info.value.code == "RPL-SB15"
    assert f"called {shown} at {where(hashing, mark_in(hashing, name).line)}" in str(info.value)
    assert "hashlib.sha256(s.encode())" in str(info.value)


@pytest.mark.parametrize("name", ["int_hashes", "enum_hash", "keys_with_string_hashes"])
def test_unsalted_hashes_and_hash_methods_are_allowed(
    name: str, seen: list[sandbox.Violation]
) -> None:
    unguarded = getattr(hashing, name)()
    with sandbox.guarded(_ctx(seen)):
        assert getattr(hashing, name)() == unguarded
    assert seen == []


def test_warn_mode_returns_the_real_hash(seen: list[sandbox.Violation]) -> None:
    with sandbox.guarded(_ctx(seen, "warn")):
        value = hash("order-1")  # this test module is workflow code to the guard
    assert value == ORIGINAL_HASH("order-1")
    assert [v.call for v in seen] == ["hash"]


def test_the_stdlib_hashing_strings_for_itself_is_allowed(seen: list[sandbox.Violation]) -> None:
    with sandbox.guarded(_ctx(seen)):
        assert _as_module(violations.string_hash, "functools")() in range(8)
    assert seen == []


# --- a module that names itself after the engine ---------------------------------------


def test_a_disguised_module_is_workflow_code(seen: list[sandbox.Violation]) -> None:
    assert spoofed.stamp.__globals__["__name__"] == "replay._fake"
    for name in ("stamp", "pid"):
        with pytest.raises(sandbox.RestrictedCallError) as info, sandbox.guarded(_ctx(seen)):
            getattr(spoofed, name)()
        assert info.value.location == where(spoofed, mark_in(spoofed, name).line)
    assert sandbox.guard_module(spoofed) == ()  # prepared like workflow code, not refused


def test_guard_module_still_refuses_real_engine_modules() -> None:
    import replay._replay._sandbox_hooks as hooks

    with pytest.raises(ValueError, match=r"not 'replay\._replay\._sandbox_hooks'"):
        sandbox.guard_module(hooks)


# --- posix.environ ---------------------------------------------------------------------

posix: Any = importlib.import_module("posix") if os.name == "posix" else None

_POSIX_BEFORE_AFTER = """
import posix
before = dict(posix.environ)
import replay.sandbox as sandbox
sandbox.install()
raw = posix.environ
print(type(raw).__name__, isinstance(raw, dict), raw == before, dict(raw) == before,
      raw.get(b"PATH") == before.get(b"PATH"), sorted(raw) == sorted(before))
"""


@pytest.mark.skipif(os.name != "posix", reason="posix.environ exists on POSIX systems only")
def test_posix_environ_outside_the_guard_is_the_starting_environment() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _POSIX_BEFORE_AFTER], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["GuardedRawEnviron"] + ["True"] * 5


@pytest.mark.skipif(os.name != "posix", reason="posix.environ exists on POSIX systems only")
def test_every_posix_environ_read_is_guarded(seen: list[sandbox.Violation]) -> None:
    assert posix is not None
    reads: list[Callable[[], object]] = [
        lambda: posix.environ[b"PATH"],
        lambda: posix.environ.get(b"PATH"),
        lambda: b"PATH" in posix.environ,
        lambda: list(posix.environ),
        lambda: dict(posix.environ),
    ]
    expected = r"RPL-SB06.* read posix\.environ"
    for read in reads:
        with pytest.raises(sandbox.RestrictedCallError, match=expected), sandbox.guarded(
            _ctx(seen)
        ):
            read()


# --- tempfile names and process identity -------------------------------------------------


def test_tempfile_names_outside_the_guard_and_in_memory_files_inside(
    seen: list[sandbox.Violation],
) -> None:
    sandbox.install()
    assert tempfile.mktemp() != tempfile.mktemp()
    assert len(next(tempfile._get_candidate_names())) == 8  # type: ignore[attr-defined]
    with sandbox.guarded(_ctx(seen)), tempfile.SpooledTemporaryFile() as spooled:
        spooled.write(b"kept in memory, no name drawn")
    assert seen == []


def test_process_identity_outside_the_guard_is_unchanged() -> None:
    sandbox.install()
    assert os.getpid() == os.getpid.__wrapped__()  # type: ignore[attr-defined]
    assert violations.process_id() == os.getpid()
    assert violations.host_uname() == os.uname()
