"""Optional integrations, each behind its own extra: ``replay.contrib.opentelemetry``
(tracing and metrics), ``replay.contrib.pydantic`` (a pydantic data converter)."""
