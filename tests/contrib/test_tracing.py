"""TracingInterceptor: the span tree of a workflow with an activity, a signal and a
child, in one process and across processes with a worker SIGKILLed in the middle."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk", reason="the tracing tests need opentelemetry-sdk")

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from replay.client import Client
from replay.contrib.opentelemetry import TracingInterceptor
from replay.history import ActivityCompleted
from replay.worker import Worker

from .otel_workflows import ACTIVITIES, QUEUE, WORKFLOWS, Parent

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def exporter() -> Iterator[tuple[InMemorySpanExporter, TracerProvider]]:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    yield spans, provider
    provider.shutdown()


def _tree(spans: list[dict[str, Any]]) -> dict[str, str | None]:
    """span name -> its parent's name (every name must be unique in these tests)."""
    by_id = {s["span_id"]: s for s in spans}
    names = [s["name"] for s in spans]
    assert len(names) == len(set(names)), f"duplicate spans: {sorted(names)}"
    return {s["name"]: by_id[s["parent_id"]]["name"] if s["parent_id"] in by_id else None
            for s in spans}


def _as_dicts(spans: tuple[ReadableSpan, ...]) -> list[dict[str, Any]]:
    out = []
    for span in spans:
        ctx = span.get_span_context()
        assert ctx is not None
        out.append({"name": span.name, "trace_id": ctx.trace_id, "span_id": ctx.span_id,
                    "parent_id": span.parent.span_id if span.parent else None})
    return out


EXPECTED_TREE = {
    "StartWorkflow:Parent": None,
    "RunWorkflow:Parent": "StartWorkflow:Parent",
    "StartActivity:compose": "StartWorkflow:Parent",
    "RunActivity:compose": "StartActivity:compose",
    "SignalWorkflow:proceed": None,
    "HandleSignal:proceed": "SignalWorkflow:proceed",
    "StartChildWorkflow:Child": "StartWorkflow:Parent",
    "RunWorkflow:Child": "StartChildWorkflow:Child",
}


async def test_one_process_gives_one_tree_with_headers_across_the_store(
        tmp_path: Path, exporter: tuple[InMemorySpanExporter, TracerProvider]) -> None:
    spans, provider = exporter
    tracing = TracingInterceptor(provider.get_tracer("test"))
    client = await Client.connect(f"sqlite:///{tmp_path / 'otel.db'}", interceptors=[tracing])
    try:
        async with Worker(client, task_queue=QUEUE, workflows=WORKFLOWS,
                          activities=ACTIVITIES):
            handle = await client.start_workflow(Parent.run, "ada", id="otel-1",
                                                 task_queue=QUEUE)
            await handle.signal(Parent.proceed)
            assert await handle.result() == "HELLO, ADA"
    finally:
        client.close()
    found = _as_dicts(spans.get_finished_spans())
    assert _tree(found) == EXPECTED_TREE
    start = next(s for s in found if s["name"] == "StartWorkflow:Parent")
    in_trace = {s["name"] for s in found if s["trace_id"] == start["trace_id"]}
    assert in_trace == {n for n, p in EXPECTED_TREE.items() if "proceed" not in n}


async def test_replaying_a_run_reports_no_span(
        tmp_path: Path, exporter: tuple[InMemorySpanExporter, TracerProvider]) -> None:
    from replay.worker import Replayer

    spans, provider = exporter
    tracing = TracingInterceptor(provider.get_tracer("test"))
    client = await Client.connect(f"sqlite:///{tmp_path / 'otel.db'}", interceptors=[tracing])
    try:
        async with Worker(client, task_queue=QUEUE, workflows=WORKFLOWS,
                          activities=ACTIVITIES):
            handle = await client.start_workflow(Parent.run, "bo", id="otel-2",
                                                 task_queue=QUEUE)
            await handle.signal(Parent.proceed)
            await handle.result()
        history = await handle.fetch_history()
    finally:
        client.close()
    before = len(spans.get_finished_spans())
    result = await Replayer(workflows=WORKFLOWS, interceptors=[tracing]).replay_workflow(history)
    assert result.replay_failure is None
    assert len(spans.get_finished_spans()) == before


WORKER_SCRIPT = """
import asyncio, json, sys
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from replay.client import Client
from replay.contrib.opentelemetry import TracingInterceptor
from replay.worker import Worker
from tests.contrib.otel_workflows import ACTIVITIES, QUEUE, WORKFLOWS

class Lines(SpanExporter):
    def __init__(self, path): self.file = open(path, "a", encoding="utf-8")
    def export(self, spans):
        for s in spans:
            c = s.get_span_context()
            self.file.write(json.dumps({"name": s.name, "trace_id": c.trace_id,
                "span_id": c.span_id, "parent_id": s.parent.span_id if s.parent else None}) + "\\n")
        self.file.flush()
        return SpanExportResult.SUCCESS

async def main(db, out):
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Lines(out)))
    client = await Client.connect(db, interceptors=[TracingInterceptor(provider.get_tracer("w"))])
    async with Worker(client, task_queue=QUEUE, workflows=WORKFLOWS, activities=ACTIVITIES):
        print("ready", flush=True)
        await asyncio.Event().wait()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def _worker(db: str, out: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT, db, str(out)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


@pytest.mark.slow
async def test_across_processes_a_restarted_worker_adds_no_duplicate(
        tmp_path: Path, exporter: tuple[InMemorySpanExporter, TracerProvider]) -> None:
    spans, provider = exporter
    db = f"sqlite:///{tmp_path / 'otel.db'}"
    worker_spans = tmp_path / "worker-spans.jsonl"
    client = await Client.connect(db, interceptors=[TracingInterceptor(
        provider.get_tracer("client"))])
    first = _worker(db, worker_spans)
    try:
        handle = await client.start_workflow(Parent.run, "cy", id="otel-3", task_queue=QUEUE)
        async for event in _events(client, "otel-3"):
            if isinstance(event, ActivityCompleted):
                break
        # the activity's result is recorded: the run now waits for the signal; kill the
        # worker that ran its first activations, start another, and let it finish the run
        first.send_signal(signal.SIGKILL)
        first.wait(60)
        second = _worker(db, worker_spans)
        try:
            await handle.signal(Parent.proceed)
            assert await handle.result() == "HELLO, CY"
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(60)
        client.close()
    found = _as_dicts(spans.get_finished_spans()) + [
        json.loads(line) for line in worker_spans.read_text().splitlines()]
    assert _tree(found) == EXPECTED_TREE


async def _events(client: Client, workflow_id: str) -> Any:
    run = client.store.latest_run(workflow_id)
    assert run is not None
    async for event in client.store.tail(run.run_id):
        yield event
