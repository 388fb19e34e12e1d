"""Shared test configuration: hypothesis profiles.

Pick one with ``HYPOTHESIS_PROFILE``: ``ci`` (the default: derandomized, so a
run is reproducible, and bounded) or ``soak`` (many more examples, random).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests import postgres_server

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "soak",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# --- PostgreSQL: one throwaway server for the session, a fresh schema per store -----------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a PostgreSQL server for this session (see tests/postgres_server.py).

    Under CI=true a server that cannot be started fails the tests that need it;
    elsewhere they are skipped with the reason.
    """
    try:
        server = postgres_server.start()
    except (postgres_server.ServerUnavailable, ImportError, OSError,
            subprocess.SubprocessError) as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and PostgreSQL could not be started: {exc}", pytrace=False)
        pytest.skip(f"no PostgreSQL server for this test: {exc}")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def postgres_schemas(postgres_url: str) -> Iterator[Callable[[], str]]:
    """A factory of fresh schema names on the session's server, dropped after the test."""
    made: list[str] = []

    def new() -> str:
        made.append(f"t_{uuid.uuid4().hex[:12]}")
        return made[-1]

    yield new
    for schema in made:
        postgres_server.drop_schema(postgres_url, schema)
