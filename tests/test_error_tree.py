"""The error tree, pinned: one root, codes that agree with messages, all documented.

* Every ReplayError subclass defined in the project (every module under
  ``replay/``, ``replay.history`` and ``replay.sandbox`` included) is built
  from :data:`EXAMPLES`; its message must start with ``[CODE]`` of its
  ``.code``, no two classes may share a code by accident, and each must be
  importable from ``replay.exceptions`` (whose docstring draws the tree).
* Every ``RPL-...`` code in the source has a section in ``docs/errors.md``, and
  every section's code is used somewhere.
* No source file builds the ``[RPL-...]`` prefix by hand: the root does.
"""

from __future__ import annotations

import ast
import importlib
import pickle
import pkgutil
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import replay
import replay.client
import replay.exceptions as exc
import replay.sandbox as sandbox
import replay.testing
from replay.history import ReplayError

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "errors.md"
CODE = re.compile(r"RPL-[A-Z]+\d{2,}")
HEADING = re.compile(r"^## (RPL-[A-Z]+\d+): \S", flags=re.M)

#: The code families in use; a new family is a decision, not an accident.
FAMILIES = {"RPL-A", "RPL-C", "RPL-CV", "RPL-D", "RPL-DBG", "RPL-F", "RPL-H", "RPL-INT",
            "RPL-L", "RPL-ND", "RPL-P", "RPL-Q", "RPL-R", "RPL-RO", "RPL-S", "RPL-SA", "RPL-SB",
            "RPL-SC", "RPL-T", "RPL-UI", "RPL-W", "RPL-WT"}


def _violation() -> sandbox.Violation:
    rule = next(r for r in sandbox.RULES if r.code == "RPL-SB04")
    return sandbox.Violation(rule=rule, call="uuid.uuid4", location="orders.py:42",
                             workflow_type="OrderWorkflow", run_id="run-1")


