"""The list-filter language: tokens, a recursive-descent parser, and its syntax tree.

The grammar (keywords in any case)::

    query      := [ or_expr ] EOF
    or_expr    := and_expr ( OR and_expr )*
    and_expr   := not_expr ( AND not_expr )*
    not_expr   := NOT not_expr | '(' or_expr ')' | predicate
    predicate  := name op literal                        op: = != <> < <= > >=
                | name [NOT] BETWEEN literal AND literal
                | name [NOT] IN '(' literal ( ',' literal )* ')'
                | name STARTS_WITH literal
                | name IS [NOT] NULL
    name       := identifier | `backquoted`
    literal    := 'string' | "string" | number | TRUE | FALSE

Every node keeps the offset of its first character in the query text, so a
later stage (binding names to types) can point at the offending part too.
A mistake raises :class:`ListQueryError` with the position and a caret line.
"""

from __future__ import annotations

import math
from typing import TypeAlias

import attrs

from ._errors import ReplayError


class ListQueryError(ReplayError):
    """A list query is not well formed; ``position`` is the 0-based offset of the mistake."""

    code = "RPL-SA02"

    def __init__(self, query: str, position: int, problem: str) -> None:
        position = max(0, min(position, len(query)))
        line = query.replace("\n", " ").replace("\t", " ")
        super().__init__(
            f"invalid list query at position {position + 1}: {problem}\n"
            f"  {line}\n  {' ' * position}^\n"
            "See docs/list-queries.md for the language.")
        self.query = query
        self.position = position
        self.problem = problem


class ListQueryAttributeError(ListQueryError):
    """A list query names an unknown attribute, or compares one with a value or an
    operator its type does not take."""

    code = "RPL-SA03"


for _cls in (ListQueryError, ListQueryAttributeError):
    _cls.__module__ = "replay.history"
del _cls


# --- tokens ---------------------------------------------------------------------------------

KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN", "STARTS_WITH", "IS", "NULL", "TRUE",
                      "FALSE"})
_UNSUPPORTED = {"ORDER": "ORDER BY is not supported (runs come newest first)",
                "GROUP": "GROUP BY is not supported",
                "LIKE": "LIKE is not supported; use STARTS_WITH"}
_OPERATORS = ("!=", "<>", "<=", ">=", "=", "<", ">")
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}


@attrs.frozen
class Token:
    """``kind`` is NAME, KEYWORD, STRING, NUMBER, OP, LPAREN, RPAREN, COMMA or EOF."""

    kind: str
    text: str
    value: object
    position: int


def tokenize(query: str) -> list[Token]:
    """The tokens of ``query``, ending with EOF; ListQueryError on a stray character."""
    tokens: list[Token] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch in "'\"":
            i = _string(query, i, tokens)
        elif ch == "`":
            end = query.find("`", i + 1)
            if end < 0:
                raise ListQueryError(query, i, "unterminated `name`")
            if end == i + 1:
                raise ListQueryError(query, i, "empty `name`")
            tokens.append(Token("NAME", query[i:end + 1], query[i + 1:end], i))
            i = end + 1
        elif ch.isdigit() or (ch in "-+." and i + 1 < n and (query[i + 1].isdigit() or (
                query[i + 1] == "." and i + 2 < n and query[i + 2].isdigit()))):
            i = _number(query, i, tokens)
        elif ch.isalpha() or ch == "_":
            j = i
            while j < n and (query[j].isalnum() or query[j] == "_"):
                j += 1
            word = query[i:j]
            upper = word.upper()
            if upper in _UNSUPPORTED:
                raise ListQueryError(query, i, _UNSUPPORTED[upper])
            kind = "KEYWORD" if upper in KEYWORDS else "NAME"
            tokens.append(Token(kind, word, upper if kind == "KEYWORD" else word, i))
            i = j
        elif ch in "(),":
            tokens.append(Token({"(": "LPAREN", ")": "RPAREN", ",": "COMMA"}[ch], ch, ch, i))
            i += 1
        else:
            op = next((o for o in _OPERATORS if query.startswith(o, i)), None)
            if op is None:
                raise ListQueryError(query, i, f"unexpected character {ch!r}")
            tokens.append(Token("OP", op, "!=" if op == "<>" else op, i))
            i += len(op)
    tokens.append(Token("EOF", "", None, n))
    return tokens


def _string(query: str, start: int, tokens: list[Token]) -> int:
    quote, i, out = query[start], start + 1, []
    while i < len(query):
        ch = query[i]
        if ch == "\\":
            if i + 1 >= len(query) or query[i + 1] not in _ESCAPES:
                raise ListQueryError(query, i, "unknown escape in a string (use \\\\, \\', "
                                     '\\", \\n or \\t)')
            out.append(_ESCAPES[query[i + 1]])
            i += 2
        elif ch == quote:
            tokens.append(Token("STRING", query[start:i + 1], "".join(out), start))
            return i + 1
        else:
            out.append(ch)
            i += 1
    raise ListQueryError(query, start, "unterminated string (missing closing "
                         f"{quote})")


