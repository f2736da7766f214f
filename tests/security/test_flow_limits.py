"""Flows as a weapon: too many nodes, a huge cycle, deep nesting, YAML aliases. Each is a
400 naming its limit (never a 500, never a stalled gateway); the checks themselves are
linear and recursion-free even past the limits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from flowmaestro.flows.errors import FlowError
from flowmaestro.flows.flow import load_flow
from flowmaestro.security import Limits

if TYPE_CHECKING:
    from tests.security.conftest import Stack


def chain(n: int, *, cycle: bool = False) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"id": f"n{i}", "type": "transform", "config": {"output": i}, "after": [f"n{i - 1}"]}
        for i in range(n)
    ]
    nodes[0]["after"] = [f"n{n - 1}"] if cycle else []
    return {"name": "chain", "nodes": nodes}


def refused(response: Any, limit: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert error["details"]["limit"] == f"FLOWMAESTRO_LIMITS__{limit}"
    assert f"FLOWMAESTRO_LIMITS__{limit}" in error["message"]


async def test_a_6000_node_chain_is_refused_by_the_node_limit(stack: Stack) -> None:
    refused(await stack.during(stack.post_flow("mallory", chain(6000))), "MAX_NODES")


async def test_a_2000_node_cycle_is_refused_not_a_500(stack: Stack) -> None:
    refused(await stack.during(stack.post_flow("mallory", chain(2000, cycle=True))), "MAX_NODES")


async def test_deep_nesting_is_refused_before_validation(stack: Stack) -> None:
    deep: Any = 1
    for _ in range(200):
        deep = {"a": deep}
    flow = {"name": "deep", "nodes": [{"id": "d", "type": "transform", "config": {"output": deep}}]}
    refused(await stack.during(stack.post_flow("mallory", flow)), "MAX_FLOW_DEPTH")


async def test_an_oversized_flow_is_refused(stack: Stack) -> None:
    flow = {
        "name": "fat",
        "nodes": [
            {"id": f"n{i}", "type": "transform", "config": {"output": "x" * 10_000}}
            for i in range(200)
        ],
    }
    refused(await stack.during(stack.post_flow("mallory", flow)), "MAX_FLOW_BYTES")


# Past the limits, the checks stay linear and never recurse: an operator may raise them.
UNLIMITED = Limits(max_nodes=100_000, max_flow_bytes=1 << 30)


def test_a_6000_node_chain_checks_in_linear_time() -> None:
    flow = load_flow(chain(6000), UNLIMITED)
    assert flow.order[:3] == ["n0", "n1", "n2"] and len(flow.order) == 6000


def test_a_2000_node_cycle_is_a_flow_error_not_a_recursion_error() -> None:
    with pytest.raises(FlowError, match=r"cycle in after: n0 -> n1999 -> n1998"):
        load_flow(chain(2000, cycle=True), UNLIMITED)


def test_deep_yaml_is_refused_before_it_is_composed() -> None:
    text = "name: deep\nnodes: " + "[" * 100_000 + "]" * 100_000 + "\n"
    with pytest.raises(FlowError) as refused:
        load_flow(text, UNLIMITED)
    assert refused.value.limit == "FLOWMAESTRO_LIMITS__MAX_FLOW_DEPTH"


def test_yaml_aliases_are_refused() -> None:
    laughs = "\n".join(
        ["name: lol", "a: &a [x, x, x, x, x, x, x, x, x]"]
        + [
            f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]"
            for i in range(8)
        ]
        + ["nodes: [{id: n, type: transform, config: {output: *i}}]", ""]
    )
    with pytest.raises(FlowError, match="aliases are not allowed"):
        load_flow(laughs, UNLIMITED)


async def test_json_nested_past_the_parsers_is_a_400(stack: Stack) -> None:
    """Nesting deep enough to trouble JSON decoding or pydantic is refused, not a 500."""
    depth = 5000
    body = '{"flow": {"name": "x", "nodes": [' + "[" * depth + "]" * depth + "]}}"

    async def post() -> int:
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(
                f"{stack.url}/api/executions",
                content=body,
                headers={**stack.headers("mallory"), "Content-Type": "application/json"},
            )
        return response.status_code

    assert await stack.during(post()) == 400
