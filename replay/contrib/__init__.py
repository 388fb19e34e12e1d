"""Optional integrations, each behind its own extra: ``replay.contrib.opentelemetry``
(tracing and metrics: ``pip install 'replay-engine[opentelemetry]'``),
``replay.contrib.pydantic`` (a pydantic data converter:
``pip install 'replay-engine[pydantic]'``)."""

__all__: list[str] = []
