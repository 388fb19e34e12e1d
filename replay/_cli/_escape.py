"""The one escaping function for text that reaches a terminal.

Workflow ids, signal names, failure messages, payloads, worker identities and
file names come from histories, payloads and other processes. Printed as they
are, a control sequence in one of them could retitle the terminal, clear the
screen, rewrite earlier lines or reorder text (bidi overrides). Every command
passes such text through :func:`visible`, which shows each of those characters
as a visible escape instead:

* C0 controls as ``\\x1b`` (``\\n``, ``\\t`` and ``\\r`` as themselves escaped);
* DEL, C1 controls (U+0080-U+009F), bidi controls, line and paragraph
  separators and lone surrogates as ``\\u009b``.

Everything escaped at or above U+007F uses the ``\\uXXXX`` form, which is also
a JSON escape: JSON text (where ``json.dumps`` already escaped C0) passed
through :func:`visible` with ``keep_newlines`` is still JSON for the same value.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import click

_SHORT = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_SEPARATORS = (0x2028, 0x2029)

_TABLE: dict[int, str] = {
    **{c: _SHORT.get(chr(c), f"\\x{c:02x}") for c in range(0x20)},
    **{c: f"\\u{c:04x}" for c in (0x7F, *range(0x80, 0xA0), *_BIDI, *_SEPARATORS,
                                    *range(0xD800, 0xE000))},
}
_TABLE_KEEPING_NEWLINES = {c: e for c, e in _TABLE.items() if c != ord("\n")}


def visible(text: Any, *, keep_newlines: bool = False) -> str:
    """``text`` (``str()`` of it) with every control character shown as an escape.

    Values get the default: a newline inside a workflow id or a failure
    message is shown as ``\\n``, so one value stays on one line.
    ``keep_newlines`` is for text whose lines are the command's own layout (a
    multi-line error report, indented JSON): its newlines stay.
    """
    table = _TABLE_KEEPING_NEWLINES if keep_newlines else _TABLE
    return str(text).translate(table)


def json_text(value: Any, *, indent: int | None = None, default: Any = None) -> str:
    """``value`` as JSON for a terminal: control characters as ``\\uXXXX`` escapes.

    ``json.dumps(..., ensure_ascii=False)`` escapes C0 but passes DEL, C1 and
    bidi controls through; :func:`visible` escapes those as JSON escapes too,
    so the output still decodes to ``value``.
    """
    text = json.dumps(value, ensure_ascii=False, indent=indent, default=default)
    return visible(text, keep_newlines=True)


def echo(text: Any = "", *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` of text laid out by a command, escaped (its newlines kept)."""
    click.echo(visible(text, keep_newlines=True), err=err, nl=nl)


class EscapingFormatter(logging.Formatter):
    """Formats a log record, then escapes it: workers log failure text from runs."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record), keep_newlines=True)


def escape_logs(name: str = "replay") -> None:
    """Print warnings and errors of logger ``name`` on stderr, escaped.

    Without a handler, logging's last resort would print them as they are.
    """
    logger = logging.getLogger(name)
    if any(isinstance(h.formatter, EscapingFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(EscapingFormatter())
    logger.addHandler(handler)
