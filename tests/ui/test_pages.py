"""The UI's pages and actions over HTTP, against a real server, worker and SQLite file."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from replay._ui import UiBindingError, check_binding
from replay.client import Client
from replay.history import SignalReceived, WorkflowTerminated

from .conftest import LoopThread, RunningWorker, UiServer, start_order, waiting_for_approval
from .workflows import Order, OrderChanged

UiFactory = Callable[..., UiServer]


def finish(loop_thread: LoopThread, client: Client, name: str) -> str:
    """Start an Order, drive it to its end; returns its run id."""
    handle = start_order(loop_thread, client, name)

    async def go() -> None:
        # signalled once it waits for approval, so its history has one layout
        await waiting_for_approval(client, handle.run_id or "")
        await handle.signal(Order.add_item, "tea")
        await handle.signal(Order.approve)
        await handle.result()

    loop_thread.call(go)
    run = client.store.latest_run(name)
    assert run is not None
    return run.run_id


def csrf_of(page: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def test_runs_list_and_run_page_show_the_run(loop_thread: LoopThread, client: Client,
                                             worker: RunningWorker,
                                             ui_factory: UiFactory) -> None:
    run_id = finish(loop_thread, client, "page-1")
    ui = ui_factory()
    with httpx.Client(base_url=ui.url) as http:
        listing = http.get("/")
        assert listing.status_code == 200
        assert f'href="/runs/{run_id}">page-1</a>' in listing.text
        assert http.get("/api/counts").json()["Completed"] == 2  # the run and its child
        page = http.get(f"/runs/{run_id}")
        assert page.status_code == 200
        assert 'id="run-input">[&#34;page-1&#34;]</code>' in page.text
        assert 'id="run-result">&#34;Hello, page-1: 42 tea&#34;</code>' in page.text
        assert page.text.count(' outcome-') == 3
        assert 'id="event-15"' in page.text
        assert 'id="signal-form"' not in page.text  # no actions on a closed run
        by_workflow_id = http.get("/runs/page-1")  # a workflow id shows its newest run
        assert f"<code>{run_id}</code>" in by_workflow_id.text


def test_a_missing_run_is_a_404_naming_it(client: Client, ui_factory: UiFactory) -> None:
    ui = ui_factory()
    response = httpx.get(f"{ui.url}/runs/nope<b>")
    assert response.status_code == 404
    assert "no run or workflow id <code>nope&lt;b&gt;</code>" in response.text


def test_untrusted_strings_are_escaped_on_every_page(loop_thread: LoopThread, client: Client,
                                                     worker: RunningWorker,
                                                     ui_factory: UiFactory) -> None:
    evil = '<img src=x onerror="alert(1)">'
    run_id = finish(loop_thread, client, evil)
    ui = ui_factory()
    with httpx.Client(base_url=ui.url) as http:
        for path in ("/", f"/runs/{run_id}", f"/runs/{run_id}/debug?event=3",
                     f"/runs/{run_id}/live"):
            text = http.get(path).text
            assert evil not in text, path
            assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in text, path


def test_the_debugger_page_shows_state_source_lines_and_query_answers(
        loop_thread: LoopThread, client: Client, worker: RunningWorker,
        ui_factory: UiFactory) -> None:
    run_id = finish(loop_thread, client, "dbg-1")
    ui = ui_factory()
    with httpx.Client(base_url=ui.url) as http:
        page = http.get(f"/runs/{run_id}/debug", params={"event": 4, "query": "current_stage"})
        assert page.status_code == 200
        assert '<span id="cursor">4</span>' in page.text
        assert 'id="query-answer">&#34;greeted&#34;</pre>' in page.text
        assert re.search(r'<th>stage</th><td><code>&#34;greeted&#34;</code>', page.text)
        assert re.search(r'id="dbg-event-2">.*?workflows\.py:\d+: greeting = await '
                         r'workflow\.execute_activity', page.text, re.S)
        early = http.get(f"/runs/{run_id}/debug", params={"event": 1,
                                                          "query": "item_count"})
        assert 'id="query-answer">0</pre>' in early.text
        bad = http.get(f"/runs/{run_id}/debug", params={"event": 4, "query": "item_count",
                                                        "args": "[1,"})
        assert "the arguments are not JSON" in bad.text


def test_the_debugger_shows_a_divergence_side_by_side(loop_thread: LoopThread,
                                                      client: Client, worker: RunningWorker,
                                                      ui_factory: UiFactory) -> None:
    run_id = finish(loop_thread, client, "div-1")
    ui = ui_factory(workflows=[OrderChanged])
    page = httpx.get(f"{ui.url}/runs/{run_id}/debug", params={"event": 15})
    assert 'id="divergence"' in page.text
    assert "RPL-ND" in page.text
    row = re.search(r'<tr class="bad"><td>([^<]*)</td><td>([^<]*)</td></tr>', page.text)
    assert row is not None
    assert "ActivityScheduled" in row.group(1) and "timer" in row.group(2).lower()


def test_the_debugger_asks_for_the_code_when_the_ui_has_none(
        loop_thread: LoopThread, client: Client, worker: RunningWorker,
        ui_factory: UiFactory) -> None:
    run_id = finish(loop_thread, client, "nocode-1")
    page = httpx.get(f"{ui_factory(workflows=[]).url}/runs/{run_id}/debug")
    assert 'id="no-code"' in page.text and "--workflows MODULE" in page.text


def test_an_action_needs_the_csrf_token_and_a_confirmation(
        loop_thread: LoopThread, client: Client, ui_factory: UiFactory) -> None:
    start_order(loop_thread, client, "act-1")  # no worker: the run stays open
    run = client.store.latest_run("act-1")
    assert run is not None
    ui = ui_factory()
    before = client.store.last_event_id(run.run_id)
    with httpx.Client(base_url=ui.url, follow_redirects=True) as http:
        token = csrf_of(http.get(f"/runs/{run.run_id}").text)
        url = f"/runs/{run.run_id}/actions/signal"
        forged = http.post(url, data={"name": "approve", "confirmed": "yes"})
        assert forged.status_code == 403 and "CSRF token" in forged.text
        wrong = http.post(url, data={"name": "approve", "confirmed": "yes", "csrf": "0" * 64})
        assert wrong.status_code == 403
        other_site = http.post(url, data={"name": "approve", "confirmed": "yes",
                                          "csrf": token},
                               headers={"Origin": "http://evil.example"})
        assert other_site.status_code == 403 and "another site" in other_site.text
        with httpx.Client(base_url=ui.url) as stranger:  # another browser: its own session
            stranger.get("/")
            assert stranger.post(url, data={"name": "approve", "confirmed": "yes",
                                            "csrf": token}).status_code == 403
        asked = http.post(url, data={"name": "add_item", "args": '["tea"]', "csrf": token})
        assert asked.status_code == 200 and 'id="confirm-form"' in asked.text
        assert client.store.last_event_id(run.run_id) == before  # nothing written yet
        bad_args = http.post(url, data={"name": "add_item", "args": '["tea"', "csrf": token,
                                        "confirmed": "yes"})
        assert bad_args.status_code == 400 and "the arguments are not JSON" in bad_args.text
        assert client.store.last_event_id(run.run_id) == before
        done = http.post(url, data={"name": "add_item", "args": '["tea"]', "csrf": token,
                                    "confirmed": "yes"})
        assert done.status_code == 200 and "signal add_item sent" in done.text
    last = client.store.read(run.run_id)[-1]
    assert isinstance(last, SignalReceived) and last.args == ["tea"]


def test_terminate_from_the_ui_ends_the_run(loop_thread: LoopThread, client: Client,
                                            ui_factory: UiFactory) -> None:
    start_order(loop_thread, client, "term-1")
    run = client.store.latest_run("term-1")
    assert run is not None
    ui = ui_factory()
    with httpx.Client(base_url=ui.url, follow_redirects=True) as http:
        token = csrf_of(http.get(f"/runs/{run.run_id}").text)
        done = http.post(f"/runs/{run.run_id}/actions/terminate",
                         data={"reason": "from a test", "csrf": token, "confirmed": "yes"})
        assert "terminated" in done.text
        assert 'id="run-status">terminated</span>' in done.text
    last = client.store.read(run.run_id)[-1]
    assert isinstance(last, WorkflowTerminated) and last.reason == "from a test"


def test_a_refused_action_says_why_and_writes_nothing(loop_thread: LoopThread,
                                                      client: Client, worker: RunningWorker,
                                                      ui_factory: UiFactory) -> None:
    run_id = finish(loop_thread, client, "closed-1")
    ui = ui_factory()
    before = client.store.last_event_id(run_id)
    with httpx.Client(base_url=ui.url) as http:
        token = csrf_of(http.get("/").text)
        refused = http.post(f"/runs/{run_id}/actions/signal",
                            data={"name": "approve", "csrf": token, "confirmed": "yes"})
    assert refused.status_code == 400
    assert 'id="action-error"' in refused.text and "RPL-" in refused.text
    assert client.store.last_event_id(run_id) == before


def test_the_stream_says_when_an_open_run_changes(loop_thread: LoopThread, client: Client,
                                                  ui_factory: UiFactory) -> None:
    handle = start_order(loop_thread, client, "live-1")
    run = client.store.latest_run("live-1")
    assert run is not None
    ui = ui_factory()
    after = client.store.last_event_id(run.run_id)
    with httpx.Client(base_url=ui.url, timeout=60) as http, http.stream(
            "GET", f"/runs/{run.run_id}/stream", params={"after": after}) as stream:
        loop_thread.call(lambda: handle.signal(Order.add_item, "jam"))
        # the first event after the signal (keep-alive comments and blank separators
        # may come first on a slow machine)
        lines = (line for line in stream.iter_lines() if line and not line.startswith(":"))
        seen = [next(lines) for _ in range(2)]
    assert seen == ["event: changed", f"data: {after + 1}"]


def test_a_token_guards_every_request(client: Client, ui_factory: UiFactory) -> None:
    ui = ui_factory(token="s3cret")
    with httpx.Client(base_url=ui.url) as http:
        refused = http.get("/")
        assert refused.status_code == 401 and "?token=" in refused.text
        assert http.get("/?token=wrong").status_code == 401
        assert http.get("/?token=s3cret").status_code == 200
        assert http.get("/api/counts").status_code == 200  # the cookie carries it now
    bearer = httpx.get(f"{ui.url}/api/counts", headers={"Authorization": "Bearer s3cret"})
    assert bearer.status_code == 200


def test_binding_beyond_loopback_needs_a_token() -> None:
    check_binding("127.0.0.1", None)
    check_binding("::1", None)
    check_binding("0.0.0.0", "s3cret")
    with pytest.raises(UiBindingError) as caught:
        check_binding("0.0.0.0", None)
    assert caught.value.code == "RPL-UI01"
    assert "--token" in str(caught.value) and "'0.0.0.0'" in str(caught.value)
