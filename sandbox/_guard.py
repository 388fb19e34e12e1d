"""The runtime guard: patched module attributes, one audit hook and a guarded os.environ.

:func:`install` runs once per process. Nothing is re-imported and no module is
proxied: the guard replaces a few module attributes (``time.time``,
``random.choice``, ``threading.Thread.start``, ...) with thin wrappers and adds
one audit hook for file, socket, subprocess and fork events. Outside workflow
code a wrapper costs one ``ContextVar.get()`` on top of the original call.
``builtins.hash`` is different: its wrapper is in place only while a guarded
block is open (``_hash``).
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from ._context import _CURRENT, _STATE, Mode
from ._frames import blame, report, short_repr
from ._hash import BuiltinSwap, guarded_hash
from ._rules import BY_CODE, RANDOM_FUNCTIONS, RULES, Rule

_OFF = Mode.OFF

#: (module, attribute, rule code): module-level functions replaced by wrappers.
FUNCTION_PATCHES: tuple[tuple[str, str, str], ...] = (
    *(
        ("time", name, "RPL-SB01")
        for name in (
            "time", "time_ns", "monotonic", "monotonic_ns", "perf_counter",
            "perf_counter_ns", "process_time", "process_time_ns", "thread_time",
            "thread_time_ns", "clock_gettime", "clock_gettime_ns",
            "localtime", "gmtime", "ctime", "asctime", "strftime",
        )
    ),
    ("time", "sleep", "RPL-SB02"),
    *(("random", name, "RPL-SB03") for name in RANDOM_FUNCTIONS),
    ("uuid", "uuid1", "RPL-SB04"),
    ("uuid", "uuid4", "RPL-SB04"),
    ("os", "urandom", "RPL-SB05"),
    ("os", "getrandom", "RPL-SB05"),
    *(
        ("secrets", name, "RPL-SB05")
        for name in ("choice", "randbelow", "randbits", "token_bytes", "token_hex", "token_urlsafe")
    ),
    ("tempfile", "mktemp", "RPL-SB05"),
    ("os", "getenv", "RPL-SB06"),
    ("os", "getenvb", "RPL-SB06"),
    ("_thread", "start_new_thread", "RPL-SB10"),
    ("asyncio", "run", "RPL-SB11"),
    ("asyncio", "new_event_loop", "RPL-SB11"),
    *(("os", name, "RPL-SB14") for name in ("getpid", "getppid", "uname")),
    *(("platform", name, "RPL-SB14") for name in ("node", "uname")),
)

#: (module, class, method, call shown in messages, rule code): methods of Python classes.
METHOD_PATCHES: tuple[tuple[str, str, str, str, str], ...] = (
    ("random", "SystemRandom", "__init__", "random.SystemRandom", "RPL-SB05"),
    ("threading", "Thread", "start", "threading.Thread.start", "RPL-SB10"),
    (
        "multiprocessing.process", "BaseProcess", "start", "multiprocessing.Process.start",
        "RPL-SB10",
    ),
    ("asyncio.runners", "Runner", "run", "asyncio.Runner.run", "RPL-SB11"),
    # the random names of mktemp/mkstemp: its generator is seeded from OS entropy
    (
        "tempfile", "_RandomNameSequence", "__next__", "tempfile._RandomNameSequence.__next__",
        "RPL-SB05",
    ),
)

#: (builtin, rule code): the builtin swapped for a wrapper while a guarded block is open.
SWAPPED_BUILTIN = ("hash", "RPL-SB15")

#: Calls restricted only when the argument at this index is absent or None.
_DEFAULTED = {"localtime": 0, "gmtime": 0, "ctime": 0, "asctime": 0, "strftime": 1}

EVENT_RULES: dict[str, Rule] = {event: rule for rule in RULES for event in rule.events}
_EVENT_CALL = {"socket.__new__": "socket.socket", "os.exec": "os.exec*", "os.spawn": "os.spawn*"}
_EVENT_DETAIL = {
    "socket.connect": 1, "socket.bind": 1, "socket.sendto": 2, "os.spawn": 1, "subprocess.Popen": 1,
}
_SHOW_ARGS = frozenset({"os.getenv", "os.getenvb"})
_EVENT_DETAIL_NONE = frozenset({"socket.__new__", "socket.gethostname", "os.fork", "os.forkpty"})

#: id(original) -> (original, wrapper), for :func:`sandbox.guard_module`.
WRAPPERS: dict[int, tuple[object, object]] = {}
_LOCK = threading.Lock()


def _positional_only(original: Callable[..., Any]) -> bool:
    """True when ``original`` takes no keyword arguments (most C functions here)."""
    try:
        parameters = inspect.signature(original).parameters.values()
    except (TypeError, ValueError):  # no signature: assume keywords are possible
        return False
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.VAR_POSITIONAL)
    return all(p.kind in kinds for p in parameters)


def _wrap(original: Callable[..., Any], call: str, rule: Rule) -> Callable[..., Any]:
    """A wrapper that checks the guard, then calls ``original``.

    Outside the guard it costs one ContextVar.get(); inside, an allowed call
    costs a frame lookup. The variants only differ in argument passing, which
    is a good part of the cost for functions as cheap as time.time().
    """
    get, getframe, through = _CURRENT.get, sys._getframe, rule.through_stdlib

    def showing_args(*args: Any, **kwargs: Any) -> Any:
        ctx = get()
        if ctx is not None and ctx.mode is not _OFF:
            culprit = blame(getframe(1), ctx, through)
            if culprit is not None:
                detail = "(" + ", ".join(short_repr(arg) for arg in args) + ")"
                report(ctx, rule, call, culprit, detail)
        return original(*args, **kwargs)

    def positional(*args: Any) -> Any:
        ctx = get()
        if ctx is not None and ctx.mode is not _OFF:
            culprit = blame(getframe(1), ctx, through)
            if culprit is not None:
                report(ctx, rule, call, culprit, "")
        return original(*args)

    def general(*args: Any, **kwargs: Any) -> Any:
        ctx = get()
        if ctx is not None and ctx.mode is not _OFF:
            culprit = blame(getframe(1), ctx, through)
            if culprit is not None:
                report(ctx, rule, call, culprit, "")
        return original(*args, **kwargs)

    if call in _SHOW_ARGS:
        wrapper: Callable[..., Any] = showing_args
    else:
        wrapper = positional if _positional_only(original) else general
    return functools.wraps(original)(wrapper)


def _wrap_defaulted(
    original: Callable[..., Any], call: str, rule: Rule, index: int
) -> Callable[..., Any]:
    """Like :func:`_wrap`, restricted only when argument ``index`` is missing or None."""
    get, getframe = _CURRENT.get, sys._getframe

    @functools.wraps(original)
    def wrapper(*args: Any) -> Any:
        ctx = get()
        if ctx is not None and ctx.mode is not _OFF and (len(args) <= index or args[index] is None):
            culprit = blame(getframe(1), ctx, False)
            if culprit is not None:
                report(ctx, rule, call, culprit, "")
        return original(*args)

    return wrapper


def _patch_functions() -> None:
    for module_name, attr, code in FUNCTION_PATCHES:
        module = sys.modules.get(module_name) or __import__(module_name)
        original = getattr(module, attr, None)
        if original is None:  # not on this platform (os.getrandom on macOS, ...)
            continue
        call = f"{module_name}.{attr}"
        index = _DEFAULTED.get(attr) if module_name == "time" else None
        if index is None:
            wrapper = _wrap(original, call, BY_CODE[code])
        else:
            wrapper = _wrap_defaulted(original, call, BY_CODE[code], index)
        setattr(module, attr, wrapper)
        WRAPPERS[id(original)] = (original, wrapper)


def _patch_methods() -> None:
    import importlib

    for module_name, cls_name, method, call, code in METHOD_PATCHES:
        cls = getattr(importlib.import_module(module_name), cls_name)
        original = getattr(cls, method)
        setattr(cls, method, _wrap(original, call, BY_CODE[code]))


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """The audit hook. Every audit event in the process comes here, so it is lean."""
    if event in EVENT_RULES:
        _audited(event, args)


def _audited(event: str, args: tuple[Any, ...]) -> None:
    ctx = _CURRENT.get()
    if ctx is None or ctx.mode is _OFF:
        return
    rule = EVENT_RULES[event]
    culprit = blame(sys._getframe(2), ctx, rule.through_stdlib)
    if culprit is not None:
        index = _EVENT_DETAIL.get(event, 0)
        shown = event not in _EVENT_DETAIL_NONE and len(args) > index
        value = args[index] if shown else None
        if isinstance(value, bytes):  # os.system and friends pass file-system-encoded bytes
            value = os.fsdecode(value)
        detail = f"({short_repr(value)})" if shown else ""
        report(ctx, rule, _EVENT_CALL.get(event, event), culprit, detail)


def _os_environ_call(mapping: object) -> str:
    return "os.environb" if mapping is getattr(os, "environb", None) else "os.environ"


def _env_method(
    name: str, base: Callable[..., Any], call_of: Callable[[object], str] = _os_environ_call
) -> Callable[..., Any]:
    rule = BY_CODE["RPL-SB06"]

    @functools.wraps(base)
    def method(self: Any, *args: Any) -> Any:
        ctx = _CURRENT.get()
        if ctx is not None and ctx.mode is not _OFF:
            culprit = blame(sys._getframe(1), ctx, False)
            if culprit is not None:
                call = call_of(self)
                shown = ", ".join(short_repr(arg) for arg in args)
                detail = f"[{shown}]" if name == "__getitem__" else f".{name}({shown})"
                report(ctx, rule, call, culprit, detail)
        return base(self, *args)

    return method


_ENV_METHODS = (
    "__getitem__", "__contains__", "__iter__", "__or__", "__ror__", "__repr__", "copy",
    "get", "items", "keys", "pop", "popitem", "setdefault", "values",
)


def _swap_environ() -> None:
    """Give os.environ (and os.environb) a subclass whose reads check the guard.

    The object stays the same, so every ``from os import environ`` sees it;
    only ``type(os.environ)`` changes (still a subclass of ``os._Environ``).
    """
    base: type = type(os.environ)
    namespace: dict[str, object] = {
        name: _env_method(name, getattr(base, name)) for name in _ENV_METHODS
    }
    namespace.update(__module__="replay.sandbox", __slots__=())
    guarded_environ = type("GuardedEnviron", (base,), namespace)
    for mapping in (os.environ, getattr(os, "environb", None)):
        if mapping is not None and type(mapping) is base:
            mapping.__class__ = guarded_environ


def _named(call: str) -> Callable[[object], str]:
    return lambda _mapping: call


def _swap_raw_environ() -> None:
    """Replace ``posix.environ`` (``nt.environ``) by a copy whose reads check the guard.

    That plain dict is the environment as the process started, from which
    ``os.environ`` was built; nothing reads it afterwards, so a copy in a dict
    subclass serves everyone who does.
    """
    for module_name in ("posix", "nt"):
        module = sys.modules.get(module_name)
        raw = getattr(module, "environ", None)
        if type(raw) is not dict:
            continue
        call_of = _named(f"{module_name}.environ")
        namespace: dict[str, object] = {
            name: _env_method(name, getattr(dict, name), call_of) for name in _ENV_METHODS
        }
        namespace.update(__module__="replay.sandbox", __slots__=())
        guarded_raw = type("GuardedRawEnviron", (dict,), namespace)
        setattr(module, "environ", guarded_raw(raw))  # noqa: B010  # not typed on the module


def _swap_builtins() -> None:
    """Set the hooks through which :class:`sandbox.guarded` swaps ``hash()`` in and out."""
    swap = BuiltinSwap(SWAPPED_BUILTIN[0], guarded_hash)
    _STATE.opened, _STATE.closed = swap.open, swap.close


def install() -> None:
    """Install the guard, once per process (later calls return at once).

    Patches module attributes, swaps the class of ``os.environ`` and adds one
    audit hook (which cannot be removed). All of it is inert until
    :class:`sandbox.guarded` switches the guard on for workflow code. Import
    workflow modules after calling it, or pass each to
    :func:`sandbox.guard_module`, which also rebinds names such as ``from time
    import time`` that were imported before.
    """
    if _STATE.installed:
        return
    with _LOCK:
        if _STATE.installed:
            return
        _patch_functions()
        _patch_methods()
        _swap_environ()
        _swap_raw_environ()
        _swap_builtins()
        sys.addaudithook(_audit)
        _STATE.installed = True


_STATE.install = install
