"""``replay`` commands that run workers and talk to runs: worker, start, signal, query,
update, cancel, terminate, list, describe."""

from __future__ import annotations

import asyncio
import signal as signals
from datetime import datetime, timedelta
from typing import Any

import attrs
import click

from replay.client import Client, WorkflowExecutionDescription, WorkflowHandle, WorkflowTaskFailure
from replay.converter import DataConverter
from replay.history import RUN_STATUSES, RunInfo
from replay.worker import Replayer
from replay.workflow import WorkflowDefinition

from ._common import (
    CliError,
    data_converter_option,
    db_option,
    json_args,
    load_code,
    need_workflows,
    open_store,
    resolve_run,
    run_async,
    run_data,
    table,
    to_json,
)
from ._escape import escape_logs, visible

_ARG = click.option("--arg", "args", multiple=True, metavar="JSON",
                    help="One JSON argument (repeat for more).")
_WORKFLOWS = click.option("--workflows", "-w", "modules", multiple=True, metavar="MODULE",
                          help="Module (or module:attr, or file.py) defining the workflow.")


def _client(db: str, *, create: bool = False,
            data_converter: DataConverter | None = None) -> Client:
    return Client(open_store(db, create=create), data_converter=data_converter)


def _handle(client: Client, ident: str) -> tuple[WorkflowHandle[Any, Any], RunInfo]:
    run = resolve_run(client.store, ident)
    return client.get_workflow_handle(run.workflow_id, run_id=run.run_id), run


def failing_text(failure: WorkflowTaskFailure) -> str:
    """One line on a failing workflow task, for messages (untrusted text: escape it)."""
    retry = (f", next retry at {failure.next_retry_time.isoformat(timespec='seconds')}"
             if failure.next_retry_time is not None else "")
    where = f" at {failure.location}" if failure.location else ""
    return (f"{failure.type}: {failure.message}{where} (attempt {failure.attempt}{retry}, "
            f"recorded at event {failure.event_id})")


async def _result_or_failing(handle: WorkflowHandle[Any, Any], timeout: float | None
                             ) -> Any:
    """The run's result; CliError as soon as its workflow task is failing (or on timeout)."""
    result = asyncio.ensure_future(handle.result())
    try:
        async with asyncio.timeout(timeout):
            while True:
                done, _ = await asyncio.wait({result}, timeout=0.2)
                if done:
                    return result.result()
                failure = (await handle.describe()).task_failure
                if failure is not None:
                    raise CliError(_failing_message(failure))
    except TimeoutError as exc:
        raise CliError(f"gave up waiting for the result after {timeout:g}s; is a worker "
                       "running for this task queue (replay worker)?") from exc
    finally:
        result.cancel()


def _failing_message(failure: WorkflowTaskFailure) -> str:
    return (f"the run's workflow task is failing: {failing_text(failure)}. The run "
            "stays open and a worker retries the task with backoff: fix the workflow code "
            "(or its arguments) and restart the worker; see it with replay describe.")


async def _bounded(coro: Any, timeout: float | None, what: str) -> Any:
    try:
        return await asyncio.wait_for(coro, timeout)
    except TimeoutError as exc:
        raise CliError(f"gave up waiting for {what} after {timeout:g}s; is a worker "
                       "running for this task queue (replay worker)?") from exc


# --- worker -----------------------------------------------------------------------------------

STORE_UNUSABLE = 3
"""``replay worker``'s exit status when its store cannot be used (docs/cli.md)."""


class StoreUnusableError(CliError):
    """The worker's store is corrupt, read-only, from a newer replay, or cannot be opened."""

    exit_code = STORE_UNUSABLE

    def __init__(self, exc: Exception) -> None:
        text = " ".join(part.strip() for part in str(exc).splitlines() if part.strip())
        super().__init__(f"worker stopped: {text}")


