"""The guard's switch: which workflow is running, in which mode, and what a violation is."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from contextvars import ContextVar, Token
from typing import Any

import attrs

from ._rules import READ_NAMES, Rule


class Mode(enum.Enum):
    """What the guard does with a restricted call made by workflow code.

    ``STRICT`` raises the context's ``error_type``; ``WARN`` reports the
    violation, logs a warning on the ``replay.sandbox`` logger and lets the call
    through; ``OFF`` does nothing. ``Mode("warn")`` accepts the plain string.
    """

    STRICT = "strict"
    WARN = "warn"
    OFF = "off"


@attrs.frozen(kw_only=True)
class Violation:
    """One restricted call made by workflow code, as seen by the runtime guard.

    ``call`` is the dotted name (``"time.time"``, ``"open"``, ``"os.environ"``);
    ``detail`` shows the arguments where they help (``"('/etc/hosts')"``,
    ``"['HOME']"``) and is empty otherwise; ``location`` is ``"path.py:LINE"``
    of the workflow code that made the call.
    """

    rule: Rule
    call: str
    location: str
    workflow_type: str
    run_id: str
    detail: str = ""

    @property
    def message(self) -> str:
        """The full text: code, workflow, call, place, why, and what to use instead."""
        # The sandbox knows nothing of the engine's root error, so its one ``[CODE]``
        # prefix is built here; the engine's RestrictedCallError builds it from ``text``.
        return f"[{self.rule.code}] {self.text}"

    @property
    def text(self) -> str:
        """The message without its ``[CODE]`` prefix."""
        if self.call in READ_NAMES:
            action = f"read {self.call}{self.detail}"
        else:
            action = f"called {self.call}{self.detail or '()'}"
        return (
            f"workflow {self.workflow_type!r} (run {self.run_id}) "
            f"{action} at {self.location}: {self.rule.why}. Use {self.rule.instead} instead."
        )


class RestrictedCallError(Exception):
    """Workflow code made a call that would make a replay diverge (strict mode).

    Carries the :class:`Violation` and its fields (``call``, ``workflow_type``,
    ``run_id``, ``location``, ``rule``, ``code``). The engine passes a subclass
    that also derives from its root error; the guard always instantiates
    ``GuardContext.error_type`` with the violation as the only argument.
    Catching it does not hide the mistake: ``GuardContext.on_violation`` has
    already been told.
    """

    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.message)
        self._keep(violation)

    def _keep(self, violation: Violation) -> None:
        self.violation = violation
        self.call = violation.call
        self.workflow_type = violation.workflow_type
        self.run_id = violation.run_id
        self.location = violation.location
        self.rule = violation.rule
        self.code = violation.rule.code

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.violation,))


def _passthrough(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset((value,))
    return frozenset(value)


@attrs.frozen(kw_only=True)
class GuardContext:
    """Who is running under the guard and how violations are handled.

    ``passthrough_modules`` are module name prefixes (``"pydantic"`` covers
    ``pydantic`` and ``pydantic.x``) whose calls are allowed like the standard
    library's. ``on_violation`` is called with every violation before the guard
    raises or warns, even when user code later catches the error; it runs with
    the guard switched off.
    """

    workflow_type: str
    run_id: str
    mode: Mode = attrs.field(default=Mode.STRICT, converter=Mode)
    error_type: type[RestrictedCallError] = RestrictedCallError
    passthrough_modules: frozenset[str] = attrs.field(
        default=frozenset(), converter=_passthrough
    )
    on_violation: Callable[[Violation], None] | None = None
    passthrough_packages: tuple[str, ...] = attrs.field(init=False, repr=False, eq=False)

    @passthrough_packages.default
    def _dotted_prefixes(self) -> tuple[str, ...]:
        """``("pydantic.",)``: what ``str.startswith`` needs to match submodules."""
        return tuple(sorted(p + "." for p in self.passthrough_modules))


_CURRENT: ContextVar[GuardContext | None] = ContextVar("sandbox.guard", default=None)


def current() -> GuardContext | None:
    """The :class:`GuardContext` active in this context, or None outside workflow code."""
    return _CURRENT.get()


class guarded:  # lower case: used like a function, `with sandbox.guarded(ctx):`
    """Switch the guard on for the ``with`` block (the engine wraps each activation).

    Costs one ContextVar set and reset, and puts the guarded ``hash()`` in
    ``builtins`` while any block is open. Asyncio tasks created inside the block
    copy the context and so stay guarded when they run later. Installs the
    guard (:func:`sandbox.install`) on first use.
    """

    __slots__ = ("_ctx", "_token")
    _token: Token[GuardContext | None]

    def __init__(self, ctx: GuardContext) -> None:
        self._ctx = ctx

    def __enter__(self) -> GuardContext:
        state = _STATE
        if not state.installed and state.install is not None:
            state.install()
        self._token = _CURRENT.set(self._ctx)
        if state.opened is not None:
            state.opened()
        return self._ctx

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        _CURRENT.reset(self._token)
        if _STATE.closed is not None:
            _STATE.closed()


class unrestricted:  # lower case: used like a function
    """Switch the guard off for the ``with`` block (for engine-internal escapes)."""

    __slots__ = ("_token",)

    def __init__(self) -> None:
        self._token: Token[GuardContext | None] | None = None

    def __enter__(self) -> None:
        self._token = _CURRENT.set(None)

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _CURRENT.reset(self._token)
            self._token = None


@attrs.define
class _State:
    """Whether :func:`sandbox.install` ran; the callables are filled in by ``_guard``.

    ``opened`` and ``closed`` run when a :class:`guarded` block is entered and
    left (they swap the guarded builtins in and out).
    """

    installed: bool = False
    install: Callable[[], None] | None = None
    opened: Callable[[], None] | None = None
    closed: Callable[[], None] | None = None


_STATE = _State()

for _cls in (Mode, Violation, RestrictedCallError, GuardContext, guarded, unrestricted):
    _cls.__module__ = "replay.sandbox"