#: class name -> an instance built with representative arguments.
EXAMPLES: dict[str, Callable[[], ReplayError]] = {
    "ReplayError": lambda: exc.ReplayError("something went wrong"),
    "InternalError": lambda: exc.InternalError(
        "run 'run-1' event 4: TimerFired refers to event 3, which is not an open command"),
    "HistoryError": lambda: exc.HistoryError(
        "gap in event ids: expected id 7, found 9", source="saved/order-42.json", event_id=7,
        rule="contiguous-ids"),
    "ForeignHistoryError": lambda: exc.ForeignHistoryError(7, "SignalReceived"),
    "SearchAttributeError": lambda: exc.SearchAttributeError(
        "Amount", "Int", "expected an int, got str '12'"),
    "ListQueryError": lambda: exc.ListQueryError("Amount > ", 9, "expected a value"),
    "ListQueryAttributeError": lambda: exc.ListQueryAttributeError(
        "Amont > 3", 0, "unknown attribute 'Amont'"),
    "PayloadError": lambda: exc.PayloadError(
        "value of type Decimal at $.total has no JSON form", type_name="Decimal",
        path="$.total"),
    "EncodedPayloadError": lambda: exc.EncodedPayloadError("binary/encrypted",
                                                           type_name="Order"),
    "ReservedPayloadKeyError": lambda: exc.ReservedPayloadKeyError("dict"),
    "PayloadCodecError": lambda: exc.PayloadCodecError(
        "payload codec Zip.decode() raised BadGzipFile: not a gzip file", codec="Zip"),
    "UnsupportedConverterError": lambda: exc.UnsupportedConverterError(
        "failure_converter_class", "MyFailureConverter"),
    "StoreError": lambda: exc.StoreError("the store is closed", path="replay.db"),
    "StoreUnavailableError": lambda: exc.StoreUnavailableError(
        "SQLite error: database is locked (SQLITE_BUSY): the store is unavailable for now",
        path="replay.db", reason="SQLITE_BUSY"),
    "StoreCorruptError": lambda: exc.StoreCorruptError(
        "the store file is corrupt", path="replay.db",
        check="PRAGMA quick_check found: On tree page 13 cell 49: Offset 61166 out of range"),
    "AppendConflictError": lambda: exc.AppendConflictError("run-1", 12, 13),
    "RunNotFoundError": lambda: exc.RunNotFoundError("run-7"),
    "RunNotPrunableError": lambda: exc.RunNotPrunableError("run-7"),
    "InvalidCronError": lambda: exc.InvalidCronError("0 25 * * *", 3,
                                                     "hour: 25 is outside 0-23"),
    "ScheduleAlreadyRunningError": lambda: exc.ScheduleAlreadyRunningError("nightly"),
    "ScheduleNotFoundError": lambda: exc.ScheduleNotFoundError("nightly", "pause"),
    "StoreNotEmptyError": lambda: exc.StoreNotEmptyError(
        "run-7", "it already holds run 'run-7'"),
    "RunClosedError": lambda: exc.RunClosedError("run-1", "completed", "SignalReceived"),
    "RunAlreadyExistsError": lambda: exc.RunAlreadyExistsError("order-42", "run-2", "run-1"),
    "StaleResultError": lambda: exc.StaleResultError("run-1", "ActivityCompleted", 5),
    "WorkflowDefinitionError": lambda: exc.WorkflowDefinitionError(
        "unknown workflow type 'Patching'; this worker knows: GreetingWorkflow."),
    "NondeterminismError": lambda: exc.NondeterminismError(
        run_id="run-1", workflow_type="Rename", event_id=5,
        expected="ActivityScheduled(activity_type='charge') (event 5)",
        actual="ActivityScheduled(activity_type='charge_card')", location="orders.py:42"),
    "RestrictedCallError": lambda: exc.RestrictedCallError(_violation()),
    "ReadOnlyContextError": lambda: exc.ReadOnlyContextError(
        "workflow.start_activity()", "query handler"),
    "WorkflowLoopError": lambda: exc.WorkflowLoopError("run_in_executor"),
    "UnorderedTasksError": lambda: exc.UnorderedTasksError(
        "asyncio.as_completed", "orders.py:42"),
    "WorkflowTaskError": lambda: exc.WorkflowTaskError(
        run_id="run-1", workflow_type="Order", cause=KeyError("sku"), location="orders.py:9"),
    "NotInWorkflowError": lambda: exc.NotInWorkflowError("now"),
    "NotInActivityError": lambda: exc.NotInActivityError("heartbeat"),
    "AsyncActivityNotFoundError": lambda: exc.AsyncActivityNotFoundError(
        "complete", "'charge-1' of workflow 'order-7' run 'run-1'", "it has no open task"),
    "AsyncActivityCancelledError": lambda: exc.AsyncActivityCancelledError(
        "'charge-1' of workflow 'order-7' run 'run-1'"),
    "InvalidTaskTokenError": lambda: exc.InvalidTaskTokenError(b"xyz", "it does not decode"),
    "ProcessPoolNeedsSharedStateError": lambda: exc.ProcessPoolNeedsSharedStateError(
        ["resize_image"]),
    "ProcessPoolInterceptorsError": lambda: exc.ProcessPoolInterceptorsError(
        ["TracingInterceptor"]),
    "UnpicklableActivityError": lambda: exc.UnpicklableActivityError(
        "resize", "Can't pickle local object"),
    "StoreCallLimitError": lambda: exc.StoreCallLimitError(0),
    "UnknownQueryError": lambda: exc.UnknownQueryError("status", "Order", ["progress"]),
    "QueryFailedError": lambda: exc.QueryFailedError("status", ValueError("bad state")),
    "QueryUnavailableError": lambda: exc.QueryUnavailableError(
        "status", "Order", [], "workflow type 'Order' is not known here"),
    "NoReplayedWorkflowError": lambda: exc.NoReplayedWorkflowError(),
    "DebuggerNotReadyError": lambda: exc.DebuggerNotReadyError(),
    "DeterminismViolation": lambda: exc.DeterminismViolation(
        "query answers differ", workflow_type="Order", schedule=[replay.testing.Activate()],
        schedule_text=replay.testing.format_schedule([replay.testing.Activate()]),
        history_path=Path("Order.json")),
    "WorkflowFailureError": lambda: exc.WorkflowFailureError(
        "order-42", "run-1", "failed", exc.ApplicationError("card declined")),
    "WorkflowAlreadyStartedError": lambda: exc.WorkflowAlreadyStartedError(
        "order-42", "OrderWorkflow", "run-1", "a run with this workflow id is open"),
    "WorkflowNotFoundError": lambda: exc.WorkflowNotFoundError("order-42", None),
    "WorkflowClosedError": lambda: exc.WorkflowClosedError(
        "order-42", "run-1", "completed", "signal 'approve'"),
    "RunContextError": lambda: exc.RunContextError(
        "ctx.store.set('status', ...) is not supported: ... Nothing was sent."),
    "WorkflowContinuedAsNewError": lambda: exc.WorkflowContinuedAsNewError(
        "order-42", "run-1", "run-2"),
    "WorkflowUpdateFailedError": lambda: exc.WorkflowUpdateFailedError(
        "upd-1", "approve", exc.ApplicationError("not allowed")),
    "WorkflowQueryRejectedError": lambda: exc.WorkflowQueryRejectedError("order-42", "failed"),
    "WorkflowQueryFailedError": lambda: exc.WorkflowQueryFailedError(
        "query 'status' failed: ValueError: bad state"),
    "UnsupportedTargetError": lambda: exc.UnsupportedTargetError("localhost:7233"),
    "UnknownHandlerError": lambda: exc.UnknownHandlerError(
        "Greeter", "signal", "ad", ["add", "rename"], ["add"],
        "as registered on task queue 'q' by worker host:1 at 2026-01-01T00:00:00+00:00"),
    "ArgumentCountError": lambda: exc.ArgumentCountError(
        "signal 'add' of workflow 'Greeter'", "1", 2, ["str"],
        "as registered on task queue 'q' by worker host:1 at 2026-01-01T00:00:00+00:00"),
    "ArgumentTypeError": lambda: exc.ArgumentTypeError(
        "workflow 'Greeter'", 1, "int", "a string",
        "as registered on task queue 'q' by worker host:1 at 2026-01-01T00:00:00+00:00"),
    "WorkflowTypeNotRegisteredError": lambda: exc.WorkflowTypeNotRegisteredError(
        "Greter", "q", ["Billing", "Greeter"], ["Greeter"], []),
    "FailureError": lambda: exc.FailureError("failed"),
    "ApplicationError": lambda: exc.ApplicationError(
        "card declined", {"card": "visa"}, type="CardDeclined", non_retryable=True),
    "CancelledError": lambda: exc.CancelledError(),
    "TerminatedError": lambda: exc.TerminatedError("terminated by an operator"),
    "TimeoutError": lambda: exc.TimeoutError("activity timed out", type="heartbeat"),
    "ActivityError": lambda: exc.ActivityError(
        "activity failed", activity_type="charge", activity_id="1", scheduled_event_id=5,
        retry_state="MAXIMUM_ATTEMPTS_REACHED"),
    "ChildWorkflowError": lambda: exc.ChildWorkflowError(
        "child workflow failed", workflow_type="Ship", workflow_id="ship-1", run_id="run-2"),
}

