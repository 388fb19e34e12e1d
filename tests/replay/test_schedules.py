"""Schedules (replay/_client/_schedules.py, replay/_worker/_schedule_workflow.py): actions at
the spec's times, pause, trigger, backfill, update, delete and each overlap policy, on a
time-skipping clock that only moves through env.sleep()."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from replay.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleBackfill,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleNotFoundError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from replay.exceptions import InvalidCronError
from replay.history import MemoryStore, SqliteStore, Store, store_from_url
from replay.testing import WorkflowEnvironment

from .workflows.scheduled import BrokenJobWorkflow, LongJobWorkflow, ReportWorkflow

QUEUE = "sched"
START = datetime(2030, 1, 1, 0, 3, tzinfo=UTC)
WORKFLOWS = [ReportWorkflow, LongJobWorkflow, BrokenJobWorkflow]
EVERY_10 = ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(minutes=10))])


def at(minute: int, hour: int = 0) -> datetime:
    return datetime(2030, 1, 1, hour, minute, tzinfo=UTC)


def report(spec: ScheduleSpec = EVERY_10, *, policy: SchedulePolicy | None = None,
           state: ScheduleState | None = None) -> Schedule:
    return Schedule(action=ScheduleActionStartWorkflow(ReportWorkflow.run, "r", id="rep",
                                                       task_queue=QUEUE), spec=spec,
                    policy=policy or SchedulePolicy(), state=state or ScheduleState())


async def runs_of(client: Client, prefix: str) -> dict[str, str]:
    """workflow id -> status of the runs whose id starts with ``prefix``."""
    return {r.id: r.status.value async for r in client.list_workflows()
            if r.id.startswith(prefix)}


def ids(prefix: str, *times: datetime) -> list[str]:
    return [f"{prefix}-{t.strftime('%Y-%m-%dT%H:%M:%SZ')}" for t in times]


def open_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A fresh store of ``kind`` (PostgreSQL: a fresh schema on the session's server)."""
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return SqliteStore(tmp_path / "schedules.db")
    url: str = request.getfixturevalue("postgres_url")
    schema: str = request.getfixturevalue("postgres_schemas")()
    store = store_from_url(f"{url}?schema={schema}")
    assert store is not None
    return store


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def env(request: pytest.FixtureRequest, tmp_path: Path
              ) -> AsyncIterator[WorkflowEnvironment]:
    store = open_store(request.param, request, tmp_path)
    async with await WorkflowEnvironment.start_time_skipping(store=store,
                                                              start_time=START) as env:
        with env.auto_time_skipping_disabled():
            async with env.worker(task_queue=QUEUE, workflows=WORKFLOWS):
                yield env


async def test_actions_start_at_each_due_time_with_the_time_in_their_id(
        env: WorkflowEnvironment) -> None:
    handle = await env.client.create_schedule("every-10", report())
    await env.sleep(timedelta(minutes=35))
    assert await runs_of(env.client, "rep-") == dict.fromkeys(
        ids("rep", at(10), at(20), at(30)), "completed")
    result = await env.client.get_workflow_handle_for(
        ReportWorkflow.run, ids("rep", at(20))[0]).result()
    assert result == f"r@{at(20).isoformat()}"
    d = await handle.describe()
    assert d.id == "every-10"
    assert d.info.num_actions == 3
    assert [a.scheduled_at for a in d.info.recent_actions] == [at(10), at(20), at(30)]
    assert [a.action.workflow_id for a in d.info.recent_actions] == ids(
        "rep", at(10), at(20), at(30))
    assert d.info.running_actions == []
    assert d.info.next_action_times[:2] == [at(40), at(50)]
    assert d.info.created_at == START
    assert d.schedule.action.args == ["r"]
    assert d.schedule.action.workflow == "ReportWorkflow"
    listed = [s async for s in env.client.list_schedules()]
    assert [s.id for s in listed] == ["every-10"]


