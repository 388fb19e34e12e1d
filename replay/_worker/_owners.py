"""Worker identities that let a worker tell when another on this machine has died.

An identity is ``host:pidns:pid:nonce``. A lease held by an identity with this
host and PID namespace whose process no longer exists belongs to a dead
worker: its leases can be freed at once instead of waiting for them to expire.
Anything else (another host, another namespace, a malformed owner) is left to
lease expiry, which is always safe.
"""

from __future__ import annotations

import os
import socket
import uuid


def _pid_namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return "-"


_HOST = socket.gethostname().replace(":", "_")


def local_identity() -> str:
    """A fresh worker identity for this process."""
    return f"{_HOST}:{_pid_namespace()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_dead_local(owner: str) -> bool:
    """True only if ``owner`` names a worker process of this machine that has exited."""
    parts = owner.split(":")
    if len(parts) != 4 or parts[0] != _HOST or parts[1] != _pid_namespace():
        return False
    try:
        pid = int(parts[2])
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False
