"""A safe arithmetic parser (recursive descent; nothing is ever evaluated as Python).

Grammar: expr = term (('+'|'-') term)*; term = unary (('*'|'/'|'//'|'%') unary)*;
unary = ('+'|'-') unary | power; power = atom (('^'|'**') unary)?;
atom = number | name '(' expr (',' expr)* ')' | name | '(' expr ')'.

Bounded: at most 1000 characters, 50 nested parentheses/unary signs, exponents up to 1000;
a result must be a finite number. Every failure is a `ToolError` the model is told about.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from flowmaestro.activities.agent.errors import ToolError

_TOKEN = re.compile(
    r"\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|([A-Za-z_]\w*)|(\*\*|//|[-+*/%^(),]))"
)
_MAX_LENGTH = 1000
_MAX_EXPONENT = 1000
_MAX_DEPTH = 50

_FUNCTIONS: dict[str, Callable[..., float]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "min": min,
    "max": max,
    "log": math.log,
    "exp": math.exp,
}
_CONSTANTS = {"pi": math.pi, "e": math.e}


def evaluate(expression: str) -> float:
    """The value of `expression`; `ToolError` (type `invalid_expression`) when it has none."""
    if len(expression) > _MAX_LENGTH:
        raise ToolError(
            f"expression longer than {_MAX_LENGTH} characters", type="invalid_expression"
        )
    parser = _Parser(_tokenize(expression))
    try:
        value = float(parser.expression())
        if parser.peek() is not None:
            raise ToolError(f"unexpected {parser.peek()!r}", type="invalid_expression")
    except (ZeroDivisionError, OverflowError, ValueError, TypeError, RecursionError) as exc:
        raise ToolError(f"{expression!r}: {exc}", type="invalid_expression") from exc
    if not math.isfinite(value):
        raise ToolError(f"{expression!r} is not a finite number", type="invalid_expression")
    return value


def _tokenize(expression: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = expression.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ToolError(
                f"unexpected character at {pos}: {text[pos : pos + 10]!r}",
                type="invalid_expression",
            )
        tokens.append(match.group(match.lastindex or 0))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self._tokens = tokens
        self._pos = 0
        self._depth = 0

    def _enter(self) -> None:
        self._depth += 1
        if self._depth > _MAX_DEPTH:
            raise ToolError(f"nested deeper than {_MAX_DEPTH} levels", type="invalid_expression")

    def peek(self) -> str | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _next(self) -> str:
        token = self.peek()
        if token is None:
            raise ToolError("unexpected end of expression", type="invalid_expression")
        self._pos += 1
        return token

    def _expect(self, token: str) -> None:
        if self._next() != token:
            raise ToolError(f"expected {token!r}", type="invalid_expression")

    def expression(self) -> float:
        value = self._term()
        while self.peek() in ("+", "-"):
            value = value + self._term() if self._next() == "+" else value - self._term()
        return value

    def _term(self) -> float:
        value = self._unary()
        while self.peek() in ("*", "/", "//", "%"):
            op = self._next()
            right = self._unary()
            if op == "*":
                value *= right
            elif op == "/":
                value /= right
            elif op == "//":
                value //= right
            else:
                value %= right
        return value

    def _unary(self) -> float:
        if self.peek() in ("+", "-"):
            sign = -1 if self._next() == "-" else 1
            self._enter()
            value = sign * self._unary()
            self._depth -= 1
            return value
        return self._power()

    def _power(self) -> float:
        base = self._atom()
        if self.peek() in ("^", "**"):
            self._next()
            self._enter()
            exponent = self._unary()
            self._depth -= 1
            if abs(exponent) > _MAX_EXPONENT:
                raise ToolError(f"exponent {exponent} is too large", type="invalid_expression")
            return float(base**exponent)
        return base

    def _atom(self) -> float:
        token = self._next()
        if token == "(":
            self._enter()
            value = self.expression()
            self._expect(")")
            self._depth -= 1
            return value
        if token[0].isdigit() or token[0] == ".":
            return float(token)
        if token in _CONSTANTS:
            return _CONSTANTS[token]
        if token in _FUNCTIONS:
            self._expect("(")
            self._enter()
            args = [self.expression()]
            while self.peek() == ",":
                self._next()
                args.append(self.expression())
            self._expect(")")
            self._depth -= 1
            return float(_FUNCTIONS[token](*args))
        raise ToolError(f"unknown name or symbol {token!r}", type="invalid_expression")