async def test_cron_expressions_start_and_end_times(env: WorkflowEnvironment) -> None:
    spec = ScheduleSpec(cron_expressions=["5,45 * * * *"], start_at=at(30),
                        end_at=at(5, hour=2))
    handle = await env.client.create_schedule("cron", report(spec))
    await env.sleep(timedelta(hours=3))
    assert sorted(await runs_of(env.client, "rep-")) == ids(
        "rep", at(45), at(5, 1), at(45, 1), at(5, 2))
    assert (await handle.describe()).info.next_action_times == []


async def test_pause_skips_due_times_and_unpause_resumes_from_now(
        env: WorkflowEnvironment) -> None:
    handle = await env.client.create_schedule("pausable", report())
    await env.sleep(timedelta(minutes=12))  # 00:10 taken
    await handle.pause(note="maintenance")
    d = await handle.describe()
    assert d.schedule.state.paused and d.schedule.state.note == "maintenance"
    await env.sleep(timedelta(minutes=30))  # 00:20, 00:30, 00:40 pass while paused
    assert sorted(await runs_of(env.client, "rep-")) == ids("rep", at(10))
    await handle.unpause()
    await env.sleep(timedelta(minutes=10))  # to 00:52
    assert sorted(await runs_of(env.client, "rep-")) == ids("rep", at(10), at(50))
    d = await handle.describe()
    assert not d.schedule.state.paused and d.info.num_actions == 2
    assert d.info.last_updated_at is not None


async def test_trigger_takes_the_action_now_even_when_paused(env: WorkflowEnvironment) -> None:
    handle = await env.client.create_schedule(
        "triggered", report(state=ScheduleState(paused=True)))
    await env.sleep(timedelta(minutes=4))  # 00:07
    await handle.trigger()
    await env.sleep(timedelta(seconds=1))
    assert await runs_of(env.client, "rep-") == {ids("rep", at(7))[0]: "completed"}
    assert (await handle.describe()).info.num_actions == 1


async def test_trigger_immediately_and_backfill_at_creation_and_later(
        env: WorkflowEnvironment) -> None:
    handle = await env.client.create_schedule(
        "filled", report(policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.ALLOW_ALL)),
        trigger_immediately=True,
        backfill=[ScheduleBackfill(start_at=at(0) - timedelta(hours=1),
                                   end_at=at(0))])
    await env.sleep(timedelta(seconds=1))
    # the backfill range (23:00, 00:00] holds 23:10 ... 00:00 (start exclusive, end inclusive)
    expected = {*ids("rep", START)}
    expected |= {*ids("rep", *[datetime(2029, 12, 31, 23, m, tzinfo=UTC)
                               for m in (10, 20, 30, 40, 50)], at(0))}
    assert set(await runs_of(env.client, "rep-")) == expected
    await handle.backfill(ScheduleBackfill(start_at=at(0, 5) - timedelta(minutes=1),
                                           end_at=at(20, 5), overlap=ScheduleOverlapPolicy.SKIP))
    await env.sleep(timedelta(seconds=1))
    later = set(await runs_of(env.client, "rep-")) - expected
    # SKIP, and all due at once: only the first of 05:00, 05:10, 05:20 starts
    assert later == set(ids("rep", at(0, 5)))
    d = await handle.describe()
    assert d.info.num_actions_skipped_overlap == 2


async def test_update_changes_the_spec_and_the_action(env: WorkflowEnvironment) -> None:
    handle = await env.client.create_schedule("updatable", report())
    await env.sleep(timedelta(minutes=12))

    def change(input: ScheduleUpdateInput) -> ScheduleUpdate:
        schedule = input.description.schedule
        schedule.spec = ScheduleSpec(cron_expressions=["0 * * * *"])
        schedule.action.args = ["changed"]
        return ScheduleUpdate(schedule=schedule)

    await handle.update(change)
    await env.sleep(timedelta(hours=1))  # 01:15
    runs = await runs_of(env.client, "rep-")
    assert sorted(runs) == ids("rep", at(10), at(0, 1))
    result = await env.client.get_workflow_handle_for(
        ReportWorkflow.run, ids("rep", at(0, 1))[0]).result()
    assert result.startswith("changed@")
    assert (await handle.describe()).schedule.spec.cron_expressions == ["0 * * * *"]

    async def leave(input: ScheduleUpdateInput) -> None:
        return None

    await handle.update(leave)
    assert (await handle.describe()).schedule.spec.cron_expressions == ["0 * * * *"]


