"""Strict mode: each restricted call made by workflow code raises, with a message that teaches."""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Callable

import pytest
from samples import violations
from sandbox_marks import SAMPLES, mark_in, marks, where

import replay.sandbox as sandbox

RUN_ID = "3f2a9c"

#: function in samples/violations.py -> how the message names the call.
ACTIONS = {
    "wall_clock": "called time.time()",
    "wall_clock_ns": "called time.time_ns()",
    "monotonic": "called time.monotonic()",
    "perf_counter": "called time.perf_counter()",
    "local_time_now": "called time.localtime()",
    "aliased_clock": "called time.time()",
    "datetime_now": "called datetime.datetime.now()",
    "datetime_utcnow": "called datetime.datetime.utcnow()",
    "date_today": "called datetime.date.today()",
    "module_datetime_now": "called datetime.datetime.now()",
    "blocking_sleep": "called time.sleep()",
    "random_random": "called random.random()",
    "random_randint": "called random.randint()",
    "random_choice": "called random.choice()",
    "random_shuffle": "called random.shuffle()",
    "random_uniform": "called random.uniform()",
    "aliased_choice": "called random.choice()",
    "random_uuid": "called uuid.uuid4()",
    "time_uuid": "called uuid.uuid1()",
    "os_entropy": "called os.urandom()",
    "secret_token": "called secrets.token_hex()",
    "system_random": "called random.SystemRandom()",
    "temp_name": "called tempfile.mktemp()",
    "random_name": "called tempfile._RandomNameSequence.__next__()",
    "environ_item": "read os.environ['HOME']",
    "environ_get": "read os.environ.get('HOME')",
    "environ_contains": "read os.environ.__contains__('HOME')",
    "getenv": "called os.getenv('HOME')",
    "raw_environ": "read posix.environ[b'HOME']",
    "open_file": "called open(",
    "temp_file": "called tempfile.mkstemp(",  # audited before the file is created
    "list_directory": "called os.listdir('.')",
    "pathlib_read": "called open(",
    "new_socket": "called socket.socket()",
    "run_program": "called subprocess.Popen(['true'])",
    "shell_command": "called os.system('true')",
    "start_thread": "called threading.Thread.start()",
    "start_process": "called multiprocessing.Process.start()",
    "fork": "called os.fork()",
    "run_loop": "called asyncio.run()",
    "new_loop": "called asyncio.new_event_loop()",
    "process_id": "called os.getpid()",
    "parent_process_id": "called os.getppid()",
    "host_uname": "called os.uname()",
    "host_name": "called platform.node()",
    "string_hash": "called hash('order-1')",
    "bytes_hash": "called hash(b'order-1')",
    "tuple_hash": "called hash(('order-1', 1))",
}


@pytest.fixture(scope="module", autouse=True)
def guarded_samples() -> None:
    sandbox.guard_module(violations)
    tempfile.gettempdir()  # found once, outside the guard (finding it writes a test file)


def _ctx(**options: object) -> sandbox.GuardContext:
    return sandbox.GuardContext(workflow_type="OrderWorkflow", run_id=RUN_ID, **options)  # type: ignore[arg-type]


def _raise(fn: Callable[[], object], **options: object) -> sandbox.RestrictedCallError:
    with pytest.raises(sandbox.RestrictedCallError) as info, sandbox.guarded(_ctx(**options)):
        fn()
    return info.value


def test_every_runtime_mark_has_a_case() -> None:
    runtime = {m.function for m in marks(SAMPLES / "violations.py") if m.only != "lint-only"}
    assert runtime - {"swallowed"} == set(ACTIONS)


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_restricted_call_raises_with_call_location_and_remedy(name: str) -> None:
    if name == "raw_environ" and os.name != "posix":
        pytest.skip("posix.environ exists on POSIX systems only")
    mark = mark_in(violations, name)
    rule = next(r for r in sandbox.RULES if r.code == mark.code)
    error = _raise(getattr(violations, name))
    location = where(violations, mark.line)
    assert (error.code, error.rule, error.location) == (mark.code, rule, location)
    assert (error.workflow_type, error.run_id) == ("OrderWorkflow", RUN_ID)
    message = str(error)
    assert message.startswith(f"[{mark.code}] workflow 'OrderWorkflow' (run {RUN_ID}) ")
    assert ACTIONS[name] in message
    assert f" at {location}: {rule.why}. Use {rule.instead} instead." in message


