"""The code generator overrides Jinja's private `CodeGenerator._output_child_to_const`
(jinja2 is pinned below 3.2): these fail when a Jinja release changes what it relies on.

What it relies on: Jinja still folds a constant output expression while compiling, even with
`optimized=False` (or the override is no longer needed); it does so through this method, with
this signature, once per output child; and `Impossible` raised there leaves the child to be
evaluated at run time."""

from __future__ import annotations

import inspect
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.sandbox import ImmutableSandboxedEnvironment

from flowmaestro.activities.templating.codegen import ITER
from flowmaestro.activities.templating.sandbox import ENV

TEMPLATE = "a{{ 12345 * 2 }}b"
FOLDED = "24690"


def test_stock_jinja_still_computes_outputs_while_compiling() -> None:
    stock = ImmutableSandboxedEnvironment(optimized=False)
    assert FOLDED in stock.compile(TEMPLATE, raw=True)


def test_it_folds_through_the_method_we_override() -> None:
    assert list(inspect.signature(CodeGenerator._output_child_to_const).parameters) == [
        "self",
        "node",
        "frame",
        "finalize",
    ]
    seen: list[str] = []

    class Spy(CodeGenerator):
        def _output_child_to_const(self, node: nodes.Expr, frame: Any, finalize: Any) -> str:
            seen.append(type(node).__name__)
            return str(super()._output_child_to_const(node, frame, finalize))

    env = ImmutableSandboxedEnvironment(optimized=False)
    env.code_generator_class = Spy
    env.compile(TEMPLATE, raw=True)
    assert seen == ["TemplateData", "Mul", "TemplateData"]


def test_ours_computes_nothing_while_compiling_and_keeps_text_constant() -> None:
    source = ENV.compile(TEMPLATE, raw=True)
    assert FOLDED not in source
    assert "environment.call_binop(context, '*', 12345, 2)" in source
    assert "yield 'a'" in source and "yield 'b'" in source


def test_ours_counts_every_loop_and_charges_every_literal() -> None:
    source = ENV.compile("{% for x in [1, 2] %}{{ x }}{% endfor %}", raw=True)
    assert f"resolve({ITER!r})" in source
    assert "environment.built([1, 2])" in source
