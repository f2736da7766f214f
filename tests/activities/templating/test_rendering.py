from __future__ import annotations

import pytest
from pydantic import JsonValue

from flowmaestro.activities.templating import render
from flowmaestro.flows.errors import TemplateError
from flowmaestro.security import Limits

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
    # A lone expression's Undefined fails through Jinja's private
    # `Undefined._fail_with_undefined_error` (rendering.py): this is its test.
    with pytest.raises(TemplateError, match=problem):
        render(template, CONTEXT, LIMITS)


def test_non_json_results_are_refused() -> None:
    with pytest.raises(TemplateError, match="not a JSON value"):
        render("{{ range }}", {"range": range}, LIMITS)


@pytest.mark.parametrize(
    "template",
    [
        "{{ '{:>99999999}'.format(1) }}",
        "{{ '{:{}}'.format(1, 999999999) }}",
        "{{ '%0999999d' % 1 }}",
        "{{ 'ab'.center(10**8) }}",
        "{{ [1] * 10**8 }}",
        "{{ 2 ** 100000 }}",
    ],
)
def test_results_too_big_are_refused_before_they_are_built(template: str) -> None:
    with pytest.raises(TemplateError) as refused:
        render(template, CONTEXT, LIMITS)
    assert refused.value.type == "template_limit"


def test_ordinary_formatting_and_loops_work_within_the_budget() -> None:
    assert render("{{ '{0}-{1:>3}'.format(1, 2) }}", CONTEXT, LIMITS) == "1-  2"
    assert render("{{ '%.2f' | format(3.14159) }}", CONTEXT, LIMITS) == "3.14"
    assert render("{% for i in range(3) %}{{ loop.index }}{% endfor %}", CONTEXT, LIMITS) == "123"


def test_every_loop_iteration_counts() -> None:
    limits = Limits(template_max_operations=1000)
    assert render("{% for i in range(900) %}{% endfor %}", CONTEXT, limits) == ""
    with pytest.raises(TemplateError, match="TEMPLATE_MAX_OPERATIONS"):
        render("{% for i in range(2000) %}{% endfor %}", CONTEXT, limits)