def test_wall_clock_message_in_full() -> None:
    error = _raise(violations.wall_clock)
    line = mark_in(violations, "wall_clock").line
    assert str(error) == (
        f"[RPL-SB01] workflow 'OrderWorkflow' (run {RUN_ID}) called time.time() at "
        f"{where(violations, line)}: workflow code must not read the wall clock, because a "
        "replay would see a different time. Use workflow.now() / workflow.time() instead."
    )
    assert error.call == "time.time"


def test_file_and_subprocess_messages_in_full() -> None:
    error = _raise(violations.open_file)
    line = mark_in(violations, "open_file").line
    assert str(error).startswith(
        f"[RPL-SB07] workflow 'OrderWorkflow' (run {RUN_ID}) called open("
    )
    assert str(error).endswith(
        f") at {where(violations, line)}: workflow code must not touch the file system, "
        "because a replay may find different contents and would repeat every write. "
        "Use an activity instead."
    )
    error = _raise(violations.run_program)
    line = mark_in(violations, "run_program").line
    assert str(error) == (
        f"[RPL-SB09] workflow 'OrderWorkflow' (run {RUN_ID}) called subprocess.Popen(['true']) "
        f"at {where(violations, line)}: workflow code must not run other programs, because a "
        "replay would run them again and their output may differ. Use an activity instead."
    )


def test_foreign_loop_and_environment_messages_in_full() -> None:
    error = _raise(violations.run_loop)
    line = mark_in(violations, "run_loop").line
    assert str(error) == (
        f"[RPL-SB11] workflow 'OrderWorkflow' (run {RUN_ID}) called asyncio.run() at "
        f"{where(violations, line)}: workflow code must not start or run another event loop, "
        "because only the workflow's own loop is replayed deterministically. "
        "Use a plain `await` on the workflow's own loop instead."
    )
    error = _raise(violations.environ_item)
    line = mark_in(violations, "environ_item").line
    assert str(error) == (
        f"[RPL-SB06] workflow 'OrderWorkflow' (run {RUN_ID}) read os.environ['HOME'] at "
        f"{where(violations, line)}: workflow code must not read environment variables, "
        "because a replay may run in a process whose environment differs. "
        "Use workflow input or an activity instead."
    )


def test_caught_violation_still_reaches_on_violation() -> None:
    seen: list[sandbox.Violation] = []
    with sandbox.guarded(_ctx(on_violation=seen.append)):
        assert violations.swallowed() == "caught"
    (violation,) = seen
    assert violation.rule.code == "RPL-SB01"
    assert violation.call == "time.time"
    assert violation.location == where(violations, mark_in(violations, "swallowed").line)
    assert (violation.workflow_type, violation.run_id) == ("OrderWorkflow", RUN_ID)


def test_on_violation_runs_before_the_raise_and_unguarded() -> None:
    states: list[object] = []

    def record(violation: sandbox.Violation) -> None:
        states.append(sandbox.current())

    _raise(violations.wall_clock, on_violation=record)
    assert states == [None]


class EngineRootError(Exception):
    """Plays the engine's root error class."""


class WorkflowRestrictedCallError(sandbox.RestrictedCallError, EngineRootError):
    """Plays the engine's subclass, passed as GuardContext.error_type."""


def test_error_type_from_the_context_is_raised() -> None:
    error = _raise(violations.random_uuid, error_type=WorkflowRestrictedCallError)
    assert type(error) is WorkflowRestrictedCallError
    assert isinstance(error, EngineRootError)
    assert error.code == "RPL-SB04"


def test_error_pickles_with_its_fields() -> None:
    error = _raise(violations.os_entropy)
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.violation, copy.location) == (
        str(error),
        error.violation,
        error.location,
    )