#: Classes whose code is set per instance (``code=``), not by the class.
PER_INSTANCE_CODE = {"RestrictedCallError"}


def _project_errors() -> list[type[ReplayError]]:
    for info in pkgutil.walk_packages(replay.__path__, "replay."):
        importlib.import_module(info.name)
    found: list[type[ReplayError]] = []
    todo: list[type[ReplayError]] = [ReplayError]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__.startswith("replay.") and cls not in found:
            found.append(cls)
    return sorted(found, key=lambda c: c.__name__)


ERRORS = _project_errors()


def test_every_error_is_importable_from_replay_exceptions() -> None:
    names = [cls.__name__ for cls in ERRORS]
    assert len(names) == len(set(names)), "two errors share a name"
    missing = [cls.__name__ for cls in ERRORS if getattr(exc, cls.__name__, None) is not cls]
    assert missing == [], f"add these to replay/exceptions.py (and its tree): {missing}"


def test_every_error_has_an_example() -> None:
    assert sorted(EXAMPLES) == [cls.__name__ for cls in ERRORS], \
        "keep EXAMPLES in step with the project's errors"


def test_each_error_lives_at_its_public_home() -> None:
    for cls in ERRORS:
        assert cls.__module__ in ("replay.exceptions", "replay.history"), cls
        assert getattr(importlib.import_module(cls.__module__), cls.__name__) is cls


