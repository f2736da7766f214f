"""Review: templates that cost far more than the operations that built them. Aliasing
(`[a] * 40`, `[b, b, b]`) and in-place growth (`a.extend(a)` doubles `a` for one
operation) made a structure of billions of items within a few dozen operations; the prompt
rendered in workflow code (no clock, no memory cap) then held the worker for seconds and
gigabytes; a filter reading a 60,000-character text 3,000 times cost 3,000 operations and
50 seconds. Every container built now counts by its weight, a filter or call costs by the
weight it reads, and the sandbox changes no list or dict in place."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from flowmaestro.activities.templating import render
from flowmaestro.flows.errors import TemplateError
from flowmaestro.security import Limits
from tests.security.conftest import node_failure
from tests.security.test_templates import over_budget, templated

if TYPE_CHECKING:
    from tests.security.conftest import Stack

# The budget of a prompt rendered in workflow code (workflows/execution.py).
PROMPT = Limits(template_max_operations=10_000, template_max_output_chars=64 << 10)

AMPLIFIERS = {
    "list grown in place": (
        '{% set a = ["x"] %}{% for i in range(40) %}{% set _ = a.extend(a) %}{% endfor %}'
        "{{ a | length }}",
        "unsafe",
    ),
    "repeated aliases": (
        '{% set a = ["x" * 1000] * 40 %}{% set b = [a] * 40 %}{% set c = [b] * 40 %}{{ [c] * 40 }}',
        "TEMPLATE_MAX_OUTPUT_CHARS",
    ),
    "literal aliases": (
        '{% set a = "x" * 1000 %}{% set b = [a, a, a, a, a, a, a, a, a, a] %}'
        "{% set c = [b, b, b, b, b, b, b, b, b, b] %}{% set d = [c, c, c, c, c, c, c, c, c, c] %}"
        "{% set e = {'a': d, 'b': d, 'c': d, 'd': d} %}{{ e | string | length }}",
        "TEMPLATE_MAX_OUTPUT_CHARS",
    ),
    "a filter reading a long text in a loop": (
        '{% set s = "a " * 30000 %}{% for i in range(3000) %}{{ s | wordcount }}{% endfor %}',
        # The prompt's budget runs out of operations; a node's may first run out of time.
        "FLOWMAESTRO_LIMITS__TEMPLATE_MAX_",
    ),
    "text doubled by concatenation": (
        '{% set ns = namespace(a="x") %}{% for i in range(28) %}{% set ns.a = ns.a ~ ns.a %}'
        "{% endfor %}{{ ns.a | length }}",
        "TEMPLATE_MAX_OUTPUT_CHARS",
    ),
    "tabs expanded": ('{{ ("\t" * 30000).expandtabs(30000) }}', "TEMPLATE_MAX_OUTPUT_CHARS"),
}


@pytest.mark.parametrize("name", sorted(AMPLIFIERS))
def test_an_amplifier_is_refused_before_it_is_built(name: str) -> None:
    template, problem = AMPLIFIERS[name]
    with pytest.raises(TemplateError) as refused:
        render(template, {}, PROMPT)
    assert problem in str(refused.value)


def test_literals_and_tuple_targets_still_render() -> None:
    template = "{% set a, b = 1, 2 %}{% for x, y in [(a, b)] %}{{ x + y }}{% endfor %}"
    assert render(template, {}, PROMPT) == "3"
    assert render("{{ {'a': [1, (2, 3)]} }}", {}, PROMPT) == {"a": [1, [2, 3]]}


@pytest.mark.parametrize("name", sorted(AMPLIFIERS))
@pytest.mark.slow
async def test_an_amplifier_in_a_prompt_fails_its_node(stack: Stack, name: str) -> None:
    """The workflow's own render of the prompt is refused at once (before: seconds and a
    gigabyte per workflow task, a deadlock retried forever); the node fails without retry."""
    template, problem = AMPLIFIERS[name]
    events = await stack.during(stack.run("mallory", templated(template, "user_input")))
    if problem == "unsafe":
        failure = node_failure(events, "bomb")
        assert (failure["attempt"], failure["willRetry"]) == (1, False), failure
        assert "unsafe" in failure["error"]["message"]
        assert events[-1].type == "execution:failed"
    else:
        over_budget(events, problem)
