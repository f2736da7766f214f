"""Reading a prompt's answer typed in a terminal, by the prompt's input type."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import JsonValue

_YES = {"y", "yes", "true", "1"}
_NO = {"n", "no", "false", "0"}


class AnswerError(ValueError):
    """The typed text is not an answer of the prompt's type; the message says what is."""


def question(prompt: dict[str, Any]) -> str:
    """The line to show: the prompt and what kind of answer it takes."""
    kind = prompt.get("inputType", "text")
    hint = {
        "boolean": "y/n",
        "number": "a number",
        "json": "JSON",
        "text": "text",
    }.get(kind)
    if kind == "choice":
        choices = prompt.get("choices") or []
        hint = ", ".join(f"{i}) {json.dumps(c)}" for i, c in enumerate(choices, 1))
    return f"{prompt.get('prompt', '')} [{hint}]"


def parse_answer(prompt: dict[str, Any], text: str) -> JsonValue:
    """The JSON value of `text` for the prompt; the gateway still checks it against the schema."""
    kind = prompt.get("inputType", "text")
    text = text.strip()
    if kind == "boolean":
        if text.lower() in _YES:
            return True
        if text.lower() in _NO:
            return False
        raise AnswerError("answer y or n")
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise AnswerError("answer a number") from None
        return int(number) if number.is_integer() and "." not in text else number
    if kind == "choice":
        choices: list[JsonValue] = prompt.get("choices") or []
        if text.isdigit() and 1 <= int(text) <= len(choices):
            return choices[int(text) - 1]
        for choice in choices:
            if text == (choice if isinstance(choice, str) else json.dumps(choice)):
                return choice
        raise AnswerError(f"answer a number from 1 to {len(choices)}")
    if kind == "json":
        try:
            value: JsonValue = json.loads(text)
        except ValueError as exc:
            raise AnswerError(f"not JSON: {exc}") from None
        return value
    return text