@click.command()
@click.argument("modules", nargs=-1, required=True, metavar="MODULE...")
@click.option("--task-queue", "-q", required=True, help="The task queue to poll.")
@data_converter_option
@db_option
def worker(modules: tuple[str, ...], task_queue: str, data_converter: DataConverter | None,
           db: str) -> None:
    """Run a worker in the foreground until Ctrl-C or SIGTERM.

    Every @workflow.defn class and @activity.defn function found in the
    MODULEs is registered. A passing store fault (the database locked by
    another process, a full disk) is logged and retried until it clears; a
    store that cannot be used (corrupt, read-only, from a newer replay) ends
    the worker with one line on stderr and exit status 3.

    \b
    Example:
      replay worker myapp.workflows myapp.activities --task-queue orders
    """
    from replay.history import StoreError
    from replay.worker import Worker

    code = load_code(modules)
    if not code.workflows and not code.activities:
        raise click.UsageError("the modules define no @workflow.defn class and no "
                               "@activity.defn function")
    escape_logs()  # failures of runs are logged with their (untrusted) messages
    try:
        client = _client(db, create=True, data_converter=data_converter)
    except StoreError as exc:
        raise StoreUnusableError(exc) from exc

    async def serve() -> None:
        w = Worker(client, task_queue=task_queue, workflows=code.workflows,
                   activities=code.activities)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signals.SIGINT, signals.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        running = asyncio.create_task(w.run())
        names = ", ".join(c.__name__ for c in code.workflows) or "none"
        acts = ", ".join(getattr(a, "__name__", "?") for a in code.activities) or "none"
        click.echo(f"worker polling task queue {visible(repr(task_queue))} on {visible(db)} "
                   f"(workflows: {names}; activities: {acts}); Ctrl-C to stop")
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({running, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        await w.shutdown()
        await running
        click.echo("worker stopped")

    try:
        run_async(serve())
    except StoreError as exc:  # passing faults are retried inside; this one cannot clear
        raise StoreUnusableError(exc) from exc
    finally:
        client.close()


# --- starting and messaging runs -------------------------------------------------------------


@click.command()
@click.argument("workflow_type", metavar="TYPE")
@click.option("--id", "workflow_id", required=True, help="The workflow id.")
@click.option("--task-queue", "-q", required=True, help="The task queue its worker polls.")
@_ARG
@_WORKFLOWS
@click.option("--wait", is_flag=True, help="Wait for the result and print it as JSON.")
@click.option("--timeout", type=float, default=None, help="With --wait: give up after SECONDS.")
@data_converter_option
@db_option
def start(workflow_type: str, workflow_id: str, task_queue: str, args: tuple[str, ...],
          modules: tuple[str, ...], wait: bool, timeout: float | None,
          data_converter: DataConverter | None, db: str) -> None:
    """Start a run of workflow TYPE; prints its workflow id and run id.

    With --workflows the arguments are checked against the run method's
    annotations before anything is written.

    \b
    Example:
      replay start Greeter --id greet-1 --task-queue greetings --arg '"Ada"' --wait
    """
    code = load_code(modules)
    values = json_args(args)
    # With the code at hand, start by class so the arguments are checked against it.
    target: Any = next((w for w in code.workflows
                        if (d := WorkflowDefinition.find(w)) and d.name == workflow_type),
                       workflow_type)
    client = _client(db, create=True, data_converter=data_converter)

    async def go() -> None:
        handle = await client.start_workflow(target, id=workflow_id,
                                             task_queue=task_queue, args=values)
        click.echo(f"started workflow {visible(handle.id)} run "
                   f"{visible(handle.result_run_id)}")
        if wait:
            click.echo(to_json(await _result_or_failing(handle, timeout)))

    try:
        run_async(go())
    finally:
        client.close()


@click.command()
@click.argument("ident", metavar="ID")
@click.argument("name")
@_ARG
@data_converter_option
@db_option
def signal(ident: str, name: str, args: tuple[str, ...], data_converter: DataConverter | None,
           db: str) -> None:
    """Send signal NAME to run ID (a workflow id means its newest run).

    \b
    Example:
      replay signal greet-1 add --arg '"Bob"'
    """
    values = json_args(args)
    client = _client(db, data_converter=data_converter)
    try:
        handle, _ = _handle(client, ident)
        run_async(handle.signal(name, args=values))
        click.echo(f"signalled {visible(name)} to workflow {visible(handle.id)} run "
                   f"{visible(handle.run_id)}")
    finally:
        client.close()


@click.command()
@click.argument("ident", metavar="ID")
@click.argument("name")
@_ARG
@_WORKFLOWS
@click.option("--timeout", type=float, default=5.0, show_default=True,
              help="Without --workflows: give up waiting for a worker's answer after SECONDS.")
@data_converter_option
@db_option
def query(ident: str, name: str, args: tuple[str, ...], modules: tuple[str, ...],
          timeout: float, data_converter: DataConverter | None, db: str) -> None:
    """Run query NAME on run ID and print the answer as JSON.

    With --workflows the query replays the run's recorded activations through
    that code here and asks the rebuilt workflow: it works on closed runs too
    and needs no worker. Without it, a worker of the run's task queue answers;
    the name and arguments are first checked against what the workers
    registered, and a bad one is refused.

    \b
    Examples:
      replay query greet-1 count --workflows myapp.workflows
      replay query greet-1 count
    """
    values = json_args(args)
    if not modules:
        client = _client(db, data_converter=data_converter)
        try:
            handle, _ = _handle(client, ident)
            answer = run_async(handle.query(name, args=values,
                                            rpc_timeout=timedelta(seconds=timeout)))
        finally:
            client.close()
        click.echo(to_json(answer))
        return
    replayer = Replayer(workflows=need_workflows(load_code(modules), "query"),
                        data_converter=data_converter)
    store = open_store(db)
    try:
        history = store.history(resolve_run(store, ident).run_id)
    finally:
        store.close()
    click.echo(to_json(replayer.replay_sync(history).query(name, *values)))


@click.command()
@click.argument("ident", metavar="ID")
@click.argument("name")
@_ARG
@_WORKFLOWS
@click.option("--timeout", type=float, default=60.0, show_default=True,
              help="Give up waiting for the result after SECONDS.")
@data_converter_option
@db_option
def update(ident: str, name: str, args: tuple[str, ...], modules: tuple[str, ...],
           timeout: float, data_converter: DataConverter | None, db: str) -> None:
    """Send update NAME to run ID, wait for its result and print it as JSON.

    A worker must be running for the run's task queue: it validates, accepts
    and runs the update.

    \b
    Example:
      replay update greet-1 rename --arg 0 --arg '"Ada L."'
    """
    load_code(modules)
    values = json_args(args)
    client = _client(db, data_converter=data_converter)
    try:
        handle, _ = _handle(client, ident)
        result = run_async(_bounded(handle.execute_update(name, args=values), timeout,
                                    f"update {name!r}"))
        click.echo(to_json(result))
    finally:
        client.close()


@click.command()
@click.argument("ident", metavar="ID")
@click.option("--reason", default="", help="Why (recorded in CancelRequested).")
@db_option
def cancel(ident: str, reason: str, db: str) -> None:
    """Ask run ID to cancel (its code sees asyncio.CancelledError).

    \b
    Example:
      replay cancel greet-1
    """
    client = _client(db)
    try:
        handle, _ = _handle(client, ident)
        run_async(handle.cancel(reason))
        click.echo(f"cancellation requested for workflow {visible(handle.id)} run "
                   f"{visible(handle.run_id)}")
    finally:
        client.close()


@click.command()
@click.argument("ident", metavar="ID")
@click.option("--reason", default="", help="Why (recorded in WorkflowTerminated).")
@db_option
def terminate(ident: str, reason: str, db: str) -> None:
    """End run ID now, without running its code.

    \b
    Example:
      replay terminate greet-1 --reason "stuck on a bad deploy"
    """
    client = _client(db)
    try:
        handle, _ = _handle(client, ident)
        run_async(handle.terminate(reason=reason or None))
        click.echo(f"terminated workflow {visible(handle.id)} run {visible(handle.run_id)}")
    finally:
        client.close()


# --- inspecting runs -------------------------------------------------------------------------

_STATUSES = list(RUN_STATUSES)


def _time(run: RunInfo, field: str) -> str:
    value = getattr(run, field)
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


@click.command(name="list")
@click.option("--status", type=click.Choice(_STATUSES), help="Only runs with this status.")
@click.option("--failing", is_flag=True,
              help="Only runs whose workflow task is failing (they stay open and retry).")
@click.option("--type", "workflow_type", metavar="TYPE", help="Only runs of this workflow type.")
@click.option("--limit", type=click.IntRange(min=1), help="At most N runs (newest first).")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
@db_option
def list_(status: str | None, failing: bool, workflow_type: str | None, limit: int | None,
          as_json: bool, db: str) -> None:
    """List runs, newest first.

    A run whose workflow task is failing shows ``running (task failing, attempt
    N)``; --failing lists only those.

    \b
    Examples:
      replay list --status running --type Greeter --limit 20
      replay list --failing
    """
    store = open_store(db)
    try:
        runs = store.list_runs(status=status, workflow_type=workflow_type, limit=limit,
                               task_failing=True if failing else None)
    finally:
        store.close()
    if as_json:
        click.echo(to_json([{**run_data(r), "task_failing": r.task_failing,
                             "task_attempt": r.task_attempt} for r in runs]))
        return
    click.echo(table(["WORKFLOW ID", "RUN ID", "TYPE", "STATUS", "STARTED", "EVENTS"],
                     [(r.workflow_id, r.run_id, r.workflow_type, _status(r),
                       _time(r, "start_time"), str(r.last_event_id)) for r in runs]))


def _status(run: RunInfo) -> str:
    if not run.task_failing:
        return run.status
    return f"{run.status} (task failing, attempt {run.task_attempt})"


@click.command()
@click.argument("ident", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of a table.")
@data_converter_option
@db_option
def describe(ident: str, as_json: bool, data_converter: DataConverter | None, db: str) -> None:
    """Show one run: ids, type, task queue, status, times, history length, parent, memo,
    its failing workflow task (cause, attempt, next retry) and its open activities
    (attempt, last failure, next attempt, last heartbeat).

    \b
    Example:
      replay describe greet-1 --json
    """
    client = _client(db, data_converter=data_converter)
    try:
        handle, run = _handle(client, ident)
        desc: WorkflowExecutionDescription = run_async(handle.describe())
    finally:
        client.close()
    data = run_data(run)
    failure = desc.task_failure
    activities = [attrs.asdict(a) for a in desc.pending_activities]
    if as_json:
        click.echo(to_json({**data, "task_failure": attrs.asdict(failure) if failure else None,
                            "pending_activities": activities}))
        return
    rows = [(key.replace("_", " "), value if isinstance(value, str) else to_json(value))
            for key, value in data.items()]
    if failure is not None:
        rows.append(("task failing", failing_text(failure)))
    click.echo(table(["FIELD", "VALUE"], rows))
    if failure is not None and failure.stack_trace:
        click.echo(f"\ntask failure stack:\n{visible(failure.stack_trace, keep_newlines=True)}")
    if desc.pending_activities:
        click.echo("\npending activities:")
        click.echo(table(
            ["ACTIVITY ID", "TYPE", "STATE", "ATTEMPT", "NEXT ATTEMPT", "LAST HEARTBEAT",
             "LAST FAILURE"],
            [(a.activity_id, a.activity_type, a.state.value, str(a.attempt),
              _when(a.next_attempt_schedule_time), _when(a.last_heartbeat_time),
              f"{a.last_failure.type}: {a.last_failure.message}" if a.last_failure else "-")
             for a in desc.pending_activities]))


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


COMMANDS = [worker, start, signal, query, update, cancel, terminate, list_, describe]
