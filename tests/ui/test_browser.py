"""The UI in a real browser: Debian's Chromium driven by Playwright's Python API.

Runs list, filter, a run's page with its timeline, the debugger stepped to an event
with a query answered there, and a signal sent from the page with the history
updating live. ``REPLAY_UI_SCREENSHOTS=DIR`` (``make screenshots``) also saves the
run page and the debugger as PNG files in DIR (docs/images for docs/ui.md).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from replay.client import Client

from .conftest import LoopThread, RunningWorker, UiServer, start_order, waiting_for_approval
from .workflows import Order

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]


def _chromium() -> str | None:
    for candidate in (os.environ.get("REPLAY_CHROMIUM"), shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = _chromium()
    if executable is None:
        reason = ("no Chromium: install Debian's chromium (scripts/install-chromium.sh, run "
                  "by make test) or set REPLAY_CHROMIUM")
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI must run the browser tests)")
        pytest.skip(reason)
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def _shoot(page: object, name: str) -> None:
    target = os.environ.get("REPLAY_UI_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / name), full_page=True)  # type: ignore[attr-defined]


def test_a_user_browses_filters_debugs_and_signals(
        browser: object, loop_thread: LoopThread, client: Client, worker: RunningWorker,
        ui_factory: Callable[..., UiServer]) -> None:
    for name in ("shop-1", "shop-2"):
        handle = start_order(loop_thread, client, name)

        async def finish(h: object = handle) -> None:
            # signalled once it waits for approval, so its history has one layout
            await waiting_for_approval(client, h.run_id)  # type: ignore[attr-defined]
            await h.signal(Order.add_item, "tea")  # type: ignore[attr-defined]
            await h.signal(Order.approve)  # type: ignore[attr-defined]
            await h.result()  # type: ignore[attr-defined]

        loop_thread.call(finish)
    waiting = start_order(loop_thread, client, "open-1")
    loop_thread.call(lambda: waiting.signal(Order.add_item, "jam"))
    ui = ui_factory()
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    expect = playwright_api.expect
    expect.set_options(timeout=60_000)  # generous: a loaded CI machine renders slowly

    # the runs list, then filtered by id prefix
    page.goto(ui.url + "/")
    expect(page.locator("#runs tbody tr")).to_have_count(6)  # 3 runs, 3 children
    page.fill("input[name=id_prefix]", "shop-")
    page.click("#filters button[type=submit]")
    expect(page.locator("#runs tbody tr")).to_have_count(4)  # 2 runs, 2 children
    expect(page.locator("#runs")).to_contain_text("shop-2")
    expect(page.locator("#runs")).not_to_contain_text("open-1")

    # a run page with its timeline
    page.click("#runs a:text-is('shop-1')")
    expect(page.locator("#run-status")).to_have_text("completed")
    expect(page.locator("#timeline .bar.kind-activity.outcome-completed")).to_have_count(1)
    expect(page.locator("#timeline .bar.kind-child.outcome-completed")).to_have_count(1)
    expect(page.locator("#timeline .mark.kind-signal")).to_have_count(2)
    _shoot(page, "ui-run.png")

    # the debugger, stepped to an event, with a query answered there
    page.click("#debug-link")
    page.click("#dbg-event-4 a")
    expect(page.locator("#cursor")).to_have_text("4")
    page.select_option("#query-form select", "current_stage")
    page.click("#query-form button")
    expect(page.locator("#query-answer")).to_have_text('"greeted"')
    page.click("#step")
    expect(page.locator("#cursor")).to_have_text("5")
    expect(page.locator("#source-line")).to_contain_text("workflow.sleep")
    _shoot(page, "ui-debugger.png")

    # a signal from the open run's page, confirmed, and the page following the run live
    page.goto(ui.url + "/runs/open-1")
    expect(page.locator("#run-status")).to_have_text("running")
    page.fill("#signal-form input[name=name]", "approve")
    page.click("#signal-form button")
    page.click("#confirm")
    expect(page.locator("#done")).to_have_text("signal approve sent")
    expect(page.locator("#run-status")).to_have_text("completed", timeout=120_000)
    expect(page.locator("#run-result")).to_contain_text("Hello, open-1: 42 jam")
    page.close()
