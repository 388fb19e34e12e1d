"""Spellings from the familiar SDK: defn(sandboxed=False), memo access, activity.logger."""

from __future__ import annotations

import time
from datetime import timedelta

from replay import activity, workflow


@activity.defn
async def log_and_echo(value: str) -> str:
    activity.logger.info("echoing %s", value)
    return value


@workflow.defn(sandboxed=False)
class UnsandboxedMemo:
    @workflow.run
    async def run(self) -> list[object]:
        started = time.time() > 0  # allowed: this workflow opted out of the sandbox
        echoed = await workflow.execute_activity(log_and_echo, "hi",
                                                 start_to_close_timeout=timedelta(seconds=5))
        return [started, workflow.memo(), workflow.memo_value("owner", type_hint=str),
                workflow.memo_value("missing", "default"), echoed]
