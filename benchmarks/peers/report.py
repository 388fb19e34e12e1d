"""Render a results.json as the Markdown tables of docs/performance.md.

    python -m benchmarks.peers.report [benchmarks/results.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.4f}"


def _stats(s: dict[str, Any]) -> str:
    return f"{_fmt(s['median'])} [{_fmt(s['min'])}-{_fmt(s['max'])}]"


def table(rows: list[dict[str, Any]]) -> str:
    """metric | replay | peer | ratio (ours/peer) | target, one line per row."""
    out = ["| metric | replay | peer | ratio (ours/peer) | target |", "|---|---|---|---|---|"]
    for r in rows:
        ours = f"{_stats(r['value'])} {r['unit']}"
        peer = r["peer"] or ""
        if r["peer_value"]:
            peer = f"{peer}: {_stats(r['peer_value'])}"
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else ""
        cells = [r["metric"], ours, peer, ratio, r["target"] or ""]
        out.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    notes = [f"* {r['metric']}: {r['note']}" for r in rows if r["note"]]
    return "\n".join(out + (["", *notes] if notes else []))


def machine(m: dict[str, Any]) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    return (f"Python {m['python']} on {m['platform']} ({m['machine']}, {m['cpus']} CPUs), "
            f"SQLite {m['sqlite']}; {versions}")


def main(argv: list[str]) -> None:
    data = json.loads(Path(argv[0] if argv else HERE / "results.json").read_text())
    print(machine(data["machine"]) + (" (quick mode)" if data["quick"] else ""))
    for name, rows in data["sections"].items():
        print(f"\n### {name}\n")
        print(f"SKIPPED: {rows['skipped']}" if isinstance(rows, dict) else table(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
