"""Code the lint must not report: nothing here breaks a rule inside workflow code."""

from __future__ import annotations

import os
import time
from datetime import datetime

from . import workflow

STARTED = time.time()  # module import time, not workflow code


def not_used_by_workflows() -> float:
    return time.time()


class NotAWorkflow:
    def run(self) -> str:
        return datetime.now().isoformat() + os.environ.get("HOME", "")


@workflow.defn
class CleanWorkflow:
    created = datetime  # a class-level reference, not a call

    @workflow.run
    async def run(self, time: float) -> float:
        return time * 2  # `time` is the parameter here, not the module

    def open(self, path: str) -> str:
        return path  # a method named open is not builtins.open

    def uses_own_open(self) -> str:
        open = str  # a local named open
        return open(1)