async def test_delete_stops_the_schedule_and_leaves_its_runs(env: WorkflowEnvironment) -> None:
    handle = await env.client.create_schedule("doomed", Schedule(
        action=ScheduleActionStartWorkflow(LongJobWorkflow.run, 30, id="job", task_queue=QUEUE),
        spec=EVERY_10))
    await env.sleep(timedelta(minutes=8))  # 00:11: job-00:10 runs
    await handle.delete()
    with pytest.raises(ScheduleNotFoundError) as err:
        await handle.describe()
    assert err.value.code == "RPL-SC03"
    with pytest.raises(ScheduleNotFoundError):
        await handle.pause()
    assert [s async for s in env.client.list_schedules()] == []
    await env.sleep(timedelta(minutes=40))
    assert await runs_of(env.client, "job-") == {ids("job", at(10))[0]: "completed"}
    again = await env.client.create_schedule("doomed", report())  # the id is free again
    assert isinstance(again, ScheduleHandle)


async def test_pause_on_failure(env: WorkflowEnvironment) -> None:
    handle = await env.client.create_schedule("fragile", Schedule(
        action=ScheduleActionStartWorkflow(BrokenJobWorkflow.run, id="broken",
                                           task_queue=QUEUE),
        spec=EVERY_10, policy=SchedulePolicy(pause_on_failure=True)))
    await env.sleep(timedelta(minutes=30))
    assert await runs_of(env.client, "broken-") == {ids("broken", at(10))[0]: "failed"}
    state = (await handle.describe()).schedule.state
    assert state.paused and state.note is not None and "failed" in state.note


async def test_limited_actions(env: WorkflowEnvironment) -> None:
    handle = await env.client.create_schedule("limited", report(
        state=ScheduleState(limited_actions=True, remaining_actions=2)))
    await env.sleep(timedelta(minutes=50))
    assert sorted(await runs_of(env.client, "rep-")) == ids("rep", at(10), at(20))
    assert (await handle.describe()).schedule.state.remaining_actions == 0


@pytest.mark.parametrize(("overlap", "started", "statuses", "skipped"), [
    # a 25-minute job due every 10 minutes, looked at 00:58
    (ScheduleOverlapPolicy.SKIP, [10, 40], ["completed", "running"], 3),
    (ScheduleOverlapPolicy.BUFFER_ONE, [10, 20], ["completed", "running"], 2),
    (ScheduleOverlapPolicy.BUFFER_ALL, [10, 20], ["completed", "running"], 0),
    (ScheduleOverlapPolicy.ALLOW_ALL, [10, 20, 30, 40, 50],
     ["completed"] * 3 + ["running"] * 2, 0),
    (ScheduleOverlapPolicy.CANCEL_OTHER, [10, 20, 30, 40, 50],
     ["canceled"] * 4 + ["running"], 0),
    (ScheduleOverlapPolicy.TERMINATE_OTHER, [10, 20, 30, 40, 50],
     ["terminated"] * 4 + ["running"], 0),
])
async def test_overlap_policies(env: WorkflowEnvironment, overlap: ScheduleOverlapPolicy,
                                started: list[int], statuses: list[str], skipped: int) -> None:
    handle = await env.client.create_schedule("overlap", Schedule(
        action=ScheduleActionStartWorkflow(LongJobWorkflow.run, 25, id="job",
                                           task_queue=QUEUE),
        spec=EVERY_10, policy=SchedulePolicy(overlap=overlap)))
    await env.sleep(timedelta(minutes=55))  # 00:58
    runs = await runs_of(env.client, "job-")
    assert sorted(runs) == ids("job", *[at(m) for m in started])
    assert [runs[i] for i in sorted(runs)] == statuses
    d = await handle.describe()
    assert d.info.num_actions == len(started)
    assert d.info.num_actions_skipped_overlap == skipped
    assert len(d.info.running_actions) == statuses.count("running")


