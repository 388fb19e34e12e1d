"""Output formats of the lint and its command line (``replay lint PATH...``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import attrs

from ._lint import Finding, lint_paths
from ._rules import RULES


def format_text(findings: Sequence[Finding]) -> str:
    """One ``path:line:col: CODE message (use: ...)`` line per finding."""
    return "".join(
        f"{f.path}:{f.line}:{f.col}: {f.code} {f.message} (use: {f.instead})\n" for f in findings
    )


def format_json(findings: Sequence[Finding]) -> str:
    """A JSON array of objects with path, line, col, code, message and instead."""
    return json.dumps([attrs.asdict(f) for f in findings], indent=2) + "\n"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="replay lint",
        description="Report nondeterministic calls and shared-state writes in workflow code.",
        epilog="codes: " + ", ".join(f"{r.code} {r.title}" for r in RULES),
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="Python files or directories")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--select",
        action="append",
        metavar="CODE",
        help="only codes starting with CODE (repeat or separate with commas)",
    )
    return parser


def lint_main(argv: Sequence[str] | None = None) -> int:
    """Run the lint as a command: exit 1 on findings, 0 when clean, 2 on a usage error.

    A missing or unreadable path, or a file that does not parse, is a usage
    error (exit 2, message on stderr).
    """
    try:
        args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exit_:  # argparse's own exit: 0 for --help, 2 for bad usage
        return exit_.code if isinstance(exit_.code, int) else 2
    select = None
    if args.select:
        select = [code.strip() for item in args.select for code in item.split(",") if code]
    try:
        findings = lint_paths(args.paths, select=select)
    except (OSError, SyntaxError, UnicodeDecodeError) as error:
        print(f"replay lint: error: {error}", file=sys.stderr)
        return 2
    output = format_json(findings) if args.format == "json" else format_text(findings)
    sys.stdout.write(output)
    return 1 if findings else 0
