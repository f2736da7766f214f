"""Templates as a weapon: a constant that folds at compile time, loops that block the event
loop, output that floods memory. Each fails its node with `template_limit` naming the node,
without retry, while other users' flows go on; checking a flow evaluates nothing."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from flowmaestro.activities.group_commit import GroupCommitEmitter
from flowmaestro.flows.flow import load_flow
from flowmaestro.flows.start import start_execution
from flowmaestro.workflows.worker import build_worker
from tests.node_services import node_services
from tests.security.conftest import node_failure
from tests.workflows.helpers import events_until

if TYPE_CHECKING:
    from flowmaestro.events.outbox import StoredEvent
    from tests.security.conftest import Stack


def templated(template: str, node_type: str = "transform") -> dict[str, Any]:
    config: dict[str, Any] = {"output": template}
    if node_type == "user_input":
        config = {"prompt": template, "timeout_seconds": 30}
    return {"name": "bomb", "nodes": [{"id": "bomb", "type": node_type, "config": config}]}


def over_budget(events: list[StoredEvent], problem: str) -> None:
    failure = node_failure(events, "bomb")
    assert failure["error"]["type"] == "template_limit", failure
    assert failure["error"]["message"].startswith("node 'bomb': ")
    assert problem in failure["error"]["message"]
    assert (failure["attempt"], failure["willRetry"]) == (1, False)
    assert events[-1].type == "execution:failed"


BOMBS = {
    "constant folded at compile time": ("{{ (3**(3*10**7)) % 7 }}", "integer over"),
    "nested range loops": (
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        "TEMPLATE_MAX_OPERATIONS",
    ),
    "range over the sandbox's own maximum": ("{{ range(100001) | list }}", "TEMPLATE_MAX_RANGE"),
    "string multiplication": ("{{ 'x' * 10**9 }}", "TEMPLATE_MAX_OUTPUT_CHARS"),
    "padding": ("{{ 'x' | center(10**9) }}", "TEMPLATE_MAX_OUTPUT_CHARS"),
    "replace blow-up": (
        "{{ ('a' * 100000) | replace('a', 'b' * 1000) }}",
        "TEMPLATE_MAX_OUTPUT_CHARS",
    ),
    "format width": ("{{ '%0999999999d' | format(1) }}", "format width"),
    "output loop": (
        "{% for i in range(10000) %}{{ 'y' * 1000 }}{% endfor %}",
        "TEMPLATE_MAX_OUTPUT_CHARS",
    ),
}


@pytest.mark.parametrize("name", sorted(BOMBS))
async def test_a_template_bomb_fails_its_node_at_once(stack: Stack, name: str) -> None:
    template, problem = BOMBS[name]
    events = await stack.during(stack.run("mallory", templated(template)))
    over_budget(events, problem)


async def test_a_bomb_in_a_prompt_cannot_stall_the_workflow(stack: Stack) -> None:
    """The workflow shows prompts rendered within the same budget (it never hangs on one);
    the node's activity then fails with template_limit."""
    events = await stack.during(
        stack.run("mallory", templated("{{ (3**(3*10**7)) % 7 }}", "user_input"))
    )
    over_budget(events, "integer over")


async def test_checking_a_flow_evaluates_nothing(stack: Stack) -> None:
    """Submission only parses: the folded constant costs nothing at POST (it fails later,
    in its node, within the budget)."""
    response = await stack.during(stack.post_flow("mallory", templated("{{ 3**(3*10**7) }}")))
    assert response.status_code == 201
    events = await events_until(stack.pool, response.json()["executionId"])
    over_budget(events, "integer over")


async def test_an_oversized_template_is_refused_at_submission(stack: Stack) -> None:
    template = "{{ inputs.x }}" + "a" * stack.limits.max_template_bytes
    flow = {"name": "big", "inputs": {"x": {}}, **templated(template)}
    flow["name"] = "big"
    response = await stack.during(stack.post_flow("mallory", flow, {"x": "1"}))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["details"]["limit"] == "FLOWMAESTRO_LIMITS__MAX_TEMPLATE_BYTES"
    assert error["details"]["nodeId"] == "bomb"


async def test_deeply_nested_template_is_refused_at_submission(stack: Stack) -> None:
    template = "{{ " + "(" * 400 + "1" + ")" * 400 + " }}"
    response = await stack.during(stack.post_flow("mallory", templated(template)))
    assert response.status_code == 400
    assert response.json()["error"]["details"]["limit"] == (
        "FLOWMAESTRO_LIMITS__MAX_TEMPLATE_NESTING"
    )


@pytest.mark.slow
async def test_a_render_over_its_time_is_killed(stack: Stack) -> None:
    """With an operations budget too large to stop it, the render process's hard timeout
    does: the process is killed and replaced, the node fails with template_limit, and the
    next render works."""
    limits = stack.limits.model_copy(
        update={"template_max_operations": 10**12, "template_max_seconds": 0.5}
    )
    queue = f"sec-slow-{uuid.uuid4().hex[:8]}"
    slow = "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"
    async with (
        node_services(stack.pool, limits=limits) as services,
        build_worker(
            stack.temporal.client,
            task_queue=queue,
            emitter=GroupCommitEmitter(stack.pool),
            pool=stack.pool,
            services=services,
        ),
    ):

        async def attack(template: str) -> list[StoredEvent]:
            execution_id = await start_execution(
                stack.temporal.client,
                load_flow(templated(template)),
                "mallory",
                {},
                pool=stack.pool,
                task_queue=queue,
            )
            return await events_until(stack.pool, execution_id, timeout=60)

        events = await stack.during(attack(slow))
        over_budget(events, "TEMPLATE_MAX_SECONDS")
        after = await attack("{{ 6 * 7 }}")
    assert after[-1].type == "execution:completed"
