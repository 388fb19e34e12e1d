"""Workflow code that breaks every runtime rule once, one function per call.

The tests call each function under the guard and lint this file; both must
report the marked line.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
import os
import platform
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, datetime
from pathlib import Path
from random import choice as pick
from time import time as clock

from . import workflow


def wall_clock() -> float:
    return time.time()  # mark: RPL-SB01


def wall_clock_ns() -> int:
    return time.time_ns()  # mark: RPL-SB01


def monotonic() -> float:
    return time.monotonic()  # mark: RPL-SB01


def perf_counter() -> float:
    return time.perf_counter()  # mark: RPL-SB01


def local_time_now() -> object:
    return time.localtime()  # mark: RPL-SB01


def aliased_clock() -> float:
    return clock()  # mark: RPL-SB01


def datetime_now() -> datetime:
    return datetime.now()  # mark: RPL-SB01


def datetime_utcnow() -> datetime:
    return datetime.utcnow()  # mark: RPL-SB01


def date_today() -> date:
    return date.today()  # mark: RPL-SB01


def module_datetime_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)  # mark: RPL-SB01


def blocking_sleep() -> None:
    time.sleep(0)  # mark: RPL-SB02


def random_random() -> float:
    return random.random()  # mark: RPL-SB03


def random_randint() -> int:
    return random.randint(1, 6)  # mark: RPL-SB03


def random_choice() -> int:
    return random.choice([1, 2, 3])  # mark: RPL-SB03


def random_shuffle() -> list[int]:
    items = [1, 2, 3]
    random.shuffle(items)  # mark: RPL-SB03
    return items


def random_uniform() -> float:
    return random.uniform(0.0, 1.0)  # mark: RPL-SB03


def aliased_choice() -> int:
    return pick([1, 2, 3])  # mark: RPL-SB03


def random_uuid() -> uuid.UUID:
    return uuid.uuid4()  # mark: RPL-SB04


def time_uuid() -> uuid.UUID:
    return uuid.uuid1()  # mark: RPL-SB04


def os_entropy() -> bytes:
    return os.urandom(8)  # mark: RPL-SB05


def secret_token() -> str:
    return secrets.token_hex(8)  # mark: RPL-SB05


def system_random() -> float:
    return random.SystemRandom().random()  # mark: RPL-SB05


def temp_name() -> str:
    return tempfile.mktemp()  # mark: RPL-SB05


def random_name() -> str:
    return str(next(tempfile._RandomNameSequence()))  # type: ignore[attr-defined]  # mark: RPL-SB05


def environ_item() -> str:
    return os.environ["HOME"]  # mark: RPL-SB06


def environ_get() -> str | None:
    return os.environ.get("HOME")  # mark: RPL-SB06


def environ_contains() -> bool:
    return "HOME" in os.environ  # mark: RPL-SB06


def getenv() -> str | None:
    return os.getenv("HOME")  # mark: RPL-SB06


def raw_environ() -> bytes:
    import posix  # POSIX only: the tests skip this one elsewhere

    return posix.environ[b"HOME"]  # mark: RPL-SB06


def open_file() -> str:
    with open(__file__) as f:  # mark: RPL-SB07
        return f.read()


def temp_file() -> tuple[int, str]:
    return tempfile.mkstemp()  # mark: RPL-SB07


def list_directory() -> list[str]:
    return os.listdir(".")  # mark: RPL-SB07


def pathlib_read() -> str:
    return Path(__file__).read_text()  # mark: RPL-SB07 runtime-only


def new_socket() -> None:
    socket.socket().close()  # mark: RPL-SB08


def run_program() -> None:
    subprocess.run(["true"], check=False)  # mark: RPL-SB09


def shell_command() -> int:
    return os.system("true")  # mark: RPL-SB09


def start_thread() -> None:
    threading.Thread(target=print).start()  # mark: RPL-SB10


def start_process() -> None:
    multiprocessing.Process(target=print).start()  # mark: RPL-SB10


def fork() -> None:
    sys.audit("os.fork")  # mark: RPL-SB10 runtime-only


async def _nothing() -> None:
    pass


def run_loop() -> None:
    coro = _nothing()
    try:
        asyncio.run(coro)  # mark: RPL-SB11
    finally:
        coro.close()


def new_loop() -> None:
    asyncio.new_event_loop().close()  # mark: RPL-SB11


def process_id() -> int:
    return os.getpid()  # mark: RPL-SB14


def parent_process_id() -> int:
    return os.getppid()  # mark: RPL-SB14


def host_uname() -> object:
    return os.uname()  # mark: RPL-SB14


def host_name() -> str:
    return platform.node()  # mark: RPL-SB14


def string_hash() -> int:
    return hash("order-1") % 8  # mark: RPL-SB15


def bytes_hash() -> int:
    return hash(b"order-1")  # mark: RPL-SB15


def tuple_hash() -> int:
    key = "order-1"
    return hash((key, 1))  # mark: RPL-SB15


def swallowed() -> str:
    """Catches the error: the engine must still hear of the violation."""
    try:
        time.time()  # mark: RPL-SB01
    except Exception:
        return "caught"
    return "not caught"


@workflow.defn
class BreaksEveryRule:
    """Uses every function above, so the lint reaches each of them."""

    @workflow.run
    async def run(self) -> None:
        for fn in (
            wall_clock, wall_clock_ns, monotonic, perf_counter, local_time_now, aliased_clock,
            datetime_now, datetime_utcnow, date_today, module_datetime_now, blocking_sleep,
            random_random, random_randint, random_choice, random_shuffle, random_uniform,
            aliased_choice, random_uuid, time_uuid, os_entropy, secret_token, system_random,
            temp_name, random_name, environ_item, environ_get, environ_contains, getenv,
            raw_environ, open_file, temp_file, list_directory, pathlib_read, new_socket,
            run_program, shell_command, start_thread, start_process, fork, run_loop, new_loop,
            process_id, parent_process_id, host_uname, host_name, string_hash, bytes_hash,
            tuple_hash, swallowed,
        ):
            fn()
