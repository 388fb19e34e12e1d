"""Workflows and activities for the familiar-API parity items (issue 14, small items)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from replay import activity, workflow
from replay.common import RetryPolicy
from replay.exceptions import ActivityError, ApplicationError, ApplicationErrorCategory


@activity.defn
async def declines() -> str:
    raise ApplicationError("card declined", type="Declined",
                           category=ApplicationErrorCategory.BENIGN)


@activity.defn
async def echo(value: str) -> str:
    return value


@workflow.defn
class BenignWorkflow:
    @workflow.run
    async def run(self) -> dict[str, Any]:
        try:
            await workflow.execute_activity(
                declines, start_to_close_timeout=timedelta(seconds=5),
                retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=1),
                                         maximum_attempts=2))
        except ActivityError as err:
            cause = err.cause
            assert isinstance(cause, ApplicationError)
            return {"type": cause.type, "category": cause.category.name}
        return {}


@workflow.defn
class InfoWorkflow:
    @workflow.run
    async def run(self) -> dict[str, Any]:
        info = workflow.info()
        first = (info.get_current_history_length(), info.get_current_history_size())
        await workflow.execute_activity(echo, "x", start_to_close_timeout=timedelta(seconds=5))
        later = (info.get_current_history_length(), info.get_current_history_size())
        return {
            "first": list(first), "later": list(later),
            "suggested": info.is_continue_as_new_suggested(),
            "execution_timeout": info.execution_timeout.total_seconds()
            if info.execution_timeout else None,
            "run_timeout": info.run_timeout.total_seconds() if info.run_timeout else None,
        }


@workflow.defn
class HandlerLookupWorkflow:
    @workflow.run
    async def run(self) -> dict[str, Any]:
        def extra(value: str) -> None:
            pass

        workflow.set_signal_handler("extra", extra)
        return {
            "signal_bound": workflow.get_signal_handler("ping") == self.ping,
            "extra": workflow.get_signal_handler("extra") is extra,
            "query": workflow.get_query_handler("state") == self.state,
            "update": workflow.get_update_handler("set") == self.set,
            "missing": workflow.get_signal_handler("nope") is None,
            "dynamic": workflow.get_dynamic_signal_handler() is None
            and workflow.get_dynamic_query_handler() is None
            and workflow.get_dynamic_update_handler() is None,
        }

    @workflow.signal
    def ping(self) -> None:
        pass

    @workflow.query
    def state(self) -> str:
        return "ok"

    @workflow.update
    def set(self, value: str) -> str:
        return value
