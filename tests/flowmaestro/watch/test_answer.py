"""Typed answers become the JSON value of the prompt's type; a wrong one says what is wanted."""

from __future__ import annotations

from typing import Any

import pytest

from flowmaestro.watch.answer import AnswerError, parse_answer, question


def prompt(input_type: str, **extra: Any) -> dict[str, Any]:
    return {"prompt": "Go?", "inputType": input_type, **extra}


@pytest.mark.parametrize(
    ("input_type", "text", "value"),
    [
        ("boolean", "y", True),
        ("boolean", " No ", False),
        ("number", "3", 3),
        ("number", "2.5", 2.5),
        ("number", "4.0", 4.0),
        ("text", "  hello ", "hello"),
        ("json", '{"a": [1, null]}', {"a": [1, None]}),
    ],
)
def test_answers_by_type(input_type: str, text: str, value: object) -> None:
    parsed = parse_answer(prompt(input_type), text)
    assert parsed == value
    assert type(parsed) is type(value)


def test_a_choice_by_number_or_by_value() -> None:
    asked = prompt("choice", choices=["red", 7, {"x": 1}])
    assert parse_answer(asked, "1") == "red"
    assert parse_answer(asked, "red") == "red"
    assert parse_answer(asked, "3") == {"x": 1}
    assert parse_answer(asked, '{"x": 1}') == {"x": 1}
    assert question(asked) == 'Go? [1) "red", 2) 7, 3) {"x": 1}]'
    with pytest.raises(AnswerError, match="from 1 to 3"):
        parse_answer(asked, "4")


@pytest.mark.parametrize(
    ("input_type", "text", "message"),
    [("boolean", "maybe", "y or n"), ("number", "ten", "a number"), ("json", "{", "not JSON")],
)
def test_wrong_answers_say_what_is_wanted(input_type: str, text: str, message: str) -> None:
    with pytest.raises(AnswerError, match=message):
        parse_answer(prompt(input_type), text)
    assert question(prompt("boolean")) == "Go? [y/n]"
