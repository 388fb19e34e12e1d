"""A workflow used the event-driven way: it emits, waits for events, and has state to read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from replay import workflow
from replay.exceptions import ApplicationError


@dataclass
class Feedback:
    """An event a client sends (``ctx.send_event``): it reaches the ``Feedback`` signal."""

    text: str


@workflow.defn
class Reviewer:
    """Asks for ``rounds`` pieces of feedback, then returns them (fails on ``"fail"``)."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    @workflow.run
    async def run(self, rounds: int) -> list[str]:
        for i in range(rounds):
            workflow.emit(f"waiting for round {i}")
            await workflow.wait_condition(self._has_notes(i + 1))
        if "fail" in self.notes:
            raise ApplicationError("the reviewer rejected it", type="Rejected")
        return self.notes

    def _has_notes(self, count: int) -> Callable[[], bool]:
        return lambda: len(self.notes) >= count

    @workflow.signal(name="Feedback")
    def feedback(self, event: Feedback) -> None:
        self.notes.append(event.text)

    @workflow.query
    def status(self) -> list[str]:
        return list(self.notes)
