"""The throwaway PostgreSQL server of the tests: ``fixtures/postgres_server.py``.

It lives with the shared workload (below both the tests and the benchmarks, which
start one too); this module keeps the tests' imports and ``python -m
tests.postgres_server`` working.
"""

from __future__ import annotations

from fixtures.postgres_server import (
    ENV_URL,
    Server,
    ServerUnavailable,
    drop_schema,
    main,
    start,
)

__all__ = ["ENV_URL", "Server", "ServerUnavailable", "drop_schema", "main", "start"]

if __name__ == "__main__":
    raise SystemExit(main())