def _number(query: str, start: int, tokens: list[Token]) -> int:
    j = start + 1
    while j < len(query) and (query[j].isalnum() or query[j] in "._" or (
            query[j] in "+-" and query[j - 1] in "eE")):
        j += 1
    text = query[start:j]
    value: int | float
    try:
        value = int(text, 10)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            raise ListQueryError(query, start, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ListQueryError(query, start, f"{text!r} is not a finite number")
    tokens.append(Token("NUMBER", text, value, start))
    return j


# --- the syntax tree ------------------------------------------------------------------------


@attrs.frozen
class Literal:
    """A value as written: str, int, float or bool."""

    value: str | int | float | bool
    position: int
    text: str


@attrs.frozen
class Compare:
    """``name op value`` (op: = != < <= > >=)."""

    name: str
    position: int
    op: str
    value: Literal


@attrs.frozen
class Between:
    """``name [NOT] BETWEEN low AND high`` (both ends included)."""

    name: str
    position: int
    low: Literal
    high: Literal
    negated: bool = False


@attrs.frozen
class In:
    """``name [NOT] IN (values...)``."""

    name: str
    position: int
    values: tuple[Literal, ...]
    negated: bool = False


@attrs.frozen
class StartsWith:
    """``name STARTS_WITH prefix``."""

    name: str
    position: int
    prefix: Literal


@attrs.frozen
class IsNull:
    """``name IS [NOT] NULL``: the run lacks (or has) the attribute."""

    name: str
    position: int
    negated: bool = False


@attrs.frozen
class And:
    items: tuple[Node, ...]


@attrs.frozen
class Or:
    items: tuple[Node, ...]


@attrs.frozen
class Not:
    item: Node


@attrs.frozen
class MatchAll:
    """The empty query: every run."""


Predicate: TypeAlias = Compare | Between | In | StartsWith | IsNull
Node: TypeAlias = Predicate | And | Or | Not | MatchAll


# --- the parser -----------------------------------------------------------------------------


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = tokenize(query)
        self.i = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        return self.token.kind == "KEYWORD" and self.token.value in words

    def fail(self, expected: str, token: Token | None = None) -> ListQueryError:
        token = token or self.token
        found = "the end of the query" if token.kind == "EOF" else repr(token.text)
        return ListQueryError(self.query, token.position, f"expected {expected}, found {found}")

    def expect_keyword(self, word: str) -> None:
        if not self.at_keyword(word):
            raise self.fail(word)
        self.take()

    def parse(self) -> Node:
        if self.token.kind == "EOF":
            return MatchAll()
        node = self.or_expr()
        if self.token.kind != "EOF":
            if self.token.kind == "RPAREN":
                raise ListQueryError(self.query, self.token.position, "unmatched ')'")
            raise self.fail("AND, OR or the end of the query")
        return node

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.at_keyword("OR"):
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while self.at_keyword("AND"):
            self.take()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_expr(self) -> Node:
        if self.at_keyword("NOT"):
            self.take()
            return Not(self.not_expr())
        if self.token.kind == "LPAREN":
            opening = self.take()
            node = self.or_expr()
            if self.token.kind != "RPAREN":
                if self.token.kind == "EOF":
                    raise ListQueryError(self.query, opening.position,
                                         "this '(' is never closed")
                raise self.fail("')'")
            self.take()
            return node
        return self.predicate()

    def predicate(self) -> Predicate:
        token = self.token
        if token.kind != "NAME":
            raise self.fail("an attribute name, NOT or '('")
        self.take()
        name, pos = str(token.value), token.position
        nxt = self.token
        if nxt.kind == "OP":
            self.take()
            return Compare(name, pos, str(nxt.value), self.literal())
        if self.at_keyword("STARTS_WITH"):
            self.take()
            return StartsWith(name, pos, self.literal())
        if self.at_keyword("IS"):
            self.take()
            negated = self.at_keyword("NOT")
            if negated:
                self.take()
            self.expect_keyword("NULL")
            return IsNull(name, pos, negated)
        negated = self.at_keyword("NOT")
        if negated:
            self.take()
            if not self.at_keyword("BETWEEN", "IN"):
                raise self.fail("BETWEEN or IN after NOT")
        if self.at_keyword("BETWEEN"):
            self.take()
            low = self.literal()
            self.expect_keyword("AND")
            return Between(name, pos, low, self.literal(), negated)
        if self.at_keyword("IN"):
            self.take()
            return In(name, pos, self.literal_list(), negated)
        raise self.fail("an operator (=, !=, <, <=, >, >=, BETWEEN, IN, STARTS_WITH, IS) "
                        f"after {token.text}")

    def literal(self) -> Literal:
        token = self.token
        if token.kind in ("STRING", "NUMBER"):
            self.take()
            value = token.value
            assert isinstance(value, (str, int, float))
            return Literal(value, token.position, token.text)
        if self.at_keyword("TRUE", "FALSE"):
            self.take()
            return Literal(token.value == "TRUE", token.position, token.text)
        raise self.fail("a value (a quoted string, a number, true or false)")

    def literal_list(self) -> tuple[Literal, ...]:
        if self.token.kind != "LPAREN":
            raise self.fail("'(' after IN")
        self.take()
        values = [self.literal()]
        while self.token.kind == "COMMA":
            self.take()
            values.append(self.literal())
        if self.token.kind != "RPAREN":
            raise self.fail("',' or ')'")
        self.take()
        return tuple(values)


def parse(query: str) -> Node:
    """The syntax tree of ``query``; ListQueryError with the position of a mistake."""
    if not isinstance(query, str):
        raise TypeError(f"a list query is a str, got {type(query).__name__}")
    return _Parser(query).parse()
