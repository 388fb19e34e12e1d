"""Reading history JSON that came from anywhere, within limits.

A history file is untrusted input. Python's own ``json`` would turn some files
into tracebacks instead of errors: a few hundred thousand nested brackets hit
``RecursionError``, an integer of more than 4300 digits hits the interpreter's
int-string limit, and bytes that are not UTF-8 raise ``UnicodeDecodeError``.
This module refuses each of those with a :class:`HistoryError` that says where,
before ``json`` sees the text, and checks an already parsed document against
the same limits without recursing.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import sys
from typing import Any

from ._errors import HistoryError
from ._limits import MAX_DEPTH

MAX_INT_DIGITS = 4300
"""Most digits an integer may have: the most Python writes by default, so every
integer replay could have written reads back."""

_MAX_INT_BITS = math.ceil(MAX_INT_DIGITS * math.log2(10))
_BOM = b"\xef\xbb\xbf"
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_STRINGS = re.compile(_STRING, re.S)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_BRACKET_TOKENS = re.compile(_STRING + r"|[\[\]{}]", re.S)
_DELTA = {"[": 1, "{": 1, "]": -1, "}": -1}


class _IntTooLong(Exception):
    def __init__(self, digits: int) -> None:
        self.digits = digits


def loads(text: str | bytes, *, source: str | None = None) -> Any:
    """Parse history JSON; HistoryError for bad UTF-8, bad JSON, deep nesting, huge ints."""
    where = source or "<string>"
    if isinstance(text, bytes | bytearray):
        text = decode_utf8(bytes(text), source=where)
    check_text_depth(text, source=where)
    try:
        return json.loads(text, parse_int=_parse_int)
    except _IntTooLong as exc:
        line, column = _int_position(text, exc.digits)
        raise _int_error(f"an integer with {exc.digits} digits at line {line} column "
                         f"{column}", where) from None
    except json.JSONDecodeError as exc:
        raise HistoryError(
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            source=where, rule="json",
        ) from exc


def loads_unchecked(text: str) -> Any:
    """Parse JSON text without the depth check; ``None`` when ``json`` refuses it.

    For callers that check the depth of what they use themselves (and on
    ``None`` take :func:`loads`, which says what is wrong): the text is not
    scanned for its nesting first, and integers are left to the interpreter
    whenever its own int-string limit is within ours, so that a longer
    integer is refused by ``json`` itself. Text nested past the interpreter's
    recursion limit is refused too.
    """
    limit = sys.get_int_max_str_digits()
    try:
        if 0 < limit <= MAX_INT_DIGITS:
            return json.loads(text)
        return json.loads(text, parse_int=_parse_int)
    except (ValueError, RecursionError, _IntTooLong):  # JSONDecodeError is a ValueError
        return None


def decode_utf8(raw: bytes, *, source: str | None = None) -> str:
    """The text of UTF-8 bytes (a leading byte-order mark is allowed and dropped)."""
    skip = len(_BOM) if raw.startswith(_BOM) else 0
    try:
        return raw[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        line = raw.count(b"\n", 0, offset) + 1
        raise HistoryError(
            f"not UTF-8: byte 0x{raw[offset]:02x} at byte offset {offset} (line {line}) "
            f"is {exc.reason}; history files are UTF-8 text",
            source=source, rule="utf-8",
        ) from None


def check_text_depth(text: str, *, source: str | None = None) -> None:
    """Refuse JSON text nesting deeper than MAX_DEPTH, without parsing it.

    Strings are skipped so brackets inside them do not count. On malformed
    text the count can only be too high, never too low, up to the point where
    ``json`` would stop with a syntax error anyway.
    """
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    if not brackets:
        return
    deepest = max(itertools.accumulate(map(_DELTA.__getitem__, brackets)))
    if deepest <= MAX_DEPTH:
        return
    line, column = _depth_position(text)
    raise _depth_error(f"at line {line} column {column}", source)


def check_data_limits(doc: Any, *, source: str | None = None) -> None:
    """Refuse a parsed document that is not plain JSON data or breaks the limits.

    Walks the data with an explicit stack, so a document nested (or linked
    into itself) without end is refused instead of exhausting the stack.
    """
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        kind = type(value)
        if kind is dict or kind is list:
            if depth > MAX_DEPTH:
                raise _depth_error("in the document", source)
            items = value.items() if kind is dict else enumerate(value)
            for key, item in items:
                if kind is dict and type(key) is not str:
                    raise HistoryError(
                        f"an object key is {type(key).__name__} {key!r}; JSON keys are "
                        "strings", source=source, rule="document")
                stack.append((item, depth + 1))
        elif kind is int:
            if value.bit_length() > _MAX_INT_BITS:
                digits = math.floor(value.bit_length() * math.log10(2)) + 1
                raise _int_error(f"an integer of about {digits} digits", source)
        elif kind not in (str, float, bool, type(None)):
            raise HistoryError(
                f"a value of type {kind.__name__} is not JSON data (objects, arrays, "
                "strings, numbers, true, false, null)", source=source, rule="document")


def _parse_int(literal: str) -> int:
    digits = len(literal) - literal.startswith("-")
    if digits > MAX_INT_DIGITS:
        raise _IntTooLong(digits)
    try:
        return int(literal)
    except ValueError:  # the interpreter's int-string limit was set lower than ours
        raise _IntTooLong(digits) from None


def _depth_error(where: str, source: str | None) -> HistoryError:
    return HistoryError(
        f"JSON nested deeper than {MAX_DEPTH} levels {where}; a history nests at most "
        f"{MAX_DEPTH} arrays and objects (a payload or a failure's cause chain is too deep)",
        source=source, rule="depth",
    )


def _int_error(what: str, source: str | None) -> HistoryError:
    return HistoryError(
        f"{what}; integers in a history have at most {MAX_INT_DIGITS} digits",
        source=source, rule="integer-size",
    )


def _line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _depth_position(text: str) -> tuple[int, int]:
    depth = 0
    for match in _BRACKET_TOKENS.finditer(text):
        token = match.group()
        if token[0] == '"':
            continue
        depth += _DELTA[token]
        if depth > MAX_DEPTH:
            return _line_column(text, match.start())
    return _line_column(text, 0)  # not reached: the caller saw the depth


def _int_position(text: str, digits: int) -> tuple[int, int]:
    # an integer literal: not part of a float's fraction or exponent, not followed by one
    run = r"(?<![\d.eE+-])-?\d{" + str(min(digits, MAX_INT_DIGITS)) + r",}(?![\d.eE])"
    pattern = re.compile(_STRING + "|" + run, re.S)
    for match in pattern.finditer(text):
        if match.group()[0] != '"':
            return _line_column(text, match.start())
    return _line_column(text, 0)
