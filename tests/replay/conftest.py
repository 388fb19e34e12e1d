"""Fixtures of the worker and client tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .workers.harness import close_opened


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """The clients a test opened with ``sqlite_client`` are closed when it ends."""
    yield
    close_opened()
