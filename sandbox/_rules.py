"""The one table of what workflow code may not touch, shared by the guard and the lint.

Each :class:`Rule` has a stable code (``RPL-SB01`` ...) that appears in runtime
errors, lint findings and the docs. ``docs/sandbox.md`` embeds the table that
:func:`rules_markdown` renders, and a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs


@attrs.frozen(kw_only=True)
class Rule:
    """One kind of nondeterministic call workflow code must not make.

    ``calls`` are the dotted names the lint reports when workflow code calls
    them (the runtime guard catches them by patching, by audit ``events`` or
    through :func:`sandbox.guard_module`). ``why`` completes "workflow code
    must not ..."; ``instead`` names the workflow-safe replacement.
    ``through_stdlib`` means calls the standard library's I/O modules make on a
    caller's behalf (``pathlib``, ``subprocess``, ...) count as the caller's.
    ``runtime`` is false for rules only the static lint can check.
    """

    code: str
    title: str
    calls: tuple[str, ...]
    why: str
    instead: str
    events: tuple[str, ...] = ()
    through_stdlib: bool = False
    runtime: bool = True


Rule.__module__ = "replay.sandbox"

RANDOM_FUNCTIONS = (
    "betavariate", "choice", "choices", "expovariate", "gammavariate", "gauss",
    "getrandbits", "getstate", "lognormvariate", "normalvariate", "paretovariate",
    "randbytes", "randint", "random", "randrange", "sample", "seed", "setstate",
    "shuffle", "triangular", "uniform", "vonmisesvariate", "weibullvariate",
)

_SOCKET_EVENTS = (
    "socket.__new__", "socket.bind", "socket.connect", "socket.getaddrinfo",
    "socket.gethostbyaddr", "socket.gethostbyname", "socket.gethostname",
    "socket.getnameinfo", "socket.getservbyname", "socket.getservbyport",
    "socket.sendmsg", "socket.sendto", "socket.sethostname",
)

_FILE_EVENTS = (
    "open", "os.chmod", "os.chown", "os.link", "os.listdir", "os.mkdir", "os.remove",
    "os.rename", "os.rmdir", "os.scandir", "os.symlink", "os.truncate", "os.utime",
    "glob.glob", "shutil.copyfile", "shutil.copymode", "shutil.copystat",
    "shutil.copytree", "shutil.make_archive", "shutil.move", "shutil.rmtree",
    "shutil.unpack_archive", "sqlite3.connect", "tempfile.mkdtemp", "tempfile.mkstemp",
)

_EXEC = ("execl", "execle", "execlp", "execlpe", "execv", "execve", "execvp", "execvpe")
_SPAWN = ("spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe")

_ACTIVITY = "an activity"

RULES: tuple[Rule, ...] = (
    Rule(
        code="RPL-SB01",
        title="clock",
        calls=(
            "time.time", "time.time_ns", "time.monotonic", "time.monotonic_ns",
            "time.perf_counter", "time.perf_counter_ns", "time.process_time",
            "time.process_time_ns", "time.thread_time", "time.thread_time_ns",
            "time.clock_gettime", "time.clock_gettime_ns", "time.localtime",
            "time.gmtime", "time.ctime", "time.asctime", "time.strftime",
            "datetime.datetime.now", "datetime.datetime.utcnow", "datetime.datetime.today",
            "datetime.date.today",
        ),
        why="workflow code must not read the wall clock, because a replay would see a "
        "different time",
        instead="workflow.now() / workflow.time()",
    ),
    Rule(
        code="RPL-SB02",
        title="blocking sleep",
        calls=("time.sleep",),
        why="workflow code must not block in time.sleep(), because it stalls the workflow "
        "loop and is not a durable timer: a replay would sleep all over again",
        instead="`await workflow.sleep(seconds)` / `await asyncio.sleep(seconds)`",
    ),
    Rule(
        code="RPL-SB03",
        title="shared random generator",
        calls=(*(f"random.{name}" for name in RANDOM_FUNCTIONS), "random.Random"),
        why="workflow code must not draw from the process-wide, unseeded random generator, "
        "because a replay would draw different numbers",
        instead="workflow.random() (or random.Random(seed) with an explicit seed)",
    ),
    Rule(
        code="RPL-SB04",
        title="random UUIDs",
        calls=("uuid.uuid1", "uuid.uuid4"),
        why="workflow code must not generate random or time-based UUIDs, because a replay "
        "would generate a different id",
        instead="workflow.uuid4()",
    ),
    Rule(
        code="RPL-SB05",
        title="OS entropy",
        calls=(
            "os.urandom", "os.getrandom", "random.SystemRandom", "secrets.SystemRandom",
            "secrets.choice", "secrets.randbelow", "secrets.randbits", "secrets.token_bytes",
            "secrets.token_hex", "secrets.token_urlsafe", "tempfile.mktemp",
            "tempfile._RandomNameSequence", "tempfile._get_candidate_names",
        ),
        why="workflow code must not read OS entropy, because a replay would get different "
        "bytes",
        instead="workflow.random() / workflow.uuid4()",
    ),
    Rule(
        code="RPL-SB06",
        title="environment variables",
        calls=(
            "os.environ", "os.environb", "os.getenv", "os.getenvb", "posix.environ",
            "nt.environ",
        ),
        why="workflow code must not read environment variables, because a replay may run in "
        "a process whose environment differs",
        instead="workflow input or an activity",
    ),
    Rule(
        code="RPL-SB07",
        title="file system",
        calls=(
            "open", "io.open", "os.open", "os.listdir", "os.scandir", "os.walk", "os.remove",
            "os.unlink", "os.rename", "os.replace", "os.mkdir", "os.makedirs", "os.rmdir",
            "shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree",
            "shutil.move", "shutil.rmtree", "tempfile.mkstemp", "tempfile.mkdtemp",
            "tempfile.NamedTemporaryFile", "tempfile.TemporaryFile",
            "tempfile.TemporaryDirectory", "sqlite3.connect",
        ),
        why="workflow code must not touch the file system, because a replay may find "
        "different contents and would repeat every write",
        instead=_ACTIVITY,
        events=_FILE_EVENTS,
        through_stdlib=True,
    ),
    Rule(
        code="RPL-SB08",
        title="network",
        calls=(
            "socket.socket", "socket.create_connection", "socket.create_server",
            "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostname",
            "urllib.request.urlopen", "http.client.HTTPConnection",
            "http.client.HTTPSConnection", "asyncio.open_connection",
        ),
        why="workflow code must not use the network, because a replay would send every "
        "request again and may get a different answer",
        instead=_ACTIVITY,
        events=_SOCKET_EVENTS,
        through_stdlib=True,
    ),
    Rule(
        code="RPL-SB09",
        title="subprocesses",
        calls=(
            "subprocess.run", "subprocess.Popen", "subprocess.call", "subprocess.check_call",
            "subprocess.check_output", "subprocess.getoutput", "subprocess.getstatusoutput",
            "os.system", "os.popen", "os.posix_spawn", "os.posix_spawnp",
            *(f"os.{name}" for name in _EXEC + _SPAWN),
            "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell",
        ),
        why="workflow code must not run other programs, because a replay would run them "
        "again and their output may differ",
        instead=_ACTIVITY,
        events=("subprocess.Popen", "os.system", "os.exec", "os.spawn", "os.posix_spawn"),
        through_stdlib=True,
    ),
    Rule(
        code="RPL-SB10",
        title="threads and processes",
        calls=(
            "threading.Thread", "threading.Timer", "_thread.start_new_thread",
            "multiprocessing.Process", "multiprocessing.Pool",
            "concurrent.futures.ThreadPoolExecutor", "concurrent.futures.ProcessPoolExecutor",
            "asyncio.to_thread", "os.fork", "os.forkpty",
        ),
        why="workflow code must not start threads or processes, because their timing is "
        "outside the deterministic loop and a replay would start them again",
        instead="an activity (or asyncio tasks on the workflow loop)",
        events=("os.fork", "os.forkpty"),
        through_stdlib=True,
    ),
    Rule(
        code="RPL-SB11",
        title="foreign event loop",
        calls=("asyncio.run", "asyncio.new_event_loop", "asyncio.Runner"),
        why="workflow code must not start or run another event loop, because only the "
        "workflow's own loop is replayed deterministically",
        instead="a plain `await` on the workflow's own loop",
    ),
    Rule(
        code="RPL-SB12",
        title="global assignment",
        calls=(),
        why="workflow code must not assign module globals, because every run in the "
        "process shares them and a replay would see what other runs left there",
        instead="state on the workflow instance (self.x)",
        runtime=False,
    ),
    Rule(
        code="RPL-SB13",
        title="module-level mutation",
        calls=(),
        why="workflow code must not mutate module-level objects, because every run in the "
        "process shares them and a replay would see what other runs left there",
        instead="state on the workflow instance (self.x)",
        runtime=False,
    ),
    Rule(
        code="RPL-SB14",
        title="process and host identity",
        calls=("os.getpid", "os.getppid", "os.uname", "platform.node", "platform.uname"),
        why="workflow code must not read the process id or the host's name, because a replay "
        "runs in another process, often on another host",
        instead="workflow.info() (the run's own ids) or an activity",
    ),
    Rule(
        code="RPL-SB15",
        title="string hashing",
        calls=("hash",),
        why="workflow code must not call hash() on strings, bytes or dates (or tuples of "
        "them), because their hash is salted per process (PYTHONHASHSEED), so a replay "
        "computes different values",
        instead="a stable digest (`zlib.crc32(s.encode())`, `hashlib.sha256(s.encode())`)",
    ),
    Rule(
        code="RPL-SB16",
        title="set iteration order",
        calls=(),
        why="workflow code must not depend on the iteration order of a set or frozenset, "
        "because it follows the per-process string hash seed (for strings) or memory "
        "addresses (for tasks and most objects), so a replay may see another order",
        instead="`sorted(...)`, or a list or dict (both keep insertion order)",
        runtime=False,
    ),
    Rule(
        code="RPL-SB17",
        title="asyncio completion sets",
        calls=("asyncio.as_completed", "asyncio.wait"),
        why="workflow code must not use asyncio.as_completed() or asyncio.wait(), because "
        "they keep the awaitables in sets whose order follows memory addresses "
        "(as_completed even starts coroutines in that order), so a replay may see another "
        "order",
        instead="workflow.as_completed() / workflow.wait() (they keep the order you give)",
        runtime=False,
    ),
)

BY_CODE: Mapping[str, Rule] = MappingProxyType({rule.code: rule for rule in RULES})

#: Calls restricted only when the argument at this position is absent or None:
#: without it they read the clock or seed from OS entropy.
DEFAULTED_ARG: Mapping[str, int] = MappingProxyType(
    {
        "time.localtime": 0,
        "time.gmtime": 0,
        "time.ctime": 0,
        "time.asctime": 0,
        "time.strftime": 1,
        "random.Random": 0,
    }
)

#: Names whose mere reading is restricted (not only calling them).
READ_NAMES = frozenset({"os.environ", "os.environb", "posix.environ", "nt.environ"})


def rule_for_call(call: str) -> Rule | None:
    """The rule that restricts the dotted name ``call``, if any."""
    return _BY_CALL.get(call)


_BY_CALL: Mapping[str, Rule] = MappingProxyType(
    {call: rule for rule in RULES for call in rule.calls}
)


def rules_markdown() -> str:
    """The rules table that ``docs/sandbox.md`` embeds (a test compares them)."""
    lines = [
        "| Code | What | Restricted calls (as the lint names them) and audit events "
        "| Use instead |",
        "|---|---|---|---|",
    ]
    for rule in RULES:
        calls = ", ".join(f"`{call}`" for call in rule.calls) or "(static check only)"
        if rule.events:
            calls += "; audit events " + ", ".join(f"`{event}`" for event in rule.events)
        lines.append(f"| {rule.code} | {rule.title} | {calls} | {rule.instead} |")
    return "\n".join(lines) + "\n"
