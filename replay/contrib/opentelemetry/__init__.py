"""OpenTelemetry for replay: ``TracingInterceptor`` (spans for client calls, workflows,
activities and children, their context carried in headers across processes) and
``OpenTelemetryMetrics`` (a worker's metrics as OpenTelemetry instruments;
``serve_prometheus`` exposes them for Prometheus to scrape).

Needs the ``opentelemetry`` extra (``opentelemetry-api``); the SDK and exporters are
the application's choice. See docs/observability.md.
"""

from __future__ import annotations

try:
    import opentelemetry.trace  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by the packaging test's venv
    raise ImportError(
        "replay.contrib.opentelemetry needs the opentelemetry extra: "
        "pip install 'replay-engine[opentelemetry]'") from exc

from ._metrics import OpenTelemetryMetrics, PrometheusEndpoint, serve_prometheus
from ._tracing import HEADER, TracingInterceptor

__all__ = ["HEADER", "OpenTelemetryMetrics", "PrometheusEndpoint", "TracingInterceptor",
           "serve_prometheus"]
