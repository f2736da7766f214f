from __future__ import annotations

import pytest
from pydantic import JsonValue

from activities.errors import TemplateError
from activities.templating import references, render
from security import Limits

LIMITS = Limits()

CONTEXT = {"inputs": {"name": "Ada", "n": 3}, "nodes": {"a": {"items": [1, 2], "ok": True}}}


def test_one_expression_keeps_its_native_type() -> None:
    assert render("{{ inputs.n * 2 }}", CONTEXT, LIMITS) == 6
    assert render("{{ nodes.a.items }}", CONTEXT, LIMITS) == [1, 2]
    assert render(" {{ nodes.a.ok }} ", CONTEXT, LIMITS) is True


def test_mixed_text_renders_to_a_string_and_nesting_is_walked() -> None:
    value: JsonValue = {
        "greeting": ["Hi {{ inputs.name }}!", 7],
        "count": "{{ nodes.a['items'] | length }}",
    }
    assert render(value, CONTEXT, LIMITS) == {"greeting": ["Hi Ada!", 7], "count": 2}
    assert render("{{ inputs.n }} and {{ inputs.n }}", CONTEXT, LIMITS) == "3 and 3"


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{ inputs.missing }}", "has no attribute 'missing'"),
        ("{{ ''.__class__.__mro__ }}", "unsafe"),
        ("{{ inputs.name.__class__ }}", "unsafe|no attribute"),
        ("{{ cycler.__init__.__globals__ }}", "unsafe"),
    ],
)
def test_missing_names_and_unsafe_access_are_errors(template: str, problem: str) -> None:
    with pytest.raises(TemplateError, match=problem):
        render(template, CONTEXT, LIMITS)


def test_non_json_results_are_refused() -> None:
    with pytest.raises(TemplateError, match="not a JSON value"):
        render("{{ range }}", {"range": range}, LIMITS)


def test_references_are_found_statically() -> None:
    refs = references({"x": "{{ nodes.a.b + nodes['c'] }}", "y": ["{{ inputs.k }}", "plain"]})
    assert refs.nodes == {"a", "c"}
    assert refs.inputs == {"k"}


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{ nodes[inputs.which] }}", "refer to nodes as nodes.<name>"),
        ("{{ nodes }}", "refer to nodes as nodes.<name>"),
        ("{{ secrets.key }}", "unknown name 'secrets'"),
        ("{% for x in %}", "syntax error"),
    ],
)
def test_unresolvable_references_are_errors(template: str, problem: str) -> None:
    with pytest.raises(TemplateError, match=problem):
        references(template)
