"""Rendering Jinja templates over an execution's `inputs` and earlier nodes' outputs
(`nodes`), with a budget, because every template is untrusted. One module per job:

- `budget`: what one render may spend (operations, output, the size of what it builds);
- `codegen`: Jinja's code generator, minus compile-time evaluation, plus counted loops;
- `sandbox`: Jinja's immutable sandbox, charging every operation to the budget;
- `rendering`: `render`, a node config's templates within one budget.

What a flow's templates are and refer to, checked at submission without rendering, is the
flows layer's (flows/templates.py). The hard bound on time (and memory) is the render
process (activities/render_pool.py).
"""

from __future__ import annotations

from flowmaestro.activities.templating.rendering import render

__all__ = ["render"]
