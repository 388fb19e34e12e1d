"""Handler patterns from the message-passing guide, beyond the greeting sample.

Concurrent updates serialised by a lock, dynamic handlers of every kind,
signals that arrive before their handler exists, read-only contexts that try
to issue commands, and handlers left running when the run ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from replay import workflow
from replay.common import RawValue

TEN_SECONDS = timedelta(seconds=10)


@dataclass
class Note:
    """A note sent to LateHandlerWorkflow (decoded by the handler's annotation)."""

    text: str
    priority: int


@workflow.defn
class LockedUpdatesWorkflow:
    """Each update runs an activity under one lock; run waits for every handler."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.log: list[str] = []
        self.finished = False

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: self.finished)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.log

    @workflow.signal
    def finish(self) -> None:
        self.finished = True

    @workflow.update
    async def fetch(self, key: str) -> str:
        async with self.lock:
            self.log.append(f"{key}:start")
            value: str = await workflow.execute_activity(
                "lookup", key, start_to_close_timeout=TEN_SECONDS)
            self.log.append(f"{key}:end")
            return value

    @workflow.query
    def entries(self) -> list[str]:
        return self.log


@workflow.defn
class DynamicHandlersWorkflow:
    """Every message goes to a dynamic handler that decodes its RawValue arguments."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.signals: list[str] = []

    @workflow.run
    async def run(self) -> dict[str, int]:
        await workflow.wait_condition(lambda: "stop" in self.signals)
        return self.values

    @workflow.signal(dynamic=True)
    def any_signal(self, name: str, args: Sequence[RawValue]) -> None:
        self.signals.append(name)
        if args:
            self.values[name] = workflow.payload_converter().from_payload(args[0].payload, int)

    @workflow.query(dynamic=True)
    def any_query(self, name: str, args: Sequence[RawValue]) -> Any:
        if name == "signals":
            return self.signals
        return self.values.get(name)

    @workflow.update(dynamic=True)
    def any_update(self, name: str, args: Sequence[RawValue]) -> int:
        value: int = workflow.payload_converter().from_payload(args[0].payload, int)
        self.values[name] = value * 2
        return value * 2

    @any_update.validator
    def check_update(self, name: str, args: Sequence[RawValue]) -> None:
        if name.startswith("bad"):
            raise ValueError(f"update {name} is refused")


@workflow.defn(dynamic=True)
class DynamicWorkflow:
    """Runs for any workflow type no other registered class claims."""

    @workflow.run
    async def run(self, args: Sequence[RawValue]) -> str:
        name = workflow.payload_converter().from_payload(args[0].payload, str)
        greeting: str = await workflow.execute_activity(
            "greet", name, start_to_close_timeout=TEN_SECONDS)
        return f"{workflow.info().workflow_type}: {greeting}"


@workflow.defn
class LateHandlerWorkflow:
    """Registers its handlers only after ``open``; earlier signals wait in a buffer."""

    def __init__(self) -> None:
        self.opened = False
        self.notes: list[str] = []
        self.other: list[str] = []

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: self.opened)
        workflow.set_signal_handler("note", self.on_note)
        workflow.set_dynamic_signal_handler(self.on_other)
        await workflow.wait_condition(lambda: len(self.notes) >= 3)
        return self.notes + self.other

    @workflow.signal
    def open(self) -> None:
        self.opened = True

    def on_note(self, note: Note) -> None:
        self.notes.append(f"{note.text}@{note.priority}")

    def on_other(self, name: str, args: Sequence[RawValue]) -> None:
        self.other.append(name)

    @workflow.query
    def seen(self) -> list[str]:
        return self.notes + self.other


@workflow.defn
class ReadOnlyWorkflow:
    """Queries and a validator that try to issue commands; children started after them."""

    def __init__(self) -> None:
        self.count = 0
        self.go = False
        self.sneaked: asyncio.Future[Any] | None = None

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: self.go)
        first = await workflow.start_child_workflow("Child", self.count)
        second = await workflow.start_child_workflow("Child", self.count)
        return [first.id, second.id]

    @workflow.signal
    def start(self) -> None:
        self.go = True

    @workflow.query
    def sneaky_activity(self) -> None:
        workflow.start_activity("sneak", start_to_close_timeout=TEN_SECONDS)

    @workflow.query
    def sneaky_execute_activity(self) -> None:
        self.sneaked = asyncio.ensure_future(
            workflow.execute_activity("sneak", start_to_close_timeout=TEN_SECONDS))

    @workflow.query
    def sneaky_sleep(self) -> None:
        asyncio.get_running_loop().call_later(5, print)

    @workflow.query
    def sneaky_emit(self) -> None:
        workflow.emit("from a query")

    @workflow.query
    def sneaky_child(self) -> None:
        workflow.start_child_workflow("Child", 0)

    @workflow.query
    def count_value(self) -> int:
        return self.count

    @workflow.update
    def bump(self, how: str) -> int:
        self.count += 1
        return self.count

    @bump.validator
    def check_bump(self, how: str) -> None:
        if how == "activity":
            workflow.start_activity("sneak", start_to_close_timeout=TEN_SECONDS)
        elif how == "sleep":
            self.sneaked = asyncio.ensure_future(workflow.sleep(5))
        elif how == "emit":
            workflow.emit("from a validator")


@workflow.defn
class UnfinishedWorkflow:
    """Completes on ``finish`` while update handlers may still wait on activities."""

    def __init__(self) -> None:
        self.finished = False

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.finished)
        return "done"

    @workflow.signal
    def finish(self) -> None:
        self.finished = True

    @workflow.update
    async def slow(self) -> str:
        result: str = await workflow.execute_activity("slow", start_to_close_timeout=TEN_SECONDS)
        return result

    @workflow.update(unfinished_policy=workflow.HandlerUnfinishedPolicy.ABANDON)
    async def slow_abandon(self) -> str:
        result: str = await workflow.execute_activity("slow", start_to_close_timeout=TEN_SECONDS)
        return result


@workflow.defn
class CatalogWorkflow:
    """A validator that depends on what an earlier signal added."""

    def __init__(self) -> None:
        self.languages = ["en"]
        self.current = "en"
        self.done = False

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.done)
        return self.current

    @workflow.signal
    def add_language(self, code: str) -> None:
        self.languages.append(code)

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.update
    def set_language(self, code: str) -> str:
        previous, self.current = self.current, code
        return previous

    @set_language.validator
    def check_language(self, code: str) -> None:
        if code not in self.languages:
            raise ValueError(f"{code} is not supported")
