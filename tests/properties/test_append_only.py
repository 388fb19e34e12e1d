"""Invariant 1, at the engine level: a run's history only ever grows.

Runs driven by a real worker (time-skipping environment) receive a generated
sequence of client actions; after every action each run's history must start
with everything it held before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.workflows import ApprovalWorkflow, TimerWorkflow, WaitingWorkflow
from fixtures.workflows.messages import Approval, Language
from replay.history import Event, PostgresStore, Store
from replay.testing import WorkflowEnvironment

QUEUE = "append-only"
ACTIONS = st.lists(st.one_of(
    st.tuples(st.just("push"), st.text(max_size=5)),
    st.tuples(st.just("language"), st.sampled_from(list(Language))),
    st.tuples(st.just("approve"), st.text(max_size=5)),
    st.tuples(st.just("stop"), st.none()),
    st.tuples(st.just("sleep"), st.sampled_from([1, 60, 400, 4000])),
), max_size=12)


async def _drive(actions: list[tuple[str, object]], store: Store | None = None) -> None:
    async with await WorkflowEnvironment.start_time_skipping(store=store) as env, env.worker(
            task_queue=QUEUE, workflows=[ApprovalWorkflow, TimerWorkflow, WaitingWorkflow]):
        c = env.client
        with env.auto_time_skipping_disabled():
            wait = await c.start_workflow(WaitingWorkflow.run, id="w", task_queue=QUEUE)
            appr = await c.start_workflow(ApprovalWorkflow.run, "Ada", id="a", task_queue=QUEUE)
            timer = await c.start_workflow(TimerWorkflow.run, 3, id="t", task_queue=QUEUE)
            runs = [h.result_run_id for h in (wait, appr, timer)]
            seen: dict[str, list[Event]] = {r: [] for r in runs if r}

            def check() -> None:
                for run_id, before in seen.items():
                    now = list(env.store.read(run_id))
                    assert now[:len(before)] == before, f"run {run_id} history was rewritten"
                    seen[run_id] = now

            for kind, value in actions:
                if kind == "push":
                    assert isinstance(value, str)
                    await _quietly(wait.signal(WaitingWorkflow.push, value))
                elif kind == "language":
                    assert isinstance(value, Language)
                    await _quietly(appr.execute_update(ApprovalWorkflow.set_language, value))
                elif kind == "approve":
                    await _quietly(appr.signal(ApprovalWorkflow.approve, Approval(str(value))))
                elif kind == "stop":
                    await _quietly(timer.signal(TimerWorkflow.stop))
                else:
                    assert isinstance(value, int)
                    await env.sleep(timedelta(seconds=value))
                check()
            await env.sleep(timedelta(hours=2))
            check()


async def _quietly(aw: object) -> None:
    """Send; a closed run or a rejected update is a fine outcome here."""
    try:
        await asyncio.wait_for(aw, 10)  # type: ignore[arg-type]  # any awaitable
    except Exception as exc:
        assert "RPL-" in str(exc) or "not supported" in str(exc) or "closed" in str(exc)


@settings(max_examples=max(8, settings().max_examples // 50), deadline=None)
@given(ACTIONS)
def test_histories_of_worker_driven_runs_only_grow(actions: list[tuple[str, object]]) -> None:
    asyncio.run(_drive(actions))


@settings(max_examples=3, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ACTIONS)
def test_histories_on_postgres_only_grow(postgres_url: str,
                                         postgres_schemas: Callable[[], str],
                                         actions: list[tuple[str, object]]) -> None:
    asyncio.run(_drive(actions, PostgresStore(postgres_url, schema=postgres_schemas())))
