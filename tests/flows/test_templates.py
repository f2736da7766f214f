"""The static half of templating: what a flow's templates refer to, found by parsing alone."""

from __future__ import annotations

import pytest

from flowmaestro.flows.errors import TemplateError
from flowmaestro.flows.templates import references


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
