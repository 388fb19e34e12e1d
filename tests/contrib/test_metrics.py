"""Worker metrics: the OpenTelemetry instruments a run produces, read back with the
SDK's in-memory reader, and the Prometheus endpoint scraped and parsed (in process and
from a ``replay worker --metrics-port`` process)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk.metrics", reason="the metrics tests need the SDK")
pytest.importorskip("opentelemetry.exporter.prometheus", reason="needs the prometheus extra")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client.parser import text_string_to_metric_families

from replay.client import Client
from replay.contrib.opentelemetry import OpenTelemetryMetrics, serve_prometheus
from replay.worker import Worker

from .metrics_workflows import ACTIVITIES, QUEUE, WORKFLOWS, Buggy, Tree

ROOT = Path(__file__).resolve().parent.parent.parent
REPLAY = Path(sys.executable).parent / "replay"


@pytest.fixture
def reader() -> Iterator[tuple[InMemoryMetricReader, MeterProvider]]:
    memory = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[memory])
    yield memory, provider
    provider.shutdown()


def _points(reader: InMemoryMetricReader) -> dict[str, list[tuple[dict[str, Any], Any]]]:
    """instrument name -> [(attributes, data point)]."""
    data = reader.get_metrics_data()
    out: dict[str, list[tuple[dict[str, Any], Any]]] = {}
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                out[metric.name] = [(dict(p.attributes or {}), p)
                                    for p in metric.data.data_points]
    return out


def _count(points: dict[str, list[tuple[dict[str, Any], Any]]], name: str,
           **attributes: str) -> int:
    return sum(int(p.value) for attrs, p in points.get(name, [])
               if all(attrs.get(k) == v for k, v in attributes.items()))


async def test_a_run_is_counted_task_by_task_and_attempt_by_attempt(
        tmp_path: Path, reader: tuple[InMemoryMetricReader, MeterProvider]) -> None:
    memory, provider = reader
    client = await Client.connect(f"sqlite:///{tmp_path / 'm.db'}")
    sink = OpenTelemetryMetrics(provider.get_meter("test"), store=client.store)
    try:
        async with Worker(client, task_queue=QUEUE, workflows=WORKFLOWS,
                          activities=ACTIVITIES, metrics=sink):
            assert await client.execute_workflow(Tree.run, "m1", id="m1",
                                                 task_queue=QUEUE) == 42
        points = _points(memory)  # while the store is open: replay.runs reads it
    finally:
        client.close()
    assert _count(points, "replay.activity_attempts", activity_type="flaky",
                  outcome="retried") == 1
    assert _count(points, "replay.activity_attempts", activity_type="flaky",
                  outcome="completed") == 1
    assert _count(points, "replay.activity_attempts", activity_type="broken",
                  outcome="failed") == 1
    assert _count(points, "replay.runs_closed", workflow_type="Tree", status="completed") == 1
    assert _count(points, "replay.runs_closed", workflow_type="Leaf", status="completed") == 1
    assert _count(points, "replay.workflow_tasks", workflow_type="Tree",
                  outcome="completed") >= 4
    assert _count(points, "replay.workflow_tasks", outcome="failed") == 0
    hits = _count(points, "replay.sticky_cache.lookups", result="hit")
    misses = _count(points, "replay.sticky_cache.lookups", result="miss")
    assert misses >= 2 and hits + misses >= 1  # each run built once, then found cached
    [(_, commits)] = points["replay.store.commit.batches"]
    assert commits.count >= 4 and commits.sum >= commits.count
    [(_, e2e)] = [(a, p) for a, p in points["replay.run.end_to_end"]
                  if a == {"workflow_type": "Tree", "status": "completed"}]
    assert e2e.count == 1 and e2e.sum >= 0
    runs = {a["status"]: p.value for a, p in points["replay.runs"]}
    assert runs["completed"] == 2 and runs["running"] == 0


async def test_a_failing_workflow_task_is_counted(
        tmp_path: Path, reader: tuple[InMemoryMetricReader, MeterProvider]) -> None:
    from replay.history import WorkflowTaskFailed

    memory, provider = reader
    client = await Client.connect(f"sqlite:///{tmp_path / 'm.db'}")
    sink = OpenTelemetryMetrics(provider.get_meter("test"))
    try:
        async with Worker(client, task_queue=QUEUE, workflows=WORKFLOWS,
                          activities=ACTIVITIES, metrics=sink):
            handle = await client.start_workflow(Buggy.run, id="bad", task_queue=QUEUE)
            run = client.store.latest_run("bad")
            assert run is not None
            async for event in client.store.tail(run.run_id):
                if isinstance(event, WorkflowTaskFailed):
                    break
            await handle.terminate(reason="done looking")
    finally:
        client.close()
    assert _count(_points(memory), "replay.workflow_tasks", outcome="failed") >= 1


def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=30) as response:
        text = response.read().decode()
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = {k: v for k, v in sample.labels.items() if not k.startswith("otel_scope")}
            found[(sample.name, tuple(sorted(labels.items())))] = sample.value
    return found


async def test_the_prometheus_endpoint_is_scraped_and_parsed(tmp_path: Path) -> None:
    client = await Client.connect(f"sqlite:///{tmp_path / 'm.db'}")
    endpoint = serve_prometheus(0, store=client.store)
    try:
        async with Worker(client, task_queue=QUEUE, workflows=WORKFLOWS,
                          activities=ACTIVITIES, metrics=endpoint.metrics):
            await client.execute_workflow(Tree.run, "p1", id="p1", task_queue=QUEUE)
        samples = _scrape(endpoint.url)
    finally:
        endpoint.close()
        client.close()
    attempts = {labels: v for (name, labels), v in samples.items()
                if name == "replay_activity_attempts_total"}
    assert attempts[(("activity_type", "flaky"), ("outcome", "retried"))] == 1
    assert attempts[(("activity_type", "broken"), ("outcome", "failed"))] == 1
    assert samples[("replay_runs", (("status", "completed"),))] == 2
    assert any(name == "replay_store_commit_duration_seconds_count" and v >= 1
               for (name, _), v in samples.items())


@pytest.mark.slow
def test_replay_worker_serves_its_metrics(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = subprocess.run(
        [str(REPLAY), "start", "Tree", "--id", "cli-1", "-q", QUEUE,
         "--arg", '"cli-1"', "--db", str(db)], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120)
    assert start.returncode == 0, start.stderr
    proc = subprocess.Popen(
        [str(REPLAY), "worker", "tests.contrib.metrics_workflows",
         "-q", QUEUE, "--db", str(db), "--metrics-port", "0"], cwd=ROOT, env=env,
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        assert proc.stderr is not None
        url = ""
        for line in proc.stderr:
            found = re.search(r"metrics at (http://\S+/metrics)", line)
            if found:
                url = found.group(1)
                break
        assert url, "the worker did not say where its metrics are"
        wait = subprocess.run(
            [str(REPLAY), "show", "cli-1", "--follow", "--db", str(db)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert wait.returncode == 0, wait.stderr
        samples = _scrape(url)
        assert samples[("replay_runs_closed_total",
                        (("status", "completed"), ("workflow_type", "Tree")))] == 1
    finally:
        proc.terminate()
        proc.wait(60)
