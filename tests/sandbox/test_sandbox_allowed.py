"""Allowed calls run clean under the guard: the stdlib on its own behalf, the engine,
attrs/cattrs and pass-through modules."""

from __future__ import annotations

import asyncio
import inspect
import linecache
import logging
import os
import sys
import textwrap
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import cattrs
import pytest
from samples import allowed, thirdparty
from sandbox_marks import mark_in, where

import replay
import replay.history
import replay.sandbox as sandbox
from replay.sandbox import _frames


@pytest.fixture
def seen() -> Iterator[list[sandbox.Violation]]:
    found: list[sandbox.Violation] = []
    yield found


def _ctx(seen: list[sandbox.Violation], **options: object) -> sandbox.GuardContext:
    return sandbox.GuardContext(
        workflow_type="AllowedWorkflow", run_id="r-1", on_violation=seen.append, **options  # type: ignore[arg-type]
    )


CALLS: dict[str, Callable[[], object]] = {
    "attrs_and_cattrs": allowed.attrs_and_cattrs,
    "dataclasses_and_enum": allowed.dataclasses_and_enum,
    "json_re_math_decimal": allowed.json_re_math_decimal,
    "seeded_random": allowed.seeded_random,
    "deterministic_uuid": allowed.deterministic_uuid,
    "date_arithmetic": allowed.date_arithmetic,
    "format_traceback": allowed.format_traceback,
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_allowed_call_runs_clean(name: str, seen: list[sandbox.Violation]) -> None:
    unguarded = CALLS[name]()
    linecache.clearcache()  # so a traceback has to read the source file under the guard
    with sandbox.guarded(_ctx(seen)):
        result = CALLS[name]()
    assert seen == []
    if name == "format_traceback":
        assert 'raise ValueError("boom")' in str(result)
    else:
        assert result == unguarded


def test_logging_under_the_guard(
    seen: list[sandbox.Violation], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="samples.allowed")
    with sandbox.guarded(_ctx(seen)):
        allowed.log_something()  # LogRecord reads time.time() from logging: allowed
    assert seen == []
    assert [r.getMessage() for r in caplog.records] == [
        "processing order-1",
        "careful with order-1",
    ]
    assert caplog.records[0].created > 0


def test_importing_a_fresh_stdlib_module_under_the_guard(seen: list[sandbox.Violation]) -> None:
    sys.modules.pop("colorsys", None)  # importlib opens and reads files: allowed
    with sandbox.guarded(_ctx(seen)):
        hsv = allowed.import_colorsys()
    assert seen == []
    assert "colorsys" in sys.modules
    assert hsv == pytest.approx((0.5, 0.5, 0.4))


def test_asyncio_sleep_on_the_loop_under_the_guard(seen: list[sandbox.Violation]) -> None:
    async def activation() -> str:
        with sandbox.guarded(_ctx(seen)):
            return await allowed.sleep_on_loop()

    assert asyncio.run(activation()) == "slept"
    assert seen == []


def test_third_party_code_counts_as_workflow_code_unless_passed_through(
    seen: list[sandbox.Violation],
) -> None:
    with pytest.raises(sandbox.RestrictedCallError) as info, sandbox.guarded(_ctx(seen)):
        thirdparty.timestamped("x")
    assert info.value.location == where(thirdparty, mark_in(thirdparty, "timestamped").line)
    seen.clear()
    for prefix in ("samples.thirdparty", "samples", ["samples"]):
        with sandbox.guarded(_ctx(seen, passthrough_modules=prefix)):
            assert thirdparty.timestamped("x")[0] == "x"
    assert seen == []


def test_passthrough_prefixes_match_whole_module_names(seen: list[sandbox.Violation]) -> None:
    ctx = _ctx(seen, passthrough_modules={"samples.third"})
    with pytest.raises(sandbox.RestrictedCallError), sandbox.guarded(ctx):
        thirdparty.timestamped("x")


def _as_module(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``fn`` as if it were defined in module ``name`` (same code, other globals)."""
    namespace = {**fn.__globals__, "__name__": name}
    return types.FunctionType(fn.__code__, namespace, fn.__name__)


def _compiled_in(fn: Callable[..., Any], name: str, path: str) -> Callable[..., Any]:
    """``fn``'s source compiled as if it came from file ``path`` of module ``name``."""
    source = textwrap.dedent(inspect.getsource(fn))
    namespace: dict[str, Any] = {**fn.__globals__, "__name__": name}
    exec(compile(source, path, "exec"), namespace)
    function: Callable[..., Any] = namespace[fn.__name__]
    return function


_ENGINE_MODULES = [
    ("replay._core._instance", replay), ("replay.history.store", replay.history),
    ("replay.sandbox.anything", sandbox), ("attrs", attrs), ("cattrs.gen", cattrs),
]


@pytest.mark.parametrize(("module", "package"), _ENGINE_MODULES)
def test_engine_and_data_library_frames_are_allowed(
    module: str, package: types.ModuleType, seen: list[sandbox.Violation]
) -> None:
    inside = os.path.join(os.path.dirname(str(package.__file__)), "_not_a_real_module.py")
    timestamped = _compiled_in(thirdparty.timestamped, module, inside)
    with sandbox.guarded(_ctx(seen)):
        assert timestamped("x")[0] == "x"
    assert seen == []


@pytest.mark.parametrize(("module", "package"), _ENGINE_MODULES)
def test_an_engine_name_outside_the_engine_files_is_workflow_code(
    module: str, package: types.ModuleType, seen: list[sandbox.Violation]
) -> None:
    timestamped = _as_module(thirdparty.timestamped, module)  # code from samples/
    with pytest.raises(sandbox.RestrictedCallError) as info, sandbox.guarded(_ctx(seen)):
        timestamped("x")
    assert info.value.location == where(thirdparty, mark_in(thirdparty, "timestamped").line)
    generated = _compiled_in(thirdparty.timestamped, module, "<generated>")
    with pytest.raises(sandbox.RestrictedCallError), sandbox.guarded(_ctx(seen)):
        generated("x")


def test_stdlib_frames_are_allowed_but_look_alikes_are_not(seen: list[sandbox.Violation]) -> None:
    with sandbox.guarded(_ctx(seen)):
        assert _as_module(thirdparty.timestamped, "logging.handlers")("x")[0] == "x"
    assert seen == []
    with pytest.raises(sandbox.RestrictedCallError), sandbox.guarded(_ctx(seen)):
        _as_module(thirdparty.timestamped, "replayer")("x")


def test_module_kinds() -> None:
    kinds = {
        name: _frames.module_kind(name)
        for name in ("importlib._bootstrap", "logging", "pathlib", "replay", "samples.x")
    }
    assert kinds == {
        "importlib._bootstrap": _frames.STDLIB,
        "logging": _frames.STDLIB,
        "pathlib": _frames.DELEGATE,
        "replay": _frames.ENGINE,
        "samples.x": _frames.USER,
    }


def test_unrestricted_switches_the_guard_off_for_a_block(seen: list[sandbox.Violation]) -> None:
    ctx = _ctx(seen)
    with sandbox.guarded(ctx):
        with sandbox.unrestricted():
            assert sandbox.current() is None
            assert thirdparty.timestamped("x")[0] == "x"
        assert sandbox.current() is ctx
    assert seen == []
    assert time.time() > 0
