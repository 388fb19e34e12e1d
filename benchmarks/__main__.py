"""Run the benchmark sections, print a table per section, write results.json."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sqlite3
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from ._harness import format_table
from .peers import PEERS, Skipped

HERE = Path(__file__).parent


def _sections() -> list[str]:
    return sorted(p.stem[len("bench_") :] for p in HERE.glob("bench_*.py"))


def _machine() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for dist in ("replay-engine", "attrs", "cattrs", "sqlite-utils", *PEERS):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="reduced sizes, under 2 minutes")
    parser.add_argument("--out", default=str(HERE / "results.json"))
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--peers", action="store_true",
                       help="only the side-by-side sections (peers_*)")
    which.add_argument("--no-peers", action="store_true",
                       help="skip the side-by-side sections")
    parser.add_argument("sections", nargs="*", help=f"any of {', '.join(_sections())}")
    args = parser.parse_args(argv)
    chosen = args.sections or [
        s for s in _sections()
        if not (args.peers and not s.startswith("peers_"))
        and not (args.no_peers and s.startswith("peers_"))]
    results: dict[str, Any] = {"machine": _machine(), "quick": args.quick, "sections": {}}
    for name in chosen:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        try:
            rows = module.run(args.quick)
        except Skipped as skipped:
            print(f"== {module.SECTION} ==\n   SKIPPED: {skipped}\n", flush=True)
            results["sections"][name] = {"skipped": str(skipped)}
            continue
        print(format_table(module.SECTION, rows), flush=True)
        print(flush=True)
        results["sections"][name] = [r.to_json() for r in rows]
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
