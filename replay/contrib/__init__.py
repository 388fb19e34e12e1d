"""Integrations with other libraries (each needs its extra: ``replay.contrib.pydantic``
needs ``pip install 'replay-engine[pydantic]'``)."""

__all__: list[str] = []
