"""Workflows whose unchanged code replays differently: their decisions depend on state
outside the history (a module global a test changes between recording and replay).

The code fingerprint recorded with each activation matches on replay, so a
divergence reports nondeterministic code, not a code change.
"""

from __future__ import annotations

from datetime import timedelta

from replay import workflow

T = timedelta(seconds=10)

SETTINGS: dict[str, str] = {"activity": "charge", "greeting": "Hello"}
"""Module state read by workflow code: what a replay sees may differ from the recording."""


@workflow.defn
class GlobalSettingsWorkflow:
    """Which activity it runs and what it returns come from a module global."""

    @workflow.run
    async def run(self, name: str) -> str:
        await workflow.sleep(1)
        await workflow.execute_activity(SETTINGS["activity"], start_to_close_timeout=T)
        return f"{SETTINGS['greeting']}, {name}!"