def test_the_client_keeps_the_familiar_names() -> None:
    for name in replay.client.__all__:
        value = getattr(replay.client, name)
        if isinstance(value, type) and issubclass(value, ReplayError):
            assert getattr(exc, name) is value


def test_the_docstring_draws_every_error_with_its_code() -> None:
    doc = exc.__doc__ or ""
    drawn = dict(re.findall(r"── (\w+) *(RPL-[A-Z]+\d+)?", doc))
    errors = [n for n in exc.__all__ if isinstance(getattr(exc, n), type)
              and issubclass(getattr(exc, n), BaseException)]
    assert sorted(drawn) == sorted(n for n in errors if n != "ReplayError")
    for name, code in drawn.items():
        cls = getattr(exc, name)
        if code and name not in PER_INSTANCE_CODE:
            assert cls.code == code, name
        elif not code:
            assert not cls.shows_code or name == "ReplayError", f"{name}: draw its code"


def _plain(value: Any) -> Any:
    """Exceptions compare by identity; compare what they say instead."""
    if isinstance(value, BaseException):
        return (type(value), str(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_code_and_the_message_agree(name: str) -> None:
    error = EXAMPLES[name]()
    assert type(error) is getattr(exc, name)
    assert CODE.fullmatch(error.code) or name == "ReplayError", error.code
    if error.shows_code:
        assert str(error).startswith(f"[{error.code}] "), str(error)
        assert str(error).count("[RPL-") == 1 or "[RPL-" in str(error.__cause__ or ""), \
            "the prefix is written once"
    else:
        # failures carry the user's own message, as it is
        assert isinstance(error, exc.FailureError)
        assert not str(error).startswith("[")


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_errors_pickle_with_their_fields(name: str) -> None:
    error = EXAMPLES[name]()
    error.__cause__ = ValueError("underneath")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert (str(copy), copy.code) == (str(error), error.code)
    assert _plain(vars(copy)) == _plain(vars(error))
    assert _plain(copy.__cause__) == _plain(error.__cause__)


def test_no_two_errors_share_a_code_by_accident() -> None:
    owners: dict[str, list[str]] = {}
    for cls in ERRORS:
        if "code" in vars(cls):
            owners.setdefault(cls.code, []).append(cls.__name__)
        elif not issubclass(cls, exc.FailureError) and cls.__name__ not in PER_INSTANCE_CODE:
            pytest.fail(f"{cls.__name__} inherits {cls.code}: give it a code of its own")
    assert {code: names for code, names in owners.items() if len(names) > 1} == {}
    # the engine's RestrictedCallError takes its codes from the sandbox's rules
    assert {rule.code for rule in sandbox.RULES}.isdisjoint(owners)


# --- the codes and docs/errors.md -----------------------------------------------------


def _source_files() -> Iterator[Path]:
    # replay/history and replay/sandbox link to the top-level folders: read each file once
    seen = {p.resolve() for folder in ("replay", "history", "sandbox")
            for p in (ROOT / folder).rglob("*.py")}
    yield from sorted(seen)


SOURCES = {path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
           for path in _source_files()}


def _codes_in_source() -> set[str]:
    return {code for text in SOURCES.values() for code in CODE.findall(text)}


def _documented_codes() -> list[str]:
    return HEADING.findall(DOC.read_text(encoding="utf-8"))


def test_every_code_in_the_source_is_documented() -> None:
    documented = _documented_codes()
    assert len(documented) == len(set(documented)), "a code is documented twice"
    missing = _codes_in_source() - set(documented)
    assert not missing, f"docs/errors.md has no '## CODE: Title' section for {sorted(missing)}"


def test_every_documented_code_is_used() -> None:
    unused = set(_documented_codes()) - _codes_in_source()
    assert not unused, f"docs/errors.md documents codes nothing uses: {sorted(unused)}"


def test_the_source_uses_a_known_set_of_code_families() -> None:
    assert {re.sub(r"\d+$", "", c) for c in _codes_in_source()} <= FAMILIES


# --- nobody formats the prefix by hand -------------------------------------------------

#: Where a ``[RPL-...]`` text is built outside the root, why, and how many places.
HAND_MADE_ALLOWED = {
    # The root: the one place the engine's prefix is built.
    "history/_errors.py": 1,
    # The sandbox knows nothing of the engine's root (tests/test_layers.py), so its
    # Violation.message (also logged in warn mode) builds the prefix once for itself.
    "sandbox/_context.py": 1,
    # The append-only triggers are SQL; SQLite's error text ends in the code.
    "history/_sqlite_schema.py": 1,
    # Retention's trigger on events (SQL too), beside the pruning marker it checks.
    "history/_sqlite_retention.py": 1,
    # PostgreSQL's append-only trigger function and its prune_run() refusal (SQL).
    "history/_postgres_schema.py": 2,
    # The web UI's refusal to bind beyond loopback without a token: a ValueError (a bad
    # option, raised before anything runs; the UI's extra may be missing), not a ReplayError.
    "replay/_ui/_security.py": 1,
}
PREFIX = re.compile(r"\[RPL-[A-Z]+\d+\]")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant):
            found.add(id(body[0].value))
    return found


def _hand_made(tree: ast.AST) -> list[int]:
    """Lines that write a code in brackets: a literal one, or ``f"[{x.code}]"``."""
    skip = _docstrings(tree)
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in skip and PREFIX.search(node.value):
            lines.append(node.lineno)
        elif isinstance(node, ast.JoinedStr):
            parts = node.values
            for before, value, after in zip(parts, parts[1:], parts[2:], strict=False):
                if (isinstance(before, ast.Constant) and str(before.value).endswith("[")
                        and isinstance(value, ast.FormattedValue)
                        and ast.unparse(value.value).endswith("code")
                        and isinstance(after, ast.Constant)
                        and str(after.value).startswith("]")):
                    lines.append(node.lineno)
    return sorted(set(lines))


def _bare_root_raised(tree: ast.AST) -> list[int]:
    """Lines that build a plain ReplayError, whose code would say nothing."""
    return sorted(
        node.lineno for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and ((isinstance(node.func, ast.Name) and node.func.id == "ReplayError")
             or (isinstance(node.func, ast.Attribute) and node.func.attr == "ReplayError"))
    )


def test_no_source_file_formats_the_code_by_hand() -> None:
    found = {}
    for name, text in SOURCES.items():
        lines = _hand_made(ast.parse(text, name))
        if name in HAND_MADE_ALLOWED:
            allowed = HAND_MADE_ALLOWED[name]
            assert len(lines) == allowed, f"{name}: {allowed} hand-made prefixes allowed: {lines}"
        elif lines:
            found[name] = lines
    assert found == {}, "pass the text only: ReplayError writes '[CODE] ' (replay/exceptions.py)"


def test_no_one_raises_the_bare_root() -> None:
    found = {name: lines for name, text in SOURCES.items()
             if (lines := _bare_root_raised(ast.parse(text, name)))}
    assert found == {}, "raise a subclass with a code of its own"


def test_the_scan_sees_a_hand_made_prefix() -> None:
    assert _hand_made(ast.parse('raise E(f"[{self.code}] boom")')) == [1]
    assert _hand_made(ast.parse('raise E("[RPL-X01] boom")')) == [1]
    assert _hand_made(ast.parse('x = f"[{shown}]"')) == []
    assert _bare_root_raised(ast.parse('raise history.ReplayError("x")')) == [1]
