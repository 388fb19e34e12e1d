"""Worker metrics as OpenTelemetry instruments, and a Prometheus endpoint for them.

``OpenTelemetryMetrics`` is a :class:`replay.worker.WorkerMetrics` sink: give it to
``Worker(metrics=...)``. Instruments (units in brackets; attributes in braces):

| instrument | kind | attributes |
|---|---|---|
| ``replay.workflow_tasks`` | counter | {workflow_type, outcome: completed/failed} |
| ``replay.workflow_task.duration`` [s] | histogram | {workflow_type} |
| ``replay.activity_attempts`` | counter | {activity_type, outcome: see ACTIVITY_OUTCOMES} |
| ``replay.activity.schedule_to_start`` [s] | histogram | {activity_type} |
| ``replay.activity.duration`` [s] | histogram | {activity_type, outcome} |
| ``replay.runs_closed`` | counter | {workflow_type, status} |
| ``replay.run.end_to_end`` [s] | histogram | {workflow_type, status} |
| ``replay.sticky_cache.lookups`` | counter | {result: hit/miss} |
| ``replay.sticky_cache.evictions`` | counter | |
| ``replay.store.commit.duration`` [s] | histogram | |
| ``replay.store.commit.batches`` | histogram | |
| ``replay.runs`` | observable gauge | {status} (read from the store at collection) |
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs
from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Histogram, Meter, Observation

from replay.exceptions import ReplayError
from replay.history import RUN_STATUSES, Store
from replay.worker import WorkerMetrics

__all__ = ["OpenTelemetryMetrics", "PrometheusEndpoint", "serve_prometheus"]

#: Bucket boundaries of the duration histograms, in seconds (advice to the SDK).
SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
           10.0, 30.0, 60.0, 300.0, 1800.0)
#: Bucket boundaries of the commit size histogram, in batches.
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class OpenTelemetryMetrics(WorkerMetrics):
    """Records a worker's metrics with ``meter`` (default: the global meter provider's
    ``replay`` meter). With ``store``, ``replay.runs`` counts its runs by status each
    time the metrics are collected."""

    def __init__(self, meter: Meter | None = None, *, store: Store | None = None,
                 statuses: Sequence[str] = RUN_STATUSES) -> None:
        meter = meter or metrics.get_meter("replay")
        self.store = store
        self.statuses = tuple(statuses)
        def seconds(name: str, description: str) -> Histogram:
            return meter.create_histogram(name, unit="s", description=description,
                                          explicit_bucket_boundaries_advisory=SECONDS)

        self._tasks = meter.create_counter(
            "replay.workflow_tasks", description="Workflow tasks by outcome")
        self._task_time = seconds("replay.workflow_task.duration",
                                  "From taking a workflow task to recording its outcome")
        self._attempts = meter.create_counter(
            "replay.activity_attempts", description="Activity attempts by outcome")
        self._to_start = seconds("replay.activity.schedule_to_start",
                                 "How long an activity attempt waited to start")
        self._attempt_time = seconds("replay.activity.duration", "How long an attempt ran")
        self._closed = meter.create_counter(
            "replay.runs_closed", description="Runs this worker ended, by status")
        self._end_to_end = seconds("replay.run.end_to_end", "From a run's start to its end")
        self._lookups = meter.create_counter(
            "replay.sticky_cache.lookups", description="Sticky cache lookups by result")
        self._evictions = meter.create_counter(
            "replay.sticky_cache.evictions", description="Instances evicted from the cache")
        self._commit_time = seconds("replay.store.commit.duration", "One group commit")
        self._commit_size = meter.create_histogram(
            "replay.store.commit.batches", description="Batches in one group commit",
            explicit_bucket_boundaries_advisory=BATCHES)
        if store is not None:
            meter.create_observable_gauge(
                "replay.runs", callbacks=[self._observe_runs],
                description="Runs in the store by status")

    def workflow_task(self, workflow_type: str, outcome: str, seconds: float) -> None:
        self._tasks.add(1, {"workflow_type": workflow_type, "outcome": outcome})
        if outcome == "completed":
            self._task_time.record(seconds, {"workflow_type": workflow_type})

    def activity_attempt(self, activity_type: str, outcome: str,
                         schedule_to_start: float | None, seconds: float) -> None:
        self._attempts.add(1, {"activity_type": activity_type, "outcome": outcome})
        if schedule_to_start is not None:
            self._to_start.record(schedule_to_start, {"activity_type": activity_type})
            self._attempt_time.record(seconds, {"activity_type": activity_type,
                                                "outcome": outcome})

    def run_closed(self, workflow_type: str, status: str, seconds: float) -> None:
        attributes = {"workflow_type": workflow_type, "status": status}
        self._closed.add(1, attributes)
        self._end_to_end.record(seconds, attributes)

    def sticky_cache(self, hit: bool) -> None:
        self._lookups.add(1, {"result": "hit" if hit else "miss"})

    def sticky_cache_evicted(self, count: int) -> None:
        self._evictions.add(count)

    def store_commit(self, seconds: float, batches: int) -> None:
        self._commit_time.record(seconds)
        self._commit_size.record(batches)

    def _observe_runs(self, options: CallbackOptions) -> Iterable[Observation]:
        store = self.store
        if store is None:
            return []
        try:
            return [Observation(store.count_runs(status=s), {"status": s})
                    for s in self.statuses]
        except ReplayError:  # a closed or unavailable store: no reading this time
            return []


@attrs.frozen
class PrometheusEndpoint:
    """A running metrics endpoint: give ``metrics`` to the worker; ``port`` is where it
    listens (the one asked for, or the one the system chose for port 0)."""

    metrics: OpenTelemetryMetrics
    host: str
    port: int
    _server: Any
    _provider: Any

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._provider.shutdown()


def serve_prometheus(port: int, host: str = "127.0.0.1", *, store: Store | None = None
                     ) -> PrometheusEndpoint:
    """Serve a worker's metrics at ``http://HOST:PORT/metrics`` in the Prometheus text
    format: a meter provider with a Prometheus reader on a registry of its own, and
    prometheus_client's HTTP server on a thread. Needs the ``prometheus`` extra
    (``opentelemetry-sdk``, ``opentelemetry-exporter-prometheus``)."""
    try:
        import prometheus_client
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from opentelemetry.sdk.metrics import MeterProvider
    except ImportError as exc:
        raise ImportError("a Prometheus endpoint needs the prometheus extra: "
                          "pip install 'replay-engine[prometheus]'") from exc
    registry = prometheus_client.CollectorRegistry()  # this endpoint's own, not the global
    reader = PrometheusMetricReader(registry=registry)
    provider = MeterProvider(metric_readers=[reader])
    server, _ = prometheus_client.start_http_server(port, addr=host, registry=registry)
    return PrometheusEndpoint(OpenTelemetryMetrics(provider.get_meter("replay"), store=store),
                              host, int(server.server_port), server, provider)
