"""What a worker reports about its work, for metrics: a sink with one method per fact.

The worker calls these as things happen (on its own event loop, so a sink must be
quick and must not block); the base class ignores everything.
``replay.contrib.opentelemetry.OpenTelemetryMetrics`` turns them into
OpenTelemetry instruments (and, with ``replay worker --metrics-port``, a
Prometheus endpoint). Times are seconds.
"""

from __future__ import annotations

__all__ = ["ACTIVITY_OUTCOMES", "WorkerMetrics"]

#: How an activity attempt can end: recorded as the activity's outcome, or retried.
ACTIVITY_OUTCOMES = ("completed", "failed", "retried", "timed_out", "canceled")


class WorkerMetrics:
    """A worker's metrics sink; subclass it and override what you want to count."""

    def workflow_task(self, workflow_type: str, outcome: str, seconds: float) -> None:
        """A workflow task ended: ``outcome`` is ``completed`` (its commands were
        recorded) or ``failed`` (its failure was); ``seconds`` from lease to outcome."""

    def activity_attempt(self, activity_type: str, outcome: str,
                         schedule_to_start: float | None, seconds: float) -> None:
        """An activity attempt ended (``outcome``: one of :data:`ACTIVITY_OUTCOMES`);
        ``schedule_to_start`` is how long the attempt waited to start (None when it
        never started), ``seconds`` how long it ran."""

    def run_closed(self, workflow_type: str, status: str, seconds: float) -> None:
        """A run this worker was executing ended (``status``: completed, failed,
        continued_as_new...); ``seconds`` from its start to its end."""

    def sticky_cache(self, hit: bool) -> None:
        """A workflow task found its run's instance in the sticky cache (or had to
        rebuild it from the history)."""

    def sticky_cache_evicted(self, count: int) -> None:
        """``count`` instances were evicted from the sticky cache to make room."""

    def store_commit(self, seconds: float, batches: int) -> None:
        """A group commit of ``batches`` batches took ``seconds``."""
