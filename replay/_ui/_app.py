"""The web app: Starlette routes over one client (one store) and the workflow code.

Pages are rendered on the server (Jinja2, every value escaped); a little
JavaScript refreshes the counts and an open run's page from server-sent events.
Reads of the store run in threads so a slow store never stalls other requests.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from replay.client import Client
from replay.exceptions import ReplayError
from replay.history import Event, RunInfo, WorkflowCompleted, WorkflowFailed, WorkflowStarted

from ._actions import ACTIONS, ActionError, perform
from ._debug_view import debug_view
from ._events_view import event_rows
from ._runs_view import STATUSES, RunFilter, fetch_page
from ._security import SESSION_COOKIE, TOKEN_COOKIE, Guard
from ._timeline import build_timeline

__all__ = ["create_app"]

HERE = Path(__file__).parent
#: How long one server-sent-events wait lasts before a keep-alive comment.
SSE_KEEPALIVE = 15.0


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["when"] = _when
    return env


def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


class UiState:
    """What every request needs: the client, the workflow code, the guard, templates."""

    def __init__(self, client: Client, workflows: Sequence[type], guard: Guard) -> None:
        self.client = client
        self.workflows = list(workflows)
        self.guard = guard
        self.env = _environment()

    def render(self, request: Request, template: str, status_code: int = 200,
               **context: Any) -> HTMLResponse:
        session = request.state.session
        body = self.env.get_template(template).render(
            csrf=self.guard.csrf_token(session), statuses=STATUSES,
            have_code=bool(self.workflows), **context)
        return HTMLResponse(body, status_code=status_code)


class SessionAndToken(BaseHTTPMiddleware):
    """Gives each browser a session cookie (for CSRF tokens) and enforces the token."""

    def __init__(self, app: Any, guard: Guard) -> None:
        super().__init__(app)
        self.guard = guard

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        offered = request.query_params.get("token")
        bearer = request.headers.get("authorization", "")
        bearer_token = bearer[7:] if bearer.lower().startswith("bearer ") else None
        if not self.guard.token_ok(bearer_token or offered, request.cookies.get(TOKEN_COOKIE)):
            return PlainTextResponse(
                "this replay UI needs its token: open it with ?token=SECRET (the value "
                "given to replay ui --token)", status_code=401)
        session = request.cookies.get(SESSION_COOKIE) or self.guard.new_session()
        request.state.session = session
        response = await call_next(request)
        if request.cookies.get(SESSION_COOKIE) != session:
            response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict")
        if offered and self.guard.token is not None:
            response.set_cookie(TOKEN_COOKIE, offered, httponly=True, samesite="strict")
        return response


def _state(request: Request) -> UiState:
    state: UiState = request.app.state.ui
    return state


async def runs_page(request: Request) -> Response:
    ui = _state(request)
    filters = RunFilter.from_params(request.query_params)
    error = None
    try:
        page = await fetch_page(ui.client, filters)
    except ReplayError as exc:
        error, page = str(exc), None
    counts = await _counts(ui)
    return ui.render(request, "runs.html", filters=filters, page=page, error=error,
                     counts=counts, status_code=400 if error else 200)


async def _counts(ui: UiState) -> dict[str, int]:
    store = ui.client.store

    def count_all() -> dict[str, int]:
        return {name: store.count_runs(status=status) for name, status in STATUSES.items()}

    counts: dict[str, int] = await run_in_threadpool(count_all)
    return counts


async def counts_json(request: Request) -> Response:
    return JSONResponse(await _counts(_state(request)))


async def _run_or_404(request: Request) -> RunInfo | Response:
    ui = _state(request)
    ident = request.path_params["run_id"]
    store = ui.client.store
    run: RunInfo | None = await run_in_threadpool(store.get_run, ident)
    if run is None:
        run = await run_in_threadpool(store.latest_run, ident)
    if run is None:
        return ui.render(request, "missing.html", status_code=404, ident=ident)
    return run


async def run_page(request: Request) -> Response:
    ui = _state(request)
    found = await _run_or_404(request)
    if isinstance(found, Response):
        return found
    context = await _run_context(ui, found)
    return ui.render(request, "run.html", done=request.query_params.get("done", ""), **context)


async def run_fragment(request: Request) -> Response:
    """The live parts of a run page (summary, timeline, history), for the page's script."""
    ui = _state(request)
    found = await _run_or_404(request)
    if isinstance(found, Response):
        return found
    context = await _run_context(ui, found)
    return ui.render(request, "run_live.html", **context)