async def test_bad_schedules_are_refused_and_nothing_is_written() -> None:
    client = Client(MemoryStore())
    with pytest.raises(InvalidCronError) as err:
        await client.create_schedule("bad", report(ScheduleSpec(cron_expressions=["* * *"])))
    assert err.value.position == 6
    with pytest.raises(ValueError, match="every must be positive"):
        await client.create_schedule("bad", report(ScheduleSpec(
            intervals=[ScheduleIntervalSpec(every=timedelta(0))])))
    with pytest.raises(ValueError, match="end_at is before"):
        await client.create_schedule("bad", report(ScheduleSpec(
            cron_expressions=["@daily"], start_at=at(30), end_at=at(10))))
    with pytest.raises(TypeError, match="list of expressions"):
        await client.create_schedule("bad", report(ScheduleSpec(
            cron_expressions="@daily")))  # a str is a Sequence[str]: refused at run time
    with pytest.raises(TypeError, match="retry_policy"):
        ScheduleActionStartWorkflow(ReportWorkflow.run, "x", id="a", task_queue=QUEUE,
                                    retry_policy=None)
    with pytest.raises(TypeError, match="search_attributes"):
        await client.create_schedule("bad", report(), search_attributes={})
    assert [r async for r in client.list_workflows()] == []
    await client.create_schedule("good", report())
    with pytest.raises(ScheduleAlreadyRunningError) as dup:
        await client.create_schedule("good", report())
    assert dup.value.code == "RPL-SC02"
    assert len([r async for r in client.list_workflows()]) == 1
    with pytest.raises(ScheduleNotFoundError):
        await client.get_schedule_handle("missing").trigger()
    client.close()


async def test_a_long_schedule_continues_as_new_and_keeps_its_progress(
        env: WorkflowEnvironment) -> None:
    from replay._client._schedules import create_schedule

    handle = await create_schedule(env.client, "long", report(
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP)),
        continue_after_events=40)
    await env.sleep(timedelta(hours=2, minutes=2))  # 12 actions: several histories' worth
    schedule_runs = [r async for r in env.client.list_workflows()
                     if r.id == "replay-schedule:long"]
    assert len(schedule_runs) > 2
    assert [r.status.value for r in schedule_runs].count("running") == 1
    runs = await runs_of(env.client, "rep-")
    assert sorted(runs) == ids("rep", *[at(10 * k % 60, 10 * k // 60) for k in range(1, 13)])
    assert set(runs.values()) == {"completed"}
    d = await handle.describe()
    assert d.info.num_actions == 12
    assert d.info.created_at == START
    assert [a.scheduled_at for a in d.info.recent_actions] == [
        at(10 * k % 60, 10 * k // 60) for k in range(3, 13)]


async def test_jitter_delays_each_action_by_a_stable_amount(env: WorkflowEnvironment) -> None:
    spec = ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))],
                        jitter=timedelta(minutes=30))
    handle = await env.client.create_schedule("jittery", report(spec))
    planned = (await handle.describe()).info.next_action_times[:3]
    due = [at(0, 1), at(0, 2), at(0, 3)]
    delays = [p - d for p, d in zip(planned, due, strict=True)]
    assert all(timedelta(0) <= d < timedelta(minutes=30) for d in delays)
    assert len(set(delays)) == 3  # a hash of each due time, not one fixed delay
    await env.sleep(timedelta(hours=3, minutes=31))
    started = {r.id: r.start_time async for r in env.client.list_workflows()
               if r.id.startswith("rep-")}
    assert started == dict(zip(ids("rep", *due), planned, strict=True))
