"""The code generator: Jinja's, except that nothing a template computes is evaluated while
compiling, and every loop's iterable is counted.

Jinja folds an output expression into a constant at compile time whenever it can, even with
`optimized=False` (it would compute `{{ 3**(3*10**7) }}` while compiling, outside any
budget). The only hook is `CodeGenerator._output_child_to_const`, a private method: jinja2
is pinned below 3.2 and tests/activities/templating/test_codegen.py fails if the behaviour
relied on here changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import nodes as ast
from jinja2.compiler import CodeGenerator

from flowmaestro.flows.templates import walk

ITER = "__fm_counted"
"""The global the generated code wraps each loop's iterable in (budget.counted)."""


class NoFoldingCodeGenerator(CodeGenerator):
    """Never evaluates user expressions while compiling; wraps every loop's iterable so
    its iterations count."""

    def _output_child_to_const(self, node: ast.Expr, frame: Any, finalize: Any) -> str:
        if isinstance(node, ast.TemplateData):
            return str(super()._output_child_to_const(node, frame, finalize))
        raise ast.Impossible()

    def _charged(self, visit: Callable[[Any, Any], None], node: Any, frame: Any) -> None:
        self.write("environment.built(")
        visit(node, frame)
        self.write(")")

    def visit_List(self, node: ast.List, frame: Any) -> None:
        self._charged(super().visit_List, node, frame)

    def visit_Dict(self, node: ast.Dict, frame: Any) -> None:
        self._charged(super().visit_Dict, node, frame)

    def visit_Concat(self, node: ast.Concat, frame: Any) -> None:
        # `a ~ a` builds a string like `a + a` does: charged the same way.
        self._charged(super().visit_Concat, node, frame)

    def visit_Tuple(self, node: ast.Tuple, frame: Any) -> None:
        if node.ctx != "load":  # an assignment's target (`for a, b in ...`)
            super().visit_Tuple(node, frame)
            return
        self._charged(super().visit_Tuple, node, frame)

    def visit_Template(self, node: ast.Template, frame: Any = None) -> None:
        for found in walk(node):
            if isinstance(found, ast.For):
                call = ast.Call(ast.Name(ITER, "load"), [found.iter], [], None, None)
                found.iter = call.set_lineno(found.lineno).set_environment(self.environment)
        super().visit_Template(node, frame)
