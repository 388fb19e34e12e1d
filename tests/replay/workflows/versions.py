"""Pairs of workflow versions for divergence tests: A records, B replays.

Each pair registers both classes under one workflow type name, as a deploy
of changed code would. The line where B first departs from A (the command
it issues instead, or where it waits when it issues none) carries a
``# B-DIVERGES`` comment, so a test can find the location an error must name.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from replay import workflow

T = timedelta(seconds=10)


# --- reorder two commands ----------------------------------------------------------------


@workflow.defn(name="Reorder")
class ReorderA:
    @workflow.run
    async def run(self) -> None:
        await asyncio.gather(
            workflow.execute_activity("reserve", start_to_close_timeout=T),
            workflow.execute_activity("charge", start_to_close_timeout=T),
        )


@workflow.defn(name="Reorder")
class ReorderB:
    @workflow.run
    async def run(self) -> None:
        charge = workflow.start_activity("charge", start_to_close_timeout=T)  # B-DIVERGES
        reserve = workflow.start_activity("reserve", start_to_close_timeout=T)
        await asyncio.gather(reserve, charge)


# --- rename an activity ------------------------------------------------------------------


@workflow.defn(name="Rename")
class RenameA:
    @workflow.run
    async def run(self) -> None:
        await workflow.sleep(5)
        await workflow.execute_activity("charge", start_to_close_timeout=T)


@workflow.defn(name="Rename")
class RenameB:
    @workflow.run
    async def run(self) -> None:
        await workflow.sleep(5)
        await workflow.execute_activity("charge_card", start_to_close_timeout=T)  # B-DIVERGES


# --- add a timer -------------------------------------------------------------------------


@workflow.defn(name="AddTimer")
class AddTimerA:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity("charge", start_to_close_timeout=T)
        await workflow.execute_activity("ship", start_to_close_timeout=T)


@workflow.defn(name="AddTimer")
class AddTimerB:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity("charge", start_to_close_timeout=T)
        await asyncio.sleep(3600)  # B-DIVERGES
        await workflow.execute_activity("ship", start_to_close_timeout=T)


# --- drop an await: a command disappears ---------------------------------------------------


@workflow.defn(name="DropAwait")
class DropAwaitA:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity("validate", start_to_close_timeout=T)
        await workflow.execute_activity("charge", start_to_close_timeout=T)


@workflow.defn(name="DropAwait")
class DropAwaitB:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity("charge", start_to_close_timeout=T)  # B-DIVERGES


# --- change a timer's duration -------------------------------------------------------------


@workflow.defn(name="Duration")
class DurationA:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity("charge", start_to_close_timeout=T)
        await asyncio.sleep(60)


@workflow.defn(name="Duration")
class DurationB:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity("charge", start_to_close_timeout=T)
        await asyncio.sleep(90)  # B-DIVERGES


# --- the history holds commands the code no longer issues ----------------------------------


@workflow.defn(name="Fewer")
class FewerA:
    @workflow.run
    async def run(self) -> None:
        await asyncio.gather(
            workflow.execute_activity("charge", start_to_close_timeout=T),
            workflow.execute_activity("audit", start_to_close_timeout=T),
        )


@workflow.defn(name="Fewer")
class FewerB:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity("charge", start_to_close_timeout=T)  # B-DIVERGES


# --- the code issues commands beyond what a completed history holds --------------------------


@workflow.defn(name="More")
class MoreA:
    @workflow.run
    async def run(self) -> str:
        await workflow.execute_activity("charge", start_to_close_timeout=T)
        return "done"


@workflow.defn(name="More")
class MoreB:
    @workflow.run
    async def run(self) -> str:
        await workflow.execute_activity("charge", start_to_close_timeout=T)
        await workflow.execute_activity("notify", start_to_close_timeout=T)  # B-DIVERGES
        return "done"


# --- ...and beyond what one (closed) activation holds ----------------------------------------


@workflow.defn(name="Extra")
class ExtraA:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity("charge", start_to_close_timeout=T)


@workflow.defn(name="Extra")
class ExtraB:
    @workflow.run
    async def run(self) -> None:
        first = workflow.start_activity("charge", start_to_close_timeout=T)
        second = workflow.start_activity("notify", start_to_close_timeout=T)  # B-DIVERGES
        await asyncio.gather(first, second)


# --- the code stops short of a completed history --------------------------------------------


@workflow.defn(name="Stuck")
class StuckA:
    @workflow.run
    async def run(self) -> str:
        await workflow.execute_activity("charge", start_to_close_timeout=T)
        return "done"


@workflow.defn(name="Stuck")
class StuckB:
    @workflow.run
    async def run(self) -> str:
        await workflow.execute_activity("charge", start_to_close_timeout=T)
        await workflow.wait_condition(lambda: False)  # B-DIVERGES
        return "done"
