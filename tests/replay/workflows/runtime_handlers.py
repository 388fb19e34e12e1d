"""A workflow that registers its signal, query and update handlers while it runs."""

from __future__ import annotations

from collections.abc import Sequence

from replay import workflow
from replay.common import RawValue


@workflow.defn
class RuntimeHandlers:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.done = False

    @workflow.run
    async def run(self) -> list[str]:
        workflow.set_signal_handler("add", self.items.append)
        workflow.set_query_handler("count", lambda: len(self.items))
        workflow.set_dynamic_query_handler(self._any_query)
        workflow.set_update_handler("finish", self._finish, validator=self._check_finish)
        await workflow.wait_condition(lambda: self.done)
        return self.items

    def _any_query(self, name: str, args: Sequence[RawValue]) -> str:
        return f"{name}:{len(args)}"

    def _finish(self, note: str) -> int:
        self.items.append(note)
        self.done = True
        return len(self.items)

    def _check_finish(self, note: str) -> None:
        if not self.items:
            raise ValueError("nothing to finish yet")
