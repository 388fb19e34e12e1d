"""``replay`` commands that run workers and talk to runs: worker, start, signal, query,
update, cancel, terminate, list, describe."""

from __future__ import annotations

import asyncio
import logging
import signal as signals
import time
from datetime import datetime, timedelta
from typing import Any

import attrs
import click

from replay.client import Client, WorkflowExecutionDescription, WorkflowHandle, WorkflowTaskFailure
from replay.converter import DataConverter
from replay.history import RUN_STATUSES, ListQueryError, RunInfo, Store, list_query
from replay.worker import Replayer, WorkerMetrics
from replay.workflow import WorkflowDefinition

from ._common import (
    CONVERTER_SPEC,
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
from ._escape import visible
from ._logging import FORMATS, LEVELS, configure_logging
from ._processes import extra_workers

log = logging.getLogger("replay.cli")

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
@click.option("--log-level", type=click.Choice(LEVELS, case_sensitive=False), default="INFO",
              show_default=True, help="Log records of this level and up (on stderr).")
@click.option("--log-format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text lines, or one JSON object per line.")
@click.option("--processes", "-p", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes to run on the store (this one and N-1 more).")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None, metavar="PORT",
              help="Serve the worker's metrics for Prometheus at http://HOST:PORT/metrics "
                   "(the prometheus extra; 0 picks a free port, printed on stderr).")
@click.option("--metrics-host", default="127.0.0.1", show_default=True,
              help="The address the metrics endpoint listens on.")
@data_converter_option
@db_option
def worker(modules: tuple[str, ...], task_queue: str, log_level: str, log_format: str,
           processes: int,
           metrics_port: int | None, metrics_host: str, data_converter: DataConverter | None,
           db: str) -> None:
    """Run a worker in the foreground until Ctrl-C or SIGTERM.

    Every @workflow.defn class and @activity.defn function found in the
    MODULEs is registered (and recorded in the store, so that clients without
    the code can check what they send). Logs go to stderr: --log-level
    (default INFO: workflow.logger and activity.logger records included),
    --log-format text or json. With --processes N, N-1 more worker processes run
    the same code on the same store (one per core: a worker runs on one core),
    sharing its runs through their leases (with the same --data-converter and log
    options; --metrics-port serves this process's metrics only); Ctrl-C or
    SIGTERM stops them all. A passing store fault (the database locked by
    another process, a full disk) is logged and retried until it clears; a
    store that cannot be used (corrupt, read-only, from a newer replay) ends
    the worker with one line on stderr and exit status 3.

    \b
    Example:
      replay worker myapp.workflows myapp.activities --task-queue orders
      replay worker myapp.workflows -q orders --log-level WARNING --log-format json
    """
    from replay.history import StoreError
    from replay.worker import Worker

    code = load_code(modules)
    if not code.workflows and not code.activities:
        raise click.UsageError("the modules define no @workflow.defn class and no "
                               "@activity.defn function")
    # failures of runs are logged with their (untrusted) messages: the handler escapes them
    configure_logging(log_level.upper(), log_format)
    client = _open_waiting(db, data_converter)

    metrics = _metrics_endpoint(metrics_port, metrics_host, client) \
        if metrics_port is not None else None

    async def serve() -> None:
        w = Worker(client, task_queue=task_queue, workflows=code.workflows,
                   activities=code.activities, metrics=metrics)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signals.SIGINT, signals.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        running = asyncio.create_task(w.run())
        names = ", ".join(c.__name__ for c in code.workflows) or "none"
        acts = ", ".join(getattr(a, "__name__", "?") for a in code.activities) or "none"
        others = (f"; {len(extra)} more worker processes: pids "
                  + ", ".join(str(p.pid) for p in extra)) if extra else ""
        click.echo(f"worker polling task queue {visible(repr(task_queue))} on {visible(db)} "
                   f"(workflows: {names}; activities: {acts}{others}); Ctrl-C to stop")
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({running, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        await w.shutdown()
        await running
        click.echo("worker stopped")

    try:
        converter_spec = click.get_current_context().meta.get(CONVERTER_SPEC)
        with extra_workers(processes - 1, modules, task_queue, db,
                           data_converter=converter_spec,
                           log_options=["--log-level", log_level, "--log-format", log_format]
                           ) as extra:
            run_async(serve())
    except StoreError as exc:  # passing faults are retried inside; this one cannot clear
        raise StoreUnusableError(exc) from exc
    finally:
        client.close()


OPEN_FIRST_DELAY = 0.05
"""Seconds before ``replay worker`` tries again to open a store that is unavailable..."""
OPEN_MAX_DELAY = 2.0
"""...doubling up to this."""
OPEN_REPEAT_LOG = 30.0
"""While it lasts, the same fault is logged again at most this often."""


def _open_waiting(db: str, data_converter: DataConverter | None) -> Client:
    """The worker's client, once its store opens: a passing fault (the file locked by
    another process past the busy timeout, a full disk, a PostgreSQL server that is
    restarting) is logged at WARNING and retried with backoff; a store that cannot be
    used (corrupt, foreign, from a newer replay, read-only) ends the command (exit 3)."""
    from replay.history import StoreError, StoreUnavailableError

    delay, logged_at, reason = OPEN_FIRST_DELAY, 0.0, None
    while True:
        try:
            client = _client(db, create=True, data_converter=data_converter)
        except StoreUnavailableError as exc:
            now = time.monotonic()
            if exc.reason != reason or now - logged_at >= OPEN_REPEAT_LOG:
                log.warning("cannot open the store yet (%s); retrying in %.2fs (backoff up to "
                            "%.0fs): %s", exc.reason or "fault", delay, OPEN_MAX_DELAY, exc)
                logged_at, reason = now, exc.reason
            time.sleep(delay)
            delay = min(OPEN_MAX_DELAY, delay * 2)
            continue
        except StoreError as exc:
            raise StoreUnusableError(exc) from exc
        if reason is not None:
            log.info("the store opened after waiting for it (%s)", reason)
        return client


def _metrics_endpoint(port: int, host: str, client: Client) -> WorkerMetrics:
    """The Prometheus endpoint's metrics sink (a usage error without its extra)."""
    try:
        from replay.contrib.opentelemetry import serve_prometheus
        endpoint = serve_prometheus(port, host, store=client.store)
    except ImportError as exc:
        raise click.UsageError(f"--metrics-port: {exc}") from exc
    except OSError as exc:
        raise CliError(f"--metrics-port: cannot listen on {host}:{port}: {exc.strerror}") \
            from exc
    click.echo(f"metrics at {visible(endpoint.url)}", err=True)
    return endpoint.metrics


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


_TIME_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z",
                 "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


#: How many runs ``replay list`` shows unless told otherwise (--limit N, --all).
DEFAULT_LIST_LIMIT = 100


@click.command(name="list")
@click.option("--status", type=click.Choice(_STATUSES), help="Only runs with this status.")
@click.option("--failing", is_flag=True,
              help="Only runs whose workflow task is failing (they stay open and retry).")
@click.option("--type", "workflow_type", metavar="TYPE", help="Only runs of this workflow type.")
@click.option("--id-prefix", metavar="PREFIX", help="Only runs whose workflow id starts so.")
@click.option("--since", type=click.DateTime(_TIME_FORMATS), metavar="TIME",
              help="Only runs started at or after TIME (ISO 8601; UTC unless it says).")
@click.option("--until", type=click.DateTime(_TIME_FORMATS), metavar="TIME",
              help="Only runs started before TIME.")
@click.option("--limit", type=click.IntRange(min=1),
              help=f"At most N runs, newest first (default {DEFAULT_LIST_LIMIT}).")
@click.option("--all", "everything", is_flag=True, help="Every matching run (no limit).")
@click.option("--query", "-q", metavar="QUERY",
              help="Only runs matching a list query (docs/list-queries.md), e.g. "
              "\"WorkflowType = 'Orders' AND Customer = 'acme'\"; combined with the other "
              "filters by AND.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
@db_option
def list_(status: str | None, failing: bool, workflow_type: str | None,
          id_prefix: str | None, since: datetime | None, until: datetime | None,
          limit: int | None, everything: bool, query: str | None, as_json: bool,
          db: str) -> None:
    """List runs, newest first (the newest 100 unless --limit or --all).

    A run whose workflow task is failing shows ``running (task failing, attempt
    N)``; --failing lists only those. --query filters with the list-filter
    language over WorkflowId, WorkflowType, RunId, TaskQueue, ExecutionStatus,
    StartTime, CloseTime and the runs' search attributes; a malformed query is
    shown with a caret under the mistake. --json includes each run's
    search_attributes. When more runs match than are shown, stderr says so.

    \b
    Examples:
      replay list --status running --type Greeter --limit 20
      replay list --id-prefix order- --since 2026-11-01 --until 2026-11-08
      replay list --failing
      replay list --query "ExecutionStatus = 'Running' AND Amount > 100"
    """
    if limit is not None and everything:
        raise click.UsageError("--limit and --all contradict each other: give one")
    if failing and (query is not None or id_prefix or since or until):
        raise click.UsageError("--failing cannot be combined with --query, --id-prefix, "
                               "--since or --until")
    shown = None if everything else (limit or DEFAULT_LIST_LIMIT)
    ask = None if shown is None else shown + 1  # one more, to know whether there are more
    store = open_store(db)
    try:
        if failing:
            runs = store.list_runs(status=status, workflow_type=workflow_type, limit=ask,
                                   task_failing=True)
        elif query is not None or id_prefix or since or until:
            others = status or workflow_type or id_prefix or since or until
            # a query alone is used as written, so a mistake's position is the user's
            text = list_query(status=status, workflow_type=workflow_type,
                              id_prefix=id_prefix, started_after=since,
                              started_before=until, query=query) if others else query or ""
            runs = _query_runs(store, text, ask)
        else:
            runs = store.list_runs(status=status, workflow_type=workflow_type, limit=ask)
    finally:
        store.close()
    if shown is not None and len(runs) > shown:
        runs = runs[:shown]
        click.echo(f"showing the newest {shown} matching runs; more match (--limit N, or "
                   "--all)", err=True)
    if as_json:
        click.echo(to_json([{**run_data(r), "task_failing": r.task_failing,
                             "task_attempt": r.task_attempt} for r in runs]))
        return
    click.echo(table(["WORKFLOW ID", "RUN ID", "TYPE", "STATUS", "STARTED", "EVENTS"],
                     [(r.workflow_id, r.run_id, r.workflow_type, _status(r),
                       _time(r, "start_time"), str(r.last_event_id)) for r in runs]))


def _query_runs(store: Store, query: str, limit: int | None) -> list[RunInfo]:
    """The runs ``query`` matches; a ListQueryError is shown on several lines (the query
    and a caret under the mistake) and ends the command with status 1."""
    try:
        return store.query_runs(query, limit=limit)
    except ListQueryError as exc:
        for line in str(exc).splitlines():
            click.echo(visible(line) if line.strip() else line, err=True)
        raise SystemExit(1) from exc


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
