"""examples/postgres_demo.py: two worker processes on one PostgreSQL, one SIGKILLed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_postgres_demo_survives_a_killed_worker(postgres_url: str,
                                                    postgres_schemas: Callable[[], str]
                                                    ) -> None:
    url = f"{postgres_url}?schema={postgres_schemas()}"
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "postgres_demo.py"), url],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "killed host-a mid-work (kill -9)" in done.stdout
    assert done.stdout.count("each completed once: True") == 6
    assert "every step completed exactly once" in done.stdout
