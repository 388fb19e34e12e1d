"""A completer process: completes an activity by task token, then reports and waits.

``python -m tests.replay.workers.completer <store url> <token> <result> [--hold-first]``
prints ``ready`` and, with ``--hold-first``, waits for a line on stdin before
completing; it prints ``done`` or ``not found`` after, and then waits for stdin to
close, so the test can SIGKILL it at either point.
"""

from __future__ import annotations

import asyncio
import sys

from replay.client import AsyncActivityNotFoundError, Client


async def main(url: str, token: str, result: str, hold: bool) -> None:
    client = await Client.connect(url)
    print("ready", flush=True)
    if hold:
        sys.stdin.readline()
    handle = client.get_async_activity_handle(task_token=token.encode())
    try:
        await handle.complete(result)
        print("done", flush=True)
    except AsyncActivityNotFoundError:
        print("not found", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], "--hold-first" in sys.argv))
