"""The ``replay`` command without ``--workflows`` checks input against the store's registry,
and says when it creates a store file (and never creates one for a command that only
reads).

The registry is written as a worker in another process would write it, under a type
name no class of this process declares, so the command has no code to fall back on.
Every refusal leaves the store file byte for byte as it was.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from replay._cli._main import main
from replay.history import HandlerSignature, SqliteStore, WorkflowSignature

AT = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)
REMOTE = WorkflowSignature(
    workflow_type="RemoteGreeter",
    run=HandlerSignature(name="run", min_args=1, max_args=1, arg_types=("str",)),
    signals=(HandlerSignature(name="add", min_args=1, max_args=1, arg_types=("str",)),),
    queries=(HandlerSignature(name="count"),),
    updates=(HandlerSignature(name="set_total", min_args=1, max_args=1, arg_types=("int",)),))
SOURCE = ("as registered on task queue 'greetings' by worker other-host:42 at "
          "2026-11-29T15:00:00+00:00")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def files(db: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(db.parent.glob(f"{db.name}*"))}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store with RemoteGreeter registered on 'greetings' and one run of it (greet-1)."""
    path = tmp_path / "app.db"
    store = SqliteStore(path)
    store.register_worker("greetings", "other-host:42", AT, [REMOTE], [])
    store.close()
    started = run("start", "RemoteGreeter", "--id", "greet-1", "-q", "greetings",
                  "--arg", '"Ada"', "--db", str(path))
    assert started.exit_code == 0, started.output
    return path


@pytest.mark.parametrize(("args", "message"), [
    (["signal", "greet-1", "ad", "--arg", '"Bob"'],
     f"error: [RPL-C09] workflow 'RemoteGreeter' has no signal named 'ad' ({SOURCE}; its "
     "signals: add). Did you mean 'add'? Nothing was written."),
    (["signal", "greet-1", "add", "--arg", '"Bob"', "--arg", '"Eve"'],
     "error: [RPL-C10] signal 'add' of workflow 'RemoteGreeter' takes 1 argument(s) (str), "
     f"got 2 ({SOURCE}). Nothing was written."),
    (["update", "greet-1", "set_total", "--arg", '"3"'],
     "error: [RPL-C11] argument 0 of update 'set_total' of workflow 'RemoteGreeter' must be "
     f"int, got a string ({SOURCE}). Nothing was written."),
    (["query", "greet-1", "cont"],
     f"error: [RPL-C09] workflow 'RemoteGreeter' has no query named 'cont' ({SOURCE}; its "
     "queries: count). Did you mean 'count'? Nothing was written."),
    (["start", "RemoteGreter", "--id", "greet-2", "-q", "greetings", "--arg", '"Ada"'],
     "error: [RPL-C12] no worker of task queue 'greetings' hosts workflow type "
     "'RemoteGreter' (registered there: RemoteGreeter). Did you mean 'RemoteGreeter'? "
     "Nothing was written. Check the type and the task queue, or start a worker that "
     "hosts it."),
    (["start", "RemoteGreeter", "--id", "greet-2", "-q", "greetings"],
     f"error: [RPL-C10] workflow 'RemoteGreeter' takes 1 argument(s) (str), got 0 ({SOURCE})."
     " Nothing was written."),
])
def test_bad_input_is_refused_and_the_file_is_unchanged(db: Path, args: list[str],
                                                        message: str) -> None:
    before = files(db)
    result = run(*args, "--db", str(db))
    assert (result.exit_code, result.stdout, result.stderr.strip()) == (1, "", message)
    assert files(db) == before


def test_good_input_goes_through(db: Path) -> None:
    result = run("signal", "greet-1", "add", "--arg", '"Bob"', "--db", str(db))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("signalled add to workflow greet-1 run ")


def test_a_command_that_creates_a_store_says_so(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("start", "Anything", "--id", "a-1", "-q", "q", "--db", "replay.db")
    assert result.exit_code == 0, result.output
    assert result.stderr == "created new store ./replay.db\n"
    again = run("start", "Anything", "--id", "a-2", "-q", "q", "--db", "replay.db")
    assert (again.exit_code, again.stderr) == (0, "")  # it exists now: nothing to say
    url = run("start", "Anything", "--id", "a-3", "-q", "q", "--db",
              f"sqlite:///{tmp_path / 'other.db'}")
    assert url.stderr == f"created new store {tmp_path / 'other.db'}\n"


@pytest.mark.parametrize("command", [
    ["list"], ["describe", "x"], ["signal", "x", "go"], ["query", "x", "q"],
    ["update", "x", "u"], ["cancel", "x"], ["terminate", "x"], ["show", "x"],
])
@pytest.mark.parametrize("form", ["path", "url"])
def test_a_command_that_only_reads_creates_no_store(tmp_path: Path, command: list[str],
                                                    form: str) -> None:
    path = tmp_path / "missing.db"
    db = str(path) if form == "path" else f"sqlite:///{path}"
    result = run(*command, "--db", db)
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"error: no database at {db!r}: pass --db PATH or set REPLAY_DB (this command only "
        "reads, so it creates no store)\n")
    assert list(tmp_path.iterdir()) == []