async def _run_context(ui: UiState, run: RunInfo) -> dict[str, Any]:
    client = ui.client
    events: list[Event] = await run_in_threadpool(client.store.read, run.run_id)
    description = await client.get_workflow_handle(run.workflow_id, run_id=run.run_id
                                                   ).describe()
    now = datetime.now(UTC) if run.status == "running" else None
    return {
        "inputs": _inputs(events),
        "outcome": _outcome(events),
        "run": run,
        "description": description,
        "events": event_rows(events),
        "timeline": build_timeline(events, now=now),
        "open": run.status == "running",
        "actions": ACTIONS,
    }


def _inputs(events: Sequence[Event]) -> str:
    first = events[0] if events else None
    return json.dumps(first.args, ensure_ascii=False) if isinstance(first, WorkflowStarted) else ""


def _outcome(events: Sequence[Event]) -> tuple[str, str] | None:
    """("result", JSON) or ("failure", type: message) when the run has ended that way."""
    last = events[-1] if events else None
    if isinstance(last, WorkflowCompleted):
        return "result", json.dumps(last.result, ensure_ascii=False)
    if isinstance(last, WorkflowFailed):
        return "failure", f"{last.failure.type}: {last.failure.message}"
    return None


async def run_stream(request: Request) -> Response:
    """Server-sent events: ``changed`` with the newest event id whenever the run moves,
    ``closed`` when it ends."""
    ui = _state(request)
    found = await _run_or_404(request)
    if isinstance(found, Response):
        return found
    run_id = found.run_id
    after = int(request.query_params.get("after", "0") or 0)
    store = ui.client.store

    async def events() -> AsyncIterator[str]:
        last = after
        while True:
            token = store.change_token()
            newest: int = await run_in_threadpool(store.last_event_id, run_id)
            info: RunInfo | None = await run_in_threadpool(store.get_run, run_id)
            if newest > last:
                last = newest
                yield f"event: changed\ndata: {newest}\n\n"
            if info is None or info.status != "running":
                yield f"event: closed\ndata: {last}\n\n"
                return
            if await request.is_disconnected():
                return
            if not await store.wait_changed(SSE_KEEPALIVE, since=token, run_id=run_id):
                yield ": keep-alive\n\n"

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store"})


async def debug_page(request: Request) -> Response:
    ui = _state(request)
    found = await _run_or_404(request)
    if isinstance(found, Response):
        return found
    history = await run_in_threadpool(ui.client.store.history, found.run_id)
    params = request.query_params
    try:
        event_id = int(params.get("event", "") or len(history.events))
    except ValueError:
        event_id = len(history.events)
    view = None
    error = None
    if ui.workflows:
        try:
            view = await run_in_threadpool(
                debug_view, history, ui.workflows, event_id,
                query=params.get("query") or None, query_args=params.get("args", ""))
        except ReplayError as exc:
            error = str(exc)
    return ui.render(request, "debug.html", run=found, events=event_rows(history.events),
                     view=view, error=error, event_id=event_id)


async def action(request: Request) -> Response:
    ui = _state(request)
    found = await _run_or_404(request)
    if isinstance(found, Response):
        return found
    form = await request.form()
    fields = {k: str(v) for k, v in form.items()}
    origin = request.headers.get("origin")
    if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host"):
        return PlainTextResponse("refused: the request came from another site",
                                 status_code=403)
    if not ui.guard.csrf_ok(request.state.session, fields.get("csrf")):
        return PlainTextResponse(
            "refused: the form's CSRF token is missing or stale; reload the page and try "
            "again", status_code=403)
    name = request.path_params["action"]
    if name not in ACTIONS:
        return PlainTextResponse(f"no action {name!r}", status_code=404)
    if fields.get("confirmed") != "yes":
        return ui.render(request, "confirm.html", run=found, action=name, fields=fields,
                         error=None)
    try:
        message = await perform(ui.client, found, name, fields)
    except ActionError as exc:
        return ui.render(request, "confirm.html", status_code=400, run=found, action=name,
                         fields=fields, error=str(exc))
    return RedirectResponse(f"/runs/{found.run_id}?{urlencode({'done': message})}",
                            status_code=303)


def create_app(client: Client, *, workflows: Sequence[type] = (), token: str | None = None,
               guard: Guard | None = None) -> Starlette:
    """The UI over ``client``'s store; ``workflows`` enable the debugger page."""
    guard = guard or Guard(token)
    routes = [
        Route("/", runs_page),
        Route("/api/counts", counts_json),
        Route("/runs/{run_id}", run_page),
        Route("/runs/{run_id}/live", run_fragment),
        Route("/runs/{run_id}/stream", run_stream),
        Route("/runs/{run_id}/debug", debug_page),
        Route("/runs/{run_id}/actions/{action}", action, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(SessionAndToken, guard=guard)])
    app.state.ui = UiState(client, workflows, guard)
    return app

